"""The S3 endpoint end to end through `gshare serve` itself: its gunicorn workers, its scan
worker, the embedded S3 server, a SQLite database of its own and the suite's real clamd.

One server for the whole module; the person and keys are made with the `gshare` CLI on the
same config, as an operator would. Where CI=true a missing aws cli fails the module.
"""

from __future__ import annotations

import filecmp
import io
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import urllib3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError
from minio import Minio

from tests.fixtures.clamd import eicar_bytes
from tests.fixtures.served import Key, Served, aws, free_port, start_gshare, stop, wait_until_up
from tests.helpers import eventually
from tests.web.s3.test_s3_sync_tools import Tool, make_tree

# slow: a gshare serve of its own (gunicorn, embedded S3 server), real sync tools, big files
pytestmark = pytest.mark.slow

MiB = 1024 * 1024
BUCKET = "finance"


@pytest.fixture(scope="module")
def served(tmp_path_factory, clamd_daemon):
    """Start `gshare serve` on free ports with its own SQLite database and the real clamd."""
    root = tmp_path_factory.mktemp("serve-e2e")
    web, s3, objects = free_port(), free_port(), free_port()
    config = root / "config.toml"
    config.write_text(
        f'[server]\nlisten = "127.0.0.1:{web}"\ns3_listen = "127.0.0.1:{s3}"\n'
        f'data_dir = "{root / "var"}"\nworkers = 2\n'
        f'[database]\nurl = "sqlite:///{root / "gshare.db"}"\n'
        f"[storage]\nembedded_port = {objects}\n"
        f'[antivirus]\nclamd = "{clamd_daemon.address}"\n'
    )
    log = root / "serve.log"
    process = start_gshare(config, log, "serve")
    try:
        wait_until_up(f"http://127.0.0.1:{web}/readyz", process, log)
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/readyz", timeout=10) as ready:
            assert json.loads(ready.read())["scanner"]["up"]  # the suite's clamd, as configured
        wait_until_up(f"http://127.0.0.1:{s3}/", process, log)
        site = Served(f"http://127.0.0.1:{s3}", config, log, Key("", ""))
        site.gshare("department", "add", "Finance", "--slug", BUCKET)
        site.gshare(
            "user", "add", "alice", "--name", "Alice", "--department", "Finance", "--no-password"
        )
        site.key = site.new_key()
        yield site
    finally:
        stop(process)


def files_of(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_aws_cli_syncs_up_again_and_down_through_gshare_serve(served, tmp_path):
    source, down = tmp_path / "source", tmp_path / "down"
    (source / "ເອກະສານ" / "ປີ 2026").mkdir(parents=True)
    (source / "ເອກະສານ" / "ລາຍງານ.txt").write_text("ລາຍງານປະຈຳປີ\n" * 200)
    (source / "ເອກະສານ" / "ປີ 2026" / "ງົບປະມານ.csv").write_text("ກ,ຂ\n1,2\n")
    (source / "notes.txt").write_text("plain ascii\n")
    (source / "big.bin").write_bytes(os.urandom(9 * MiB))  # over 8 MiB: aws cli sends parts

    first = aws(
        served, tmp_path, "s3", "sync", "--no-progress", f"{source}/", f"s3://{BUCKET}/e2e/"
    )
    assert first.count("upload:") == 4, first
    head = served.client().head_object(Bucket=BUCKET, Key="e2e/big.bin")
    assert head["ETag"].strip('"').endswith("-2") and head["ContentLength"] == 9 * MiB
    again = aws(
        served, tmp_path, "s3", "sync", "--no-progress", f"{source}/", f"s3://{BUCKET}/e2e/"
    )
    assert again.strip() == ""  # nothing transferred the second time

    down.mkdir()
    aws(
        served,
        tmp_path,
        "s3",
        "sync",
        "--no-progress",
        "--delete",
        f"s3://{BUCKET}/e2e/",
        f"{down}/",
    )
    assert files_of(down) == files_of(source)
    for name in files_of(source):
        assert filecmp.cmp(source / name, down / name, shallow=False), name


def test_presigned_get_works_until_it_expires(served, monkeypatch):
    client = served.client(signature_version="s3v4")  # boto3 presigns with SigV2 otherwise
    client.put_object(Bucket=BUCKET, Key="presigned/get.txt", Body=b"signed for you")
    url = client.generate_presigned_url(
        "get_object", ExpiresIn=60, Params={"Bucket": BUCKET, "Key": "presigned/get.txt"}
    )
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"signed for you"

    # A link handed out two minutes ago that lived for one: signed with the clock set back,
    # so the test does not wait for a link to run out.
    two_minutes_ago = datetime.now(UTC) - timedelta(minutes=2)

    def set_back(remove_tzinfo=True):
        return two_minutes_ago.replace(tzinfo=None) if remove_tzinfo else two_minutes_ago

    with monkeypatch.context() as clock:
        for signer in ("botocore.auth", "botocore.crt.auth"):  # the CRT signs where installed
            if signer in sys.modules:
                clock.setattr(f"{signer}.get_current_datetime", set_back)
        short = client.generate_presigned_url(
            "get_object", ExpiresIn=60, Params={"Bucket": BUCKET, "Key": "presigned/get.txt"}
        )
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(short).query)["X-Amz-Date"] == [
        two_minutes_ago.strftime("%Y%m%dT%H%M%SZ")
    ]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(short, timeout=10)
    body = refused.value.read().decode()
    assert refused.value.code == 403
    assert "<Code>AccessDenied</Code>" in body and "expired" in body


def test_presigned_put_stores_an_object(served):
    client = served.client(signature_version="s3v4")
    url = client.generate_presigned_url(
        "put_object", ExpiresIn=60, Params={"Bucket": BUCKET, "Key": "presigned/ເອກະສານ.txt"}
    )
    request = urllib.request.Request(url, data=b"put by a link", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    got = client.get_object(Bucket=BUCKET, Key="presigned/ເອກະສານ.txt")
    assert got["Body"].read() == b"put by a link"


def test_eicar_through_serve_is_quarantined_with_a_clear_error(served):
    client = served.client()
    client.put_object(Bucket=BUCKET, Key="quarantine/eicar.com.txt", Body=eicar_bytes())
    with pytest.raises(ClientError) as refused:
        client.get_object(Bucket=BUCKET, Key="quarantine/eicar.com.txt")
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDenied" and "quarantined" in error["Message"]
    assert "Gshare.Test.EICAR" in error["Message"]  # the signature clamd found


def test_revoked_key_stops_at_the_next_request_on_every_worker(served):
    key = served.new_key()
    warm = served.client(key)
    warm.put_object(Bucket=BUCKET, Key="revoke/x.txt", Body=b"x")
    for _ in range(6):  # fresh connections: gunicorn's workers take them in turn
        assert served.client(key).head_object(Bucket=BUCKET, Key="revoke/x.txt")
    served.gshare("key", "revoke", key.key_id)
    for client in [warm, *(served.client(key) for _ in range(6))]:
        with pytest.raises(ClientError) as refused:
            client.head_object(Bucket=BUCKET, Key="revoke/x.txt")
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert served.client().head_object(Bucket=BUCKET, Key="revoke/x.txt")  # others still work


def keys_under(client, prefix: str) -> dict[str, str]:
    """Return {key below prefix: ETag} of what the client's person lists."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {o["Key"][len(prefix) :]: o["ETag"] for p in pages for o in p.get("Contents", [])}


def same_trees(left: Path, right: Path) -> None:
    assert files_of(left) == files_of(right)
    for name in files_of(left):
        assert filecmp.cmp(left / name, right / name, shallow=False), name


@pytest.mark.parametrize("tool_name", ["rclone", "s3cmd"])
def test_tool_syncs_up_again_changed_and_down_through_gshare_serve(served, tmp_path, tool_name):
    tool = Tool(tool_name, served, served.key, tmp_path)
    source, down = tmp_path / "source", tmp_path / "down"
    make_tree(source)
    prefix = f"{tool_name}/"
    tool.sync(f"{source}/", tool.remote(f"{BUCKET}/{prefix}"))
    client = served.client()
    stored = keys_under(client, prefix)
    assert set(stored) == files_of(source)
    versions = client.list_object_versions(Bucket=BUCKET, Prefix=prefix)["Versions"]

    tool.sync(f"{source}/", tool.remote(f"{BUCKET}/{prefix}"))
    again = client.list_object_versions(Bucket=BUCKET, Prefix=prefix)["Versions"]
    assert [v["VersionId"] for v in again] == [v["VersionId"] for v in versions]  # none sent

    (source / "a" / "note 1.txt").write_text("changed, and longer than before\n")
    (source / "top.csv").unlink()
    tool.sync(f"{source}/", tool.remote(f"{BUCKET}/{prefix}"), delete=True)
    changed = keys_under(client, prefix)
    assert set(changed) == files_of(source)
    assert changed["a/note 1.txt"] != stored["a/note 1.txt"]

    down.mkdir()
    tool.sync(tool.remote(f"{BUCKET}/{prefix}"), f"{down}/")
    same_trees(source, down)


@pytest.mark.parametrize("checksums", ["when_supported", "when_required"])
def test_boto3_moves_parts_and_metadata_through_gshare_serve(served, checksums):
    client = served.client(
        request_checksum_calculation=checksums, response_checksum_validation=checksums
    )
    payload = os.urandom(17 * MiB + 3)
    parts = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB)
    key = f"boto3-{checksums}/ຂໍ້ມູນ.bin"
    client.upload_fileobj(io.BytesIO(payload), BUCKET, key, Config=parts)
    assert client.head_object(Bucket=BUCKET, Key=key)["ETag"].endswith('-3"')
    got = io.BytesIO()
    client.download_fileobj(BUCKET, key, got, Config=parts)
    assert got.getvalue() == payload
    client.put_object(
        Bucket=BUCKET,
        Key=f"boto3-{checksums}/note.txt",
        Body=b"with metadata",
        Metadata={"mtime": "1767225600.5"},
    )
    head = client.head_object(Bucket=BUCKET, Key=f"boto3-{checksums}/note.txt")
    assert head["Metadata"] == {"mtime": "1767225600.5"}


def test_minio_sdk_puts_lists_gets_and_removes_through_gshare_serve(served):
    client = Minio(
        served.url.removeprefix("http://"),
        access_key=served.key.key_id,
        secret_key=served.key.secret,
        secure=False,
        region="us-east-1",
        http_client=urllib3.PoolManager(retries=False),
    )
    payload = os.urandom(11 * MiB)
    client.put_object(
        BUCKET, "minio/ລາຍງານ.bin", io.BytesIO(payload), len(payload), part_size=5 * MiB
    )  # three parts
    response = client.get_object(BUCKET, "minio/ລາຍງານ.bin")
    try:
        assert response.read() == payload
    finally:
        response.close()
        response.release_conn()
    listed = [o.object_name for o in client.list_objects(BUCKET, prefix="minio/", recursive=True)]
    assert listed == ["minio/ລາຍງານ.bin"]
    client.remove_object(BUCKET, "minio/ລາຍງານ.bin")
    assert list(client.list_objects(BUCKET, prefix="minio/", recursive=True)) == []


def test_another_department_sees_nothing_until_shared_then_only_clean_shared_files(
    served, tmp_path
):
    source = tmp_path / "source"
    make_tree(source)
    (source / "a" / "eicar.txt").write_bytes(eicar_bytes())
    aws(served, tmp_path, "s3", "sync", "--no-progress", f"{source}/", f"s3://{BUCKET}/dep/")
    carol = Tool("aws", served, served.add_person("carol", "Health"), tmp_path)
    down = tmp_path / "carol"
    down.mkdir()
    with pytest.raises(AssertionError, match="AccessDenied|NoSuchBucket"):
        carol.sync(f"s3://{BUCKET}/dep/", f"{down}/")
    assert files_of(down) == set()

    served.gshare("share", "grant", f"{BUCKET}/dep/a", "--role", "viewer", "--user", "carol")
    shared = {name for name in files_of(source) if name.startswith("a/")} - {"a/eicar.txt"}

    def carol_has_the_shared_files():
        carol.sync(f"s3://{BUCKET}/dep/", f"{down}/")
        # the shared folder only, and never the infected file (a sync does not delete it)
        assert files_of(down) == shared
        return True

    # big.bin went in parts: it is clean, and shared, once the serve's worker has scanned it
    eventually(carol_has_the_shared_files, timeout=60, interval=0.5)
    for name in shared:
        assert filecmp.cmp(source / name, down / name, shallow=False), name
