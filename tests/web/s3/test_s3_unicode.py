"""Keys in NFC and NFD (macOS file names): one object, found by either form."""

import unicodedata

import pytest
from botocore.exceptions import ClientError

NAME = "ເອກະສານ/café résumé.txt"  # Lao folder, Latin accents: NFC and NFD differ
NFC, NFD = unicodedata.normalize("NFC", NAME), unicodedata.normalize("NFD", NAME)


@pytest.fixture
def alice(s3_site):
    s3_site.person("alice", "Finance")
    return s3_site.client("alice")


def test_a_key_uploaded_in_nfd_is_listed_in_nfc_and_found_by_both(alice):
    assert NFC != NFD
    put = alice.put_object(Bucket="finance", Key=NFD, Body=b"hello")
    listed = alice.list_objects_v2(Bucket="finance")["Contents"]
    assert [o["Key"] for o in listed] == [NFC]
    for key in (NFC, NFD):
        head = alice.head_object(Bucket="finance", Key=key)
        assert head["ETag"] == put["ETag"]
        assert alice.get_object(Bucket="finance", Key=key)["Body"].read() == b"hello"


def test_uploading_the_other_form_adds_a_version_of_the_same_file(alice):
    alice.put_object(Bucket="finance", Key=NFC, Body=b"one")
    alice.put_object(Bucket="finance", Key=NFD, Body=b"two")
    versions = alice.list_object_versions(Bucket="finance")["Versions"]
    assert {v["Key"] for v in versions} == {NFC}
    assert len(versions) == 2
    assert alice.get_object(Bucket="finance", Key=NFC)["Body"].read() == b"two"


def test_an_nfd_prefix_lists_the_nfc_keys_and_deleting_by_nfd_removes_the_file(alice):
    alice.put_object(Bucket="finance", Key=NFC, Body=b"x")
    folder = unicodedata.normalize("NFD", "ເອກະສານ/café")
    assert [
        o["Key"] for o in alice.list_objects_v2(Bucket="finance", Prefix=folder)["Contents"]
    ] == [NFC]
    alice.delete_object(Bucket="finance", Key=NFD)
    with pytest.raises(ClientError) as gone:
        alice.head_object(Bucket="finance", Key=NFC)
    assert gone.value.response["Error"]["Code"] in ("404", "NoSuchKey")
