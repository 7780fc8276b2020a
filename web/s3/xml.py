"""S3's XML: build response documents, read the few request bodies S3 clients send."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import formatdate

import defusedxml.ElementTree
from defusedxml import DefusedXmlException

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
MAX_BODY = 2 * 1024 * 1024


class MalformedXML(ValueError):
    """The request body is not the XML this operation takes."""


def document(root: str, namespace: bool = True) -> ET.Element:
    """Start a response document."""
    return ET.Element(root, {"xmlns": NAMESPACE} if namespace else {})


def add(parent: ET.Element, tag: str, text=None) -> ET.Element:
    """Add a child element, with text when given (bools as 'true'/'false', datetimes ISO)."""
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = _text(text)
    return child


def add_all(parent: ET.Element, fields: Iterable[tuple[str, object]]) -> ET.Element:
    """Add several (tag, text) children; None values are left out."""
    for tag, text in fields:
        if text is not None:
            add(parent, tag, text)
    return parent


def serialize(root: ET.Element) -> bytes:
    """Return the document as UTF-8 bytes with its declaration, written as ElementTree writes
    it (tostring spends most of a long listing's time on namespaces these documents lack)."""
    parts = [DECLARATION]
    _write(root, parts.append)
    return "".join(parts).encode("utf-8")


def _write(element: ET.Element, out) -> None:
    tag = element.tag
    attributes = "".join(f' {k}="{_escape_attribute(v)}"' for k, v in element.items())
    if not element.text and not len(element):
        out(f"<{tag}{attributes} />")
        return
    out(f"<{tag}{attributes}>")
    if element.text:
        out(_escape_text(element.text))
    for child in element:
        _write(child, out)
    out(f"</{tag}>")


def _escape_text(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _escape_attribute(text: str) -> str:
    text = _escape_text(text)
    for raw, escaped in (('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;")):
        if raw in text:
            text = text.replace(raw, escaped)
    return text


def iso_time(moment: datetime) -> str:
    """Return a time as S3 shows it in listings: 2026-01-02T03:04:05.000Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def http_date(moment: datetime) -> str:
    """Return a time as an HTTP date header value."""
    return formatdate(moment.timestamp(), usegmt=True)


def parse(body: bytes) -> ET.Element:
    """Parse a request body (untrusted: no DTD, no entities, no external references) dropping
    namespaces from tags; raise MalformedXML."""
    try:
        root = defusedxml.ElementTree.fromstring(body, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise MalformedXML(str(exc) or type(exc).__name__) from None
    for element in root.iter():
        element.tag = element.tag.rpartition("}")[2]
    return root


def child_text(element: ET.Element, tag: str, default: str | None = None) -> str | None:
    """Return the text of a direct child (empty text as ''), or default when it is absent."""
    child = element.find(tag)
    if child is None:
        return default
    return child.text or ""


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso_time(value)
    return str(value)
