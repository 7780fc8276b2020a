"""GetObjectAttributes: what HeadObject and ListParts tell of an object, in one XML answer."""

from __future__ import annotations

from werkzeug.wrappers import Response

from gshare.s3 import markers, view
from web.s3 import xml
from web.s3.buckets import xml_response
from web.s3.checksum_headers import checksum_elements
from web.s3.errors import S3Error
from web.s3.listing import EMPTY_MD5, delete_marker_response
from web.s3.objects import _version_id

# In S3's order. ObjectParts is never given: gshare keeps no part boundaries once an upload is
# complete (every object is one part, see objects._check_part_number), and S3 leaves it out
# for an object uploaded in one piece.
ATTRIBUTES = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")


def get_object_attributes(request) -> Response:
    """GetObjectAttributes: the attributes x-amz-object-attributes names, of the newest
    version the person may read (or versionId)."""
    wanted = _wanted(request.headers.get("x-amz-object-attributes", ""))
    version_id = _version_id(request.query.get("versionId"), markers=True)
    with request.unit_of_work() as (ctx, actor):
        try:
            found = view.find_object(ctx, actor, request.open_space(ctx), request.key, version_id)
        except markers.DeleteMarkerHit as hit:
            return delete_marker_response(request, hit)
        version = found.version
        root = xml.document("GetObjectAttributesResponse")
        values = {
            "ETag": version.etag if version else EMPTY_MD5,
            "StorageClass": "STANDARD",
            "ObjectSize": version.size if version else 0,
        }
        for name in (a for a in ATTRIBUTES if a in wanted):
            if name == "Checksum" and version is not None and version.checksum:
                xml.add_all(xml.add(root, "Checksum"), checksum_elements(version.checksum))
            elif name in values:
                xml.add(root, name, values[name])
        moment = version.uploaded_at if version else found.node.updated_at
        headers = {"Last-Modified": xml.http_date(moment)}
        if version is not None:
            headers["x-amz-version-id"] = str(version.id)
    return xml_response(root, headers=headers)


def _wanted(header: str) -> set[str]:
    names = {n.strip() for n in header.split(",") if n.strip()}
    if not names:
        raise S3Error(
            "InvalidArgument",
            "The x-amz-object-attributes header specifying the attributes to be retrieved is "
            "either missing or empty",
        )
    unknown = names - set(ATTRIBUTES)
    if unknown:
        raise S3Error(
            "InvalidArgument",
            f"Invalid attribute name specified: {sorted(unknown)[0]}.",
            ArgumentName="x-amz-object-attributes",
        )
    return names
