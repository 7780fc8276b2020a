"""Range headers, as every front end reads them: with werkzeug's parser, one range or none."""

from __future__ import annotations

from werkzeug.http import parse_range_header

from gshare.files.content import ByteRange


def requested_range(header: str | None) -> ByteRange | None:
    """Return the one byte range a Range header asks for, as werkzeug parses it (see ByteRange).

    None asks for the whole file: no header, one werkzeug cannot parse, another unit, or several
    ranges (answered with the whole file, as RFC 9110 lets a server do).
    """
    asked = parse_range_header(header)
    if asked is None or asked.units != "bytes" or len(asked.ranges) != 1:
        return None
    return asked.ranges[0]
