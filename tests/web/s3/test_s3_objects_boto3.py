"""boto3 against the S3 endpoint: buckets, listings, get, put, delete, errors."""

import base64
import hashlib
import io

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import select

from gshare.core.models import AuditEvent
from gshare.org import spaces
from tests.web.s3.answers import error_code

HOME = "home-alice"


@pytest.fixture
def alice(s3_site):
    s3_site.person("alice", "Finance")
    return s3_site.client("alice")


@pytest.mark.parametrize("checksums", ["when_supported", "when_required"])
def test_user_puts_lists_and_gets_back_a_file(s3_site, alice, checksums):
    client = s3_site.client("alice", checksums=checksums)
    payload = b"ministry budget 2026\n" * 1000
    put = client.put_object(Bucket="finance", Key="reports/2026/budget.txt", Body=payload)
    assert put["ETag"] == f'"{hashlib.md5(payload).hexdigest()}"'
    listed = client.list_objects_v2(Bucket="finance")
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed["Contents"]] == [
        ("reports/2026/budget.txt", len(payload), put["ETag"])
    ]
    got = client.get_object(Bucket="finance", Key="reports/2026/budget.txt")
    assert got["Body"].read() == payload
    assert got["ETag"] == put["ETag"] and got["VersionId"] == put["VersionId"]


def test_buckets_are_the_spaces_the_person_sees(s3_site, alice):
    names = [b["Name"] for b in alice.list_buckets()["Buckets"]]
    assert names == sorted(["finance", HOME])
    alice.head_bucket(Bucket="finance")
    with pytest.raises(ClientError) as missing:
        alice.head_bucket(Bucket="health")
    assert missing.value.response["Error"]["Code"] == "404"


def test_lao_names_and_odd_keys_round_trip(s3_site, alice):
    keys = ["ເອກະສານ/ລາຍງານ 2026.pdf", "a+b=c&d.txt", "100% sure ~ maybe.txt", "with space.txt"]
    for key in keys:
        alice.put_object(Bucket=HOME, Key=key, Body=key.encode())
    listed = alice.list_objects_v2(Bucket=HOME)["Contents"]
    assert [o["Key"] for o in listed] == sorted(keys, key=lambda k: k.encode())
    for key in keys:
        assert alice.get_object(Bucket=HOME, Key=key)["Body"].read() == key.encode()


def test_listing_with_delimiter_pages_and_prefixes(s3_site, alice):
    for key in ["a/1.txt", "a/2.txt", "b/c/3.txt", "top.txt", "zz.txt"]:
        alice.put_object(Bucket=HOME, Key=key, Body=b"x")
    level = alice.list_objects_v2(Bucket=HOME, Delimiter="/")
    assert [p["Prefix"] for p in level["CommonPrefixes"]] == ["a/", "b/"]
    assert [o["Key"] for o in level["Contents"]] == ["top.txt", "zz.txt"]
    inside = alice.list_objects_v2(Bucket=HOME, Prefix="b/", Delimiter="/")
    assert [p["Prefix"] for p in inside["CommonPrefixes"]] == ["b/c/"]
    paginator = alice.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket=HOME, PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == [
        "a/1.txt",
        "a/2.txt",
        "b/c/3.txt",
        "top.txt",
        "zz.txt",
    ]
    v1 = list(
        alice.get_paginator("list_objects").paginate(Bucket=HOME, PaginationConfig={"PageSize": 2})
    )
    assert sum(len(p.get("Contents", [])) for p in v1) == 5


def test_range_and_conditional_gets(s3_site, alice):
    alice.put_object(Bucket=HOME, Key="r.bin", Body=bytes(range(256)))
    part = alice.get_object(Bucket=HOME, Key="r.bin", Range="bytes=10-19")
    assert part["Body"].read() == bytes(range(10, 20))
    assert part["ContentRange"] == "bytes 10-19/256"
    tail = alice.get_object(Bucket=HOME, Key="r.bin", Range="bytes=-6")
    assert tail["Body"].read() == bytes(range(250, 256))
    etag = alice.head_object(Bucket=HOME, Key="r.bin")["ETag"]
    with pytest.raises(ClientError) as failed:
        alice.get_object(Bucket=HOME, Key="r.bin", IfMatch='"nope"')
    assert error_code(failed) == "PreconditionFailed"
    with pytest.raises(ClientError) as unchanged:
        alice.get_object(Bucket=HOME, Key="r.bin", IfNoneMatch=etag)
    assert unchanged.value.response["Error"]["Code"] == "304"
    with pytest.raises(ClientError) as outside:
        alice.get_object(Bucket=HOME, Key="r.bin", Range="bytes=300-")
    assert error_code(outside) == "InvalidRange"


def test_open_several_and_unreadable_ranges_get(s3_site, alice):
    alice.put_object(Bucket=HOME, Key="r.bin", Body=bytes(range(256)))
    rest = alice.get_object(Bucket=HOME, Key="r.bin", Range="bytes=250-")
    assert rest["Body"].read() == bytes(range(250, 256))
    assert rest["ContentRange"] == "bytes 250-255/256"
    for whole in ("bytes=0-1,5-6", "bytes=5-2", "bytes=-1000", "bytes=x-"):
        got = alice.get_object(Bucket=HOME, Key="r.bin", Range=whole)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 200, whole
        assert got["Body"].read() == bytes(range(256)) and "ContentRange" not in got


def test_metadata_and_response_overrides(s3_site, alice):
    alice.put_object(
        Bucket=HOME,
        Key="m.txt",
        Body=b"meta",
        Metadata={"mtime": "1700000000.5", "owner": "finance"},
    )
    head = alice.head_object(Bucket=HOME, Key="m.txt")
    assert head["Metadata"] == {"mtime": "1700000000.5", "owner": "finance"}
    got = alice.get_object(Bucket=HOME, Key="m.txt", ResponseContentDisposition="inline")
    assert got["ContentDisposition"] == "inline"


def test_missing_key_is_no_such_key_and_delete_is_idempotent(s3_site, alice):
    with pytest.raises(ClientError) as missing:
        alice.get_object(Bucket=HOME, Key="nothing.txt")
    assert error_code(missing) == "NoSuchKey"
    alice.put_object(Bucket=HOME, Key="gone.txt", Body=b"bye")
    listed = alice.list_objects_v2(Bucket=HOME)["Contents"]
    assert [o["Key"] for o in listed] == ["gone.txt"]
    assert (
        alice.delete_object(Bucket=HOME, Key="gone.txt")["ResponseMetadata"]["HTTPStatusCode"]
        == 204
    )
    alice.delete_object(Bucket=HOME, Key="gone.txt")
    assert "Contents" not in alice.list_objects_v2(Bucket=HOME)


def test_delete_objects_reports_each_key(s3_site, alice):
    for key in ["d/1", "d/2", "d/3"]:
        alice.put_object(Bucket=HOME, Key=key, Body=b"1")
    result = alice.delete_objects(
        Bucket=HOME, Delete={"Objects": [{"Key": "d/1"}, {"Key": "d/2"}, {"Key": "never"}]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["d/1", "d/2", "never"]
    assert [o["Key"] for o in alice.list_objects_v2(Bucket=HOME)["Contents"]] == ["d/3"]


def test_folder_markers_make_folders(s3_site, alice):
    alice.put_object(Bucket=HOME, Key="empty/", Body=b"")
    listed = alice.list_objects_v2(Bucket=HOME)["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [("empty/", 0)]
    assert alice.list_objects_v2(Bucket=HOME, Delimiter="/")["CommonPrefixes"] == [
        {"Prefix": "empty/"}
    ]


def test_unknown_key_and_wrong_secret_are_refused(s3_site, alice):
    person = s3_site.people["alice"]
    wrong = s3_site.client(type(person)(person.user, person.key_id, "guess"))
    with pytest.raises(ClientError) as refused:
        wrong.list_buckets()
    assert error_code(refused) == "SignatureDoesNotMatch"


def test_revoked_key_stops_working_at_once(s3_site, alice):
    from gshare.accounts import access_keys
    from gshare.core.actor import OPERATOR

    alice.list_buckets()
    key_id = s3_site.people["alice"].key_id
    s3_site.run(lambda w: access_keys.revoke_key(w.ctx, OPERATOR, key_id))
    with pytest.raises(ClientError) as refused:
        alice.list_buckets()
    assert error_code(refused) == "InvalidAccessKeyId"


def test_read_only_key_reads_but_cannot_write(s3_site, alice):
    alice.put_object(Bucket=HOME, Key="r.txt", Body=b"r")
    reader = s3_site.client(s3_site.key("alice", read_only=True))
    assert reader.get_object(Bucket=HOME, Key="r.txt")["Body"].read() == b"r"
    with pytest.raises(ClientError) as refused:
        reader.put_object(Bucket=HOME, Key="w.txt", Body=b"w")
    assert error_code(refused) == "AccessDenied"


def test_key_limited_to_one_space_sees_only_it(s3_site, alice):
    finance = s3_site.run(
        lambda w: spaces.get_space(w.ctx, s3_site.people["alice"].user, "finance")
    )
    limited = s3_site.client(s3_site.key("alice", space=finance))
    assert [b["Name"] for b in limited.list_buckets()["Buckets"]] == ["finance"]
    with pytest.raises(ClientError) as refused:
        limited.list_objects_v2(Bucket=HOME)
    assert error_code(refused) == "AccessDenied"


def test_overwrite_makes_a_new_version_listed_by_versions_api(s3_site, alice):
    first = alice.put_object(Bucket=HOME, Key="v.txt", Body=b"one")
    second = alice.put_object(Bucket=HOME, Key="v.txt", Body=b"two")
    versions = alice.list_object_versions(Bucket=HOME)["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [
        (second["VersionId"], True),
        (first["VersionId"], False),
    ]
    old = alice.get_object(Bucket=HOME, Key="v.txt", VersionId=first["VersionId"])
    assert old["Body"].read() == b"one"
    assert alice.get_bucket_versioning(Bucket=HOME)["Status"] == "Enabled"


def test_copy_object_onto_itself_replaces_metadata(s3_site, alice):
    alice.put_object(Bucket=HOME, Key="c.txt", Body=b"copy me", Metadata={"mtime": "1"})
    alice.copy_object(
        Bucket=HOME,
        Key="c.txt",
        CopySource={"Bucket": HOME, "Key": "c.txt"},
        Metadata={"mtime": "2"},
        MetadataDirective="REPLACE",
    )
    assert alice.head_object(Bucket=HOME, Key="c.txt")["Metadata"] == {"mtime": "2"}
    alice.copy_object(
        Bucket="finance", Key="copied/c.txt", CopySource={"Bucket": HOME, "Key": "c.txt"}
    )
    got = alice.get_object(Bucket="finance", Key="copied/c.txt")
    assert got["Body"].read() == b"copy me" and got["Metadata"] == {"mtime": "2"}


def test_unsupported_operation_is_not_implemented(s3_site, alice):
    with pytest.raises(ClientError) as refused:
        alice.get_bucket_policy(Bucket=HOME)
    assert error_code(refused) == "NotImplemented"


def test_put_through_io_stream_of_unknown_length(s3_site, alice):
    alice.upload_fileobj(io.BytesIO(b"streamed" * 1000), HOME, "s.bin")
    assert alice.get_object(Bucket=HOME, Key="s.bin")["Body"].read() == b"streamed" * 1000


@pytest.mark.slow  # a big file
def test_a_download_by_parts_gets_the_whole_object_once(s3_site, alice):
    """gshare keeps no part boundaries: part 1 is the whole file, with a parts count of 1, so
    a client downloading by part number stops there; part 2 does not exist."""
    payload = bytes(range(256)) * (24 * 1024)  # 6 MiB, uploaded in two parts
    upload = alice.create_multipart_upload(Bucket=HOME, Key="two-parts.bin")["UploadId"]
    parts = []
    for number, chunk in enumerate((payload[: 5 * 1024 * 1024], payload[5 * 1024 * 1024 :]), 1):
        etag = alice.upload_part(
            Bucket=HOME, Key="two-parts.bin", UploadId=upload, PartNumber=number, Body=chunk
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    alice.complete_multipart_upload(
        Bucket=HOME, Key="two-parts.bin", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    first = alice.get_object(Bucket=HOME, Key="two-parts.bin", PartNumber=1)
    assert first["Body"].read() == payload and first["PartsCount"] == 1
    assert alice.head_object(Bucket=HOME, Key="two-parts.bin", PartNumber=1)[
        "ContentLength"
    ] == len(payload)
    with pytest.raises(ClientError) as second:
        alice.get_object(Bucket=HOME, Key="two-parts.bin", PartNumber=2)
    assert error_code(second) == "InvalidPartNumber"
    assert second.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_uploads_and_downloads_are_audited_with_the_path_of_the_file(s3_site, alice):
    """The audit log names an upload and a download by its space and folders, in NFC whatever
    form the key came in, as the web UI's are named; a download of a version in the trash too."""
    key = "reports/2026/cafe\u0301 ສະບາຍດີ.txt"  # 'café' decomposed, as macOS writes it
    put = alice.put_object(Bucket="finance", Key=key, Body=b"minutes")
    assert alice.get_object(Bucket="finance", Key=key)["Body"].read() == b"minutes"
    alice.get_object(Bucket="finance", Key="reports//2026/caf\u00e9 ສະບາຍດີ.txt", Range="bytes=0-3")
    alice.delete_object(Bucket="finance", Key=key)
    alice.get_object(Bucket="finance", Key=key, VersionId=put["VersionId"])

    def audited(w):
        events = w.ctx.db.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(["file.upload", "file.download"]))
            .order_by(AuditEvent.id)
        )
        return [(e.action, e.target, (e.detail or {}).get("range")) for e in events]

    path = "finance/reports/2026/caf\u00e9 ສະບາຍດີ.txt"
    assert s3_site.run(audited) == [
        ("file.upload", path, None),
        ("file.download", path, None),
        ("file.download", path, "0-3"),
        ("file.download", path, None),
    ]


def raw_get(url: str):
    """GET a (presigned) URL; return the status, every header as (name, value), and the body."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.headers.items(), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers.items(), refused.read()


def test_response_overrides_replace_the_header_and_refuse_line_breaks(s3_site, alice):
    presigner = s3_site.client("alice", signature_version="s3v4")
    alice.put_object(Bucket=HOME, Key="note.txt", Body=b"plain words", ContentType="text/plain")
    url = presigner.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": HOME,
            "Key": "note.txt",
            "ResponseContentType": "application/octet-stream",
            "ResponseContentDisposition": 'attachment; filename="n.txt"',
        },
    )
    status, headers, body = raw_get(url)
    assert (status, body) == (200, b"plain words")
    types = [v for k, v in headers if k.lower() == "content-type"]
    assert types == ["application/octet-stream"]  # one header, the override
    assert ("Content-Disposition", 'attachment; filename="n.txt"') in headers
    split = presigner.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": HOME,
            "Key": "note.txt",
            "ResponseContentDisposition": "attachment\r\nSet-Cookie: stolen=1",
        },
    )
    status, headers, body = raw_get(split)
    assert status == 400 and b"<Code>InvalidArgument</Code>" in body
    assert not any(k.lower() == "set-cookie" for k, _ in headers)


def test_pages_and_drawings_are_served_sandboxed_and_never_sniffed(s3_site, alice):
    presigner = s3_site.client("alice", signature_version="s3v4")
    page = b"<html><script>alert(document.cookie)</script></html>"
    alice.put_object(Bucket=HOME, Key="page.html", Body=page, ContentType="text/html")
    alice.put_object(Bucket=HOME, Key="report.pdf", Body=b"%PDF-1.4\n%%EOF\n")
    status, headers, _ = raw_get(
        presigner.generate_presigned_url("get_object", Params={"Bucket": HOME, "Key": "page.html"})
    )
    assert status == 200
    assert ("Content-Security-Policy", "sandbox") in headers
    assert ("X-Content-Type-Options", "nosniff") in headers
    status, headers, _ = raw_get(
        presigner.generate_presigned_url("get_object", Params={"Bucket": HOME, "Key": "report.pdf"})
    )
    assert status == 200 and ("X-Content-Type-Options", "nosniff") in headers
    assert not any(k == "Content-Security-Policy" for k, _ in headers)  # a PDF stays viewable


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Delete><Object><Key>&lol3;</Key></Object></Delete>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Delete><Object><Key>&secret;</Key></Object></Delete>"""


@pytest.mark.parametrize("body", [BOMB, EXTERNAL], ids=["entity-expansion", "external-entity"])
def test_xml_with_entities_is_refused_as_malformed(s3_site, alice, body):
    import urllib.error
    import urllib.request

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    alice.put_object(Bucket=HOME, Key="lol", Body=b"kept")
    person = s3_site.people["alice"]
    request = AWSRequest(
        "POST",
        f"{s3_site.url}/{HOME}?delete",
        data=body,
        headers={"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()},
    )
    S3SigV4Auth(Credentials(person.key_id, person.secret), "s3", "us-east-1").add_auth(request)
    sent = urllib.request.Request(
        request.url, data=body, headers=dict(request.headers.items()), method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(sent, timeout=10)
    assert refused.value.code == 400
    assert b"<Code>MalformedXML</Code>" in refused.value.read()
    assert alice.get_object(Bucket=HOME, Key="lol")["Body"].read() == b"kept"


def test_a_dead_store_is_a_503_clients_retry_not_a_client_error(s3_site, alice):
    import socket

    import storage

    alice.put_object(Bucket=HOME, Key="before.txt", Body=b"stored while the store was up")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens there
    live, s3_site.gs.store = (
        s3_site.gs.store,
        storage.S3Store(dead, "k", "s", bucket="gshare", timeout=2),
    )
    try:
        for call in (
            lambda: alice.put_object(Bucket=HOME, Key="during.txt", Body=b"x" * 1000),
            lambda: alice.get_object(Bucket=HOME, Key="before.txt"),
        ):
            with pytest.raises(ClientError) as refused:
                call()
            answer = refused.value.response
            assert answer["ResponseMetadata"]["HTTPStatusCode"] == 503
            assert answer["Error"]["Code"] == "ServiceUnavailable"
            assert answer["ResponseMetadata"]["HTTPHeaders"]["retry-after"].isdigit()
    finally:
        s3_site.gs.store = live
    assert alice.get_object(Bucket=HOME, Key="before.txt")["Body"].read().startswith(b"stored")
    keys = [o["Key"] for o in alice.list_objects_v2(Bucket=HOME)["Contents"]]
    assert keys == ["before.txt"]  # nothing half-made was left behind
