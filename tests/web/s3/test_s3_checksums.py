"""Checksums come out as S3 and its clients show them."""

import base64

import pytest
from botocore.httpchecksum import _CHECKSUM_CLS

from web.s3.checksums import (
    ALGORITHMS,
    Checksum,
    algorithm_of,
    checksum_of,
    header_name,
    is_well_formed,
)

# The published "check" values of each algorithm over b"123456789" and over b"".
CHECK_VALUES = {
    "crc32": "cbf43926",
    "crc32c": "e3069283",
    "crc64nvme": "ae8b14860a799888",
    "sha1": "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
    "md5": "25f9e794323b453885f5181f1b624d0b",
}
EMPTY_VALUES = {
    "xxhash64": "ef46db3751d8e999",
    "xxhash3": "2d06800538d394c2",
    "xxhash128": "99aa06d3014798d86001c324468d497f",
    "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
}


@pytest.mark.parametrize("algorithm", CHECK_VALUES)
def test_checksum_of_123456789_matches_the_published_check_value(algorithm):
    digest = base64.b64decode(checksum_of(algorithm, b"123456789"))
    assert digest.hex() == CHECK_VALUES[algorithm]


@pytest.mark.parametrize("algorithm", EMPTY_VALUES)
def test_checksum_of_nothing_matches_the_published_value(algorithm):
    assert base64.b64decode(checksum_of(algorithm, b"")).hex() == EMPTY_VALUES[algorithm]


@pytest.mark.parametrize("algorithm", [a for a in ALGORITHMS if a in _CHECKSUM_CLS])
def test_checksum_matches_what_botocore_sends(algorithm):
    data = "ລາຍງານ ປະຈຳປີ 2026\n".encode() * 999
    assert checksum_of(algorithm, data) == _CHECKSUM_CLS[algorithm]().handle(data)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_checksum_fed_in_pieces_equals_checksum_of_the_whole(algorithm):
    data = bytes(range(256)) * 1000
    checksum = Checksum(algorithm)
    for start in range(0, len(data), 7777):
        checksum.update(data[start : start + 7777])
    assert checksum.b64digest() == checksum_of(algorithm, data)
    assert checksum.b64digest() == checksum.b64digest()


def test_checksum_headers_name_their_algorithm():
    assert header_name("crc64nvme") == "x-amz-checksum-crc64nvme"
    assert algorithm_of("X-Amz-Checksum-CRC32C") == "crc32c"
    assert algorithm_of("x-amz-checksum-type") is None
    assert algorithm_of("x-amz-checksum-algorithm") is None
    assert algorithm_of("content-md5") is None


def test_declared_values_must_be_base64_of_the_digest_size():
    assert is_well_formed("crc32", "AAAAAA==")
    assert not is_well_formed("crc32", "AAAAAAAAAAA=")
    assert not is_well_formed("sha256", "not base64")


def test_unknown_algorithm_is_refused():
    with pytest.raises(ValueError):
        Checksum("adler32")
