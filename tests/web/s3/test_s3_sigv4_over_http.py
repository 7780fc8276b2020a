"""Real clients over real HTTP(S) to a tiny WSGI endpoint that only verifies and echoes.

This is the proof that what clients put on the wire (raw path, Expect: 100-continue, HTTP
chunking for trailers) verifies as a WSGI server hands it on; the store is a dict.
"""

import io
import shutil
import ssl
import subprocess
import urllib.request
from urllib.parse import unquote

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError
from minio import Minio
from werkzeug.datastructures import EnvironHeaders
from werkzeug.wsgi import get_input_stream

from tests.helpers import missing, serving
from tests.web.s3.s3_client_requests import ACCESS_KEY, REGION, SECRET, secret_for
from web.s3.errors import S3Error
from web.s3.payload import verified_body
from web.s3.sigv4 import authenticate

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

KEYS = [
    "with space.txt",
    "a+b=c&d.txt",
    "100% sure ~ maybe.txt",
    "ເອກະສານ/ລາຍງານ 2026.pdf",
    "semi;colon,comma$dollar@at!bang'quote(paren)*star.txt",
    "accents é ü 中文 🙂.txt",
]
LISTING = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>finance</Name>'
    "<KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
    "</ListBucketResult>"
)


class EchoEndpoint:
    """Verify every request; keep PUT bodies in a dict; answer GETs from it."""

    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self.checksums: dict[str, dict[str, str]] = {}

    def __call__(self, environ, start_response):
        try:
            return self._handle(environ, start_response)
        except S3Error as error:
            xml = f"<Error><Code>{error.code}</Code><Message>{error.message}</Message></Error>"
            start_response(f"{error.status} Refused", [("Content-Type", "application/xml")])
            return [xml.encode()]

    def _handle(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        raw_path = environ["RAW_URI"].split("?", 1)[0]
        headers = EnvironHeaders(environ)
        auth = authenticate(
            method, raw_path, environ.get("QUERY_STRING", ""), headers, secret_for, region=REGION
        )
        key = unquote(raw_path)
        if method == "PUT":
            reader = verified_body(auth, get_input_stream(environ), headers, compute=["md5"])
            self.objects[key] = b"".join(iter(lambda: reader.read(65536), b""))
            self.checksums[key] = reader.checksums
            etag = reader.checksums["md5"]
            start_response("200 OK", [("ETag", f'"{etag}"'), ("Content-Length", "0")])
            return [b""]
        if key.count("/") == 1 and "list-type=2" in environ.get("QUERY_STRING", ""):
            start_response("200 OK", [("Content-Type", "application/xml")])
            return [LISTING.encode()]
        body = self.objects.get(key, b"")
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body if method == "GET" else b""]


def _self_signed_cert(directory):
    if shutil.which("openssl") is None:
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.fixture(scope="module", params=["http", "https"])
def endpoint(request, tmp_path_factory):
    context = None
    if request.param == "https":
        context = _self_signed_cert(tmp_path_factory.mktemp("tls"))
        if context is None:
            missing("openssl is not installed: the https endpoint needs a certificate")
    app = EchoEndpoint()
    with serving(app, ssl_context=context) as server:
        yield f"{request.param}://127.0.0.1:{server.port}", app


def s3(url, secret=SECRET):
    return boto3.client(
        "s3", endpoint_url=url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=secret, verify=False,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )  # fmt: skip


@pytest.mark.parametrize("key", [*KEYS, "double//slash/./dot/../x"])
def test_boto3_uploads_and_downloads_any_key_over_the_wire(endpoint, key):
    url, app = endpoint
    payload = b"ministry budget 2026\n" * 4000
    client = s3(url)
    client.put_object(Bucket="finance", Key=key, Body=io.BytesIO(payload))
    assert app.objects[f"/finance/{key}"] == payload
    assert client.get_object(Bucket="finance", Key=key)["Body"].read() == payload


def test_boto3_default_checksum_reaches_the_endpoint(endpoint):
    url, app = endpoint
    s3(url).put_object(Bucket="finance", Key="sum.txt", Body=b"checked")
    assert "crc32" in app.checksums["/finance/sum.txt"]


@pytest.mark.parametrize("prefix", ["a b", "k=v&x+y", "ເອກະສານ/", "100%"])
def test_boto3_listing_with_odd_prefix_over_the_wire(endpoint, prefix):
    url, _ = endpoint
    assert s3(url).list_objects_v2(Bucket="finance", Prefix=prefix)["KeyCount"] == 0


def test_boto3_with_the_wrong_secret_sees_signature_does_not_match(endpoint):
    url, _ = endpoint
    with pytest.raises(ClientError) as refused:
        s3(url, secret="guess").head_bucket(Bucket="finance")
    assert refused.value.response["Error"]["Code"] in ("SignatureDoesNotMatch", "403")


@pytest.mark.parametrize("key", KEYS)
def test_presigned_url_downloads_over_the_wire(endpoint, key):
    url, app = endpoint
    app.objects[f"/finance/{key}"] = b"shared by link"
    link = s3(url).generate_presigned_url("get_object", Params={"Bucket": "finance", "Key": key})
    unverified = ssl._create_unverified_context()
    with urllib.request.urlopen(link, context=unverified) as response:
        assert response.read() == b"shared by link"


@pytest.mark.parametrize("key", KEYS)
def test_minio_py_uploads_and_downloads_any_key_over_the_wire(endpoint, key):
    url, app = endpoint
    scheme, host = url.split("://")
    client = Minio(
        host, access_key=ACCESS_KEY, secret_key=SECRET, secure=scheme == "https", region=REGION,
        http_client=urllib3.PoolManager(cert_reqs="CERT_NONE"),
    )  # fmt: skip
    payload = b"minio-py upload" * 100
    client.put_object("finance", key, io.BytesIO(payload), len(payload))
    assert app.objects[f"/finance/{key}"] == payload
    assert client.get_object("finance", key).read() == payload
