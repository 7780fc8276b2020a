"""What S3 clients ask of a bucket's or an object's settings: versioning and ACLs.

gshare answers what is true (every space keeps every version; the owner has full control) and
accepts a request that changes nothing. Who else may see a file is gshare's sharing, done in
the web UI: any other ACL is refused with a pointer there.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from gshare.s3 import view
from web.s3 import xml
from web.s3.buckets import empty_response, owner, xml_response
from web.s3.errors import S3Error, malformed_xml
from web.s3.objects import _version_id, read_xml

SHARING = (
    "gshare does not take ACLs other than 'private'. To share a file or folder, open it in "
    "gshare's web UI and use Share: roles for people and departments, or a public link."
)
_GRANT_HEADERS = ("x-amz-grant-",)


def put_versioning(request) -> Response:
    """PutBucketVersioning: Enabled is what every space already is (a no-op); Suspended is
    refused, as S3 refuses it on a bucket that cannot stop keeping versions."""
    root = read_xml(request)
    status = xml.child_text(root, "Status")
    if root.tag != "VersioningConfiguration" or status not in (None, "Enabled", "Suspended"):
        raise malformed_xml()
    if (xml.child_text(root, "MfaDelete") or "Disabled") != "Disabled":
        raise S3Error("NotImplemented", "gshare does not offer MFA delete.", 501)
    with request.unit_of_work() as (ctx, actor):
        request.open_bucket(ctx, actor)
    if status == "Suspended":
        raise S3Error(
            "InvalidBucketState",
            "Every gshare space keeps every version of its files; versioning cannot be suspended.",
            409,
        )
    return empty_response()


def get_bucket_acl(request) -> Response:
    """GetBucketAcl: the person asking owns the bucket, with full control (as ListBuckets)."""
    with request.unit_of_work() as (ctx, actor):
        request.open_bucket(ctx, actor)
        return xml_response(_policy(actor))


def get_object_acl(request) -> Response:
    """GetObjectAcl: the uploader of the version read owns it, with full control."""
    with request.unit_of_work() as (ctx, actor):
        return xml_response(_policy(_object_owner(request, ctx, actor)))


def put_bucket_acl(request) -> Response:
    """PutBucketAcl: 'private' (the owner's full control alone) is accepted as it holds."""
    with request.unit_of_work() as (ctx, actor):
        request.open_bucket(ctx, actor)
        username = actor.username
    _require_private(request, username)
    return empty_response()


def put_object_acl(request) -> Response:
    """PutObjectAcl: 'private' (the owner's full control alone) is accepted as it holds."""
    with request.unit_of_work() as (ctx, actor):
        username = _object_owner(request, ctx, actor).username
    _require_private(request, username)
    return empty_response()


def _object_owner(request, ctx, actor):
    version_id = _version_id(request.query.get("versionId"))
    found = view.find_object(ctx, actor, request.open_space(ctx), request.key, version_id)
    owner_id = view.owner_id(found.node, found.version)
    return view.people(ctx, [owner_id]).get(owner_id, actor)


def _policy(person):
    root = xml.document("AccessControlPolicy")
    owner(root, person)
    grant = xml.add(xml.add(root, "AccessControlList"), "Grant")
    grantee = xml.add(grant, "Grantee")
    grantee.set("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
    grantee.set("xsi:type", "CanonicalUser")
    xml.add_all(grantee, [("ID", person.username), ("DisplayName", person.display_name)])
    xml.add(grant, "Permission", "FULL_CONTROL")
    return root


def _require_private(request, username: str) -> None:
    """Refuse, pointing to sharing, any ACL but the owner's full control alone."""
    canned = request.headers.get("x-amz-acl")
    granted = any(n.lower().startswith(_GRANT_HEADERS) for n, _ in request.headers.items())
    body = request.body(compute=()).read(xml.MAX_BODY + 1)
    if granted or (canned is not None and canned.strip() != "private"):
        raise S3Error("NotImplemented", SHARING, 501)
    if canned is not None:
        return
    if not body.strip():
        raise S3Error("MissingSecurityHeader", "Your request was missing a required header.")
    try:
        grants = xml.parse(body).findall("AccessControlList/Grant")
    except xml.MalformedXML:
        raise malformed_xml() from None
    given = [(xml.child_text(g, "Grantee/ID"), xml.child_text(g, "Permission")) for g in grants]
    if given != [(username, "FULL_CONTROL")]:
        raise S3Error("NotImplemented", SHARING, 501)
