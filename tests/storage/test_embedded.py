"""The embedded SeaweedFS server: credentials, failures, restarts."""

import io
import time

import pytest

from storage import EmbeddedS3Server, S3Store, StorageUnavailable, embedded


def test_wrong_secret_is_refused_as_storage_unavailable(s3_server, s3_credentials, s3_store):
    # A misconfigured key makes the whole store unusable: callers answer 503, admins read why.
    impostor = S3Store(
        s3_server.endpoint, s3_credentials.access_key, "wrong-secret", s3_store.bucket
    )
    with pytest.raises(StorageUnavailable, match="credentials"):
        impostor.ping()
    with pytest.raises(StorageUnavailable, match="credentials"):
        impostor.put("v/intruder", io.BytesIO(b"x"))
    assert list(s3_store.list()) == []
    s3_store.put("v/intruder", io.BytesIO(b"x"))  # the same put with the right secret
    assert [info.key for info in s3_store.list()] == ["v/intruder"]


def test_unknown_access_key_is_refused(s3_server, s3_store):
    stranger = S3Store(s3_server.endpoint, "someone-else", "secret", s3_store.bucket)
    with pytest.raises(StorageUnavailable, match="credentials"):
        stranger.head("v/anything")


def test_missing_bucket_is_unavailable_not_created(s3_server, s3_credentials):
    store = S3Store(
        s3_server.endpoint,
        s3_credentials.access_key,
        s3_credentials.secret_key,
        "never-created-bucket",
    )
    with pytest.raises(StorageUnavailable, match="no bucket"):
        store.ping()
    with pytest.raises(StorageUnavailable):
        store.put("v/x", io.BytesIO(b"x"))
    with pytest.raises(StorageUnavailable, match="no bucket"):
        store.ping()


@pytest.mark.slow  # starts and stops an S3 server
def test_stopped_server_is_reported_unavailable_within_seconds(tmp_path):
    with EmbeddedS3Server(tmp_path, "key", "secret-key") as server:
        store = S3Store(server.endpoint, "key", "secret-key", "doomed", part_size=5 * 1024 * 1024)
        store.ensure_bucket()
        store.put("v/x", io.BytesIO(b"x"))
    started = time.monotonic()
    for attempt in (
        store.ping,
        lambda: store.head("v/x"),
        lambda: store.get("v/x"),
        lambda: list(store.list()),
        lambda: store.put("v/y", io.BytesIO(b"y")),
    ):
        with pytest.raises(StorageUnavailable, match="could not be reached"):
            attempt()
    assert time.monotonic() - started < 10


@pytest.mark.slow  # starts an S3 server twice
def test_server_restarted_on_its_port_keeps_files_and_accepts_only_the_new_secret(tmp_path):
    with EmbeddedS3Server(tmp_path, "key", "old-secret") as server:
        store = S3Store(server.endpoint, "key", "old-secret", "kept")
        store.ensure_bucket()
        store.put("v/kept", io.BytesIO(b"still here"))
    with EmbeddedS3Server(tmp_path, "key", "new-secret", port=server.port) as server:
        with S3Store(server.endpoint, "key", "new-secret", "kept").get("v/kept") as stream:
            assert b"".join(stream) == b"still here"
        with pytest.raises(StorageUnavailable, match="credentials"):
            S3Store(server.endpoint, "key", "old-secret", "kept").ping()


def test_port_already_in_use_is_reported_and_the_running_server_is_untouched(
    tmp_path, s3_server, s3_store
):
    clash = EmbeddedS3Server(tmp_path, "key", "secret", port=s3_server.port)
    with pytest.raises(StorageUnavailable, match="cannot start"):
        clash.start()
    s3_store.ping()


def test_server_that_cannot_start_reports_why_from_its_log(tmp_path, monkeypatch):
    broken = (*embedded.FIXED_OPTIONS, f"-master.dir={tmp_path / 'missing'}")
    monkeypatch.setattr(embedded, "FIXED_OPTIONS", broken)
    server = EmbeddedS3Server(tmp_path, "key", "secret")
    with pytest.raises(StorageUnavailable, match="weed exited") as raised:
        server.start(timeout=10)
    assert "no such file or directory" in str(raised.value)
