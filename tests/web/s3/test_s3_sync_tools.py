"""aws cli, rclone and s3cmd syncing a folder tree with gshare: up, again, changed, down.

The tools are real programs (aws cli from PyPI, rclone and s3cmd from Debian). Where CI=true a
missing tool fails the test instead of skipping it.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from gshare.scanning import queue
from tests.helpers import missing

# slow: real aws cli, rclone and s3cmd runs, several seconds each
pytestmark = pytest.mark.slow

MiB = 1024 * 1024
TOOLS = ["aws", "rclone", "s3cmd"]


def _require(program: str) -> str:
    path = shutil.which(program, path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    if path is None:
        missing(f"{program} is not installed")
    return path


class Tool:
    """One sync tool configured for a person's key against the endpoint."""

    def __init__(self, name: str, site, person, home: Path):
        self.name, self.site, self.person, self.home = name, site, person, home
        self.program = _require(name)
        self.env = {**os.environ, "HOME": str(home), **getattr(self, f"_{name}_env")()}
        self.env.pop("AWS_CA_BUNDLE", None)  # plain http here; rclone refuses a bundle for it

    def sync(self, source: str, target: str, delete: bool = False) -> None:
        """Sync source to target; remote paths are 'bucket/prefix/'."""
        done = self.attempt_sync(source, target, delete)
        assert done.returncode == 0, done.stdout + done.stderr

    def attempt_sync(self, source: str, target: str, delete: bool = False):
        """Sync source to target and return the finished process, whatever its status."""
        return self.attempt(*getattr(self, f"_{self.name}_sync")(source, target, delete))

    def run(self, *args: str) -> str:
        """Run the tool with these arguments; return its output, having checked it succeeded."""
        done = self.attempt(*args)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def attempt(self, *args: str):
        """Run the tool with these arguments and return the finished process."""
        return subprocess.run(
            [self.program, *args], env=self.env, capture_output=True, text=True, timeout=600
        )

    def remote(self, path: str) -> str:
        return {"aws": "s3://", "rclone": "gs:", "s3cmd": "s3://"}[self.name] + path

    def _aws_env(self) -> dict:
        return {
            "AWS_ACCESS_KEY_ID": self.person.key_id,
            "AWS_SECRET_ACCESS_KEY": self.person.secret,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(self.home / "aws-config"),
        }

    def _aws_sync(self, source, target, delete):
        return [
            "--endpoint-url",
            self.site.url,
            "s3",
            "sync",
            "--no-progress",
            source,
            target,
            *(["--delete"] if delete else []),
        ]

    def _rclone_env(self) -> dict:
        return {
            "RCLONE_CONFIG": str(self.home / "rclone.conf"),
            "RCLONE_CONFIG_GS_TYPE": "s3",
            "RCLONE_CONFIG_GS_PROVIDER": "Other",
            "RCLONE_CONFIG_GS_ACCESS_KEY_ID": self.person.key_id,
            "RCLONE_CONFIG_GS_SECRET_ACCESS_KEY": self.person.secret,
            "RCLONE_CONFIG_GS_ENDPOINT": self.site.url,
            "RCLONE_CONFIG_GS_FORCE_PATH_STYLE": "true",
        }

    def _rclone_sync(self, source, target, delete):
        return [
            "sync" if delete else "copy",
            source,
            target,
            "--retries",
            "1",
            "--low-level-retries",
            "1",
        ]

    def _s3cmd_env(self) -> dict:
        host = self.site.url.removeprefix("http://")
        config = self.home / "s3cfg"
        config.write_text(
            f"[default]\naccess_key = {self.person.key_id}\n"
            f"secret_key = {self.person.secret}\nhost_base = {host}\n"
            f"host_bucket = {host}\nuse_https = False\nsignature_v2 = False\n"
            "bucket_location = us-east-1\n"
        )
        return {}

    def _s3cmd_sync(self, source, target, delete):
        return [
            "-c",
            str(self.home / "s3cfg"),
            "sync",
            "--no-progress",
            *(["--delete-removed"] if delete else []),
            source,
            target,
        ]


def make_tree(root: Path) -> None:
    """Write the tree the sync tests send: Lao names, nested folders, a 9 MiB file."""
    (root / "ເອກະສານ").mkdir(parents=True)
    (root / "a" / "b").mkdir(parents=True)
    (root / "ເອກະສານ" / "ລາຍງານ 2026.txt").write_text("ລາຍງານປະຈຳປີ\n" * 100)
    for i in range(5):
        (root / "a" / f"note {i}.txt").write_text(f"note {i}\n" * (i + 1))
    (root / "a" / "b" / "big.bin").write_bytes(os.urandom(9 * MiB))
    (root / "top.csv").write_text("a,b\n1,2\n")


def _sent(site, path: str) -> bool:
    """Tell whether a PUT to this path (with any query) was served."""
    return any(m == "PUT" and uri.split("?")[0] == path for m, uri in site.writes())


def _keys(site, person_name: str, bucket: str, prefix: str) -> set[str]:
    client = site.client(person_name)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"][len(prefix) :] for p in pages for o in p.get("Contents", [])}


def _local(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _same_trees(left: Path, right: Path) -> None:
    assert _local(left) == _local(right)
    for name in _local(left):
        assert filecmp.cmp(left / name, right / name, shallow=False), name


@pytest.mark.parametrize("tool_name", TOOLS)
def test_tool_syncs_up_again_changed_and_down(s3_site, tmp_path, tool_name):
    person = s3_site.person("alice", "Finance")
    tool = Tool(tool_name, s3_site, person, tmp_path)
    source, down = tmp_path / "source", tmp_path / "down"
    make_tree(source)
    remote = tool.remote("finance/sync/")
    tool.sync(f"{source}/", remote)
    assert _keys(s3_site, "alice", "finance", "sync/") == _local(source)

    before = len(s3_site.writes())
    assert _sent(s3_site, "/finance/sync/top.csv")  # the first sync sent it
    tool.sync(f"{source}/", remote)
    assert s3_site.writes()[before:] == []

    (source / "a" / "note 1.txt").write_text("changed, and longer than before\n")
    (source / "top.csv").unlink()
    tool.sync(f"{source}/", remote, delete=True)
    assert _keys(s3_site, "alice", "finance", "sync/") == _local(source)

    down.mkdir()
    tool.sync(remote, f"{down}/")
    _same_trees(source, down)


def test_second_department_syncs_down_only_what_is_shared(s3_site, tmp_path):
    alice = s3_site.person("alice", "Finance")
    carol = s3_site.person("carol", "Health")
    source = tmp_path / "source"
    make_tree(source)
    Tool("aws", s3_site, alice, tmp_path).sync(f"{source}/", "s3://finance/")
    down = tmp_path / "carol"
    down.mkdir()
    aws = Tool("aws", s3_site, carol, tmp_path)
    with pytest.raises(AssertionError):
        aws.sync("s3://finance/", f"{down}/")
    s3_site.share("alice", "finance/a", "carol")
    aws.sync("s3://finance/", f"{down}/")
    shared = {n for n in _local(source) if n.startswith("a/")}
    assert _local(down) == shared - {"a/b/big.bin"}  # multipart: pending until scanned
    worker = queue.Worker(s3_site.gs)
    while worker.run_once(None):
        pass
    aws.sync("s3://finance/", f"{down}/")
    assert _local(down) == shared


def test_a_sync_while_clamd_is_down_stores_everything_and_does_not_loop(
    s3_site, tmp_path, clamd_daemon
):
    """The uploads wait for their scan, listed to their uploader with their real sizes, so the
    next sync sends nothing again; others get them once clamd is back and has scanned them."""
    alice = s3_site.person("alice", "Finance")
    s3_site.person("carol", "Health")
    s3_site.share("alice", "finance", "carol")
    source = tmp_path / "source"
    make_tree(source)
    aws = Tool("aws", s3_site, alice, tmp_path)
    clamd_daemon.stop()
    try:
        aws.sync(f"{source}/", "s3://finance/docs/")
        before = len(s3_site.writes())
        assert _sent(s3_site, "/finance/docs/top.csv")  # the first sync sent it
        aws.sync(f"{source}/", "s3://finance/docs/")
        assert s3_site.writes()[before:] == []  # nothing sent twice
        listed = s3_site.client("alice").list_objects_v2(Bucket="finance", Prefix="docs/")
        assert {o["Key"][5:]: o["Size"] for o in listed["Contents"]} == {
            name: (source / name).stat().st_size for name in _local(source)
        }
        files = {k for k in _keys(s3_site, "carol", "finance", "docs/") if not k.endswith("/")}
        assert files == set()  # the folders, as empty ones, but none of the files
    finally:
        clamd_daemon.start()
    worker = queue.Worker(s3_site.gs)
    while worker.run_once(None):
        pass
    assert _keys(s3_site, "carol", "finance", "docs/") == _local(source)


# Names sync tools mangle if anything does: Lao, spaces, URL-special characters, emoji.
ODD_NAMES = [
    "ລາຍງານ ປະຈຳປີ 2026.txt",
    "with  two spaces.txt",
    "a+b=c.txt",
    "100% done.txt",
    "#1 hash.txt",
    "why? because.txt",
    "🎉 ສຳເລັດ 🇱🇦.txt",
    "ເອກະສານ ໃໝ່/ນັດ+ພົບ #2 (50%).txt",
    "sub dir/and?query=1&x.txt",
]
EMPTY_NAMES = ["empty.txt", "ເອກະສານ ໃໝ່/ບໍ່ມີ.bin"]


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    """One 100 MiB file of random bytes for the whole module (linked into each tree)."""
    path = tmp_path_factory.mktemp("big") / "ຂໍ້ມູນໃຫຍ່ 100 MiB.bin"
    with open(path, "wb") as out:
        for _ in range(100):
            out.write(os.urandom(MiB))
    return path


def make_odd_tree(root: Path) -> None:
    """Write files with odd names, some empty, in nested folders."""
    for i, name in enumerate(ODD_NAMES):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"{name}\n" * (i + 1))
    for name in EMPTY_NAMES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")


def _remote_times(tool: Tool, remote: str) -> dict[str, float]:
    listed = json.loads(tool.run("lsjson", "-R", "--files-only", remote))
    return {e["Path"]: datetime.fromisoformat(e["ModTime"]).timestamp() for e in listed}


def test_rclone_syncs_odd_names_and_a_big_file_once_checks_and_keeps_times(
    s3_site, tmp_path, big_file
):
    """A second `rclone sync`, by modification time and then by --checksum, sends and changes
    nothing; `rclone check` finds every file the same; the remote keeps the local times."""
    rclone = Tool("rclone", s3_site, s3_site.person("alice", "Finance"), tmp_path)
    source, remote = tmp_path / "source", "gs:finance/odd/"
    make_odd_tree(source)
    os.link(big_file, source / big_file.name)
    rclone.run("sync", str(source), remote)
    assert _keys(s3_site, "alice", "finance", "odd/") == _local(source)

    for flags in ([], ["--checksum"]):
        before = len(s3_site.writes())
        rclone.run("sync", str(source), remote, *flags)
        assert s3_site.writes()[before:] == [], flags
    rclone.run("check", str(source), remote)
    times = _remote_times(rclone, remote)
    assert times.keys() == _local(source)
    for name, moment in times.items():
        assert abs(moment - (source / name).stat().st_mtime) < 0.001, name


@pytest.mark.parametrize("tool_name", ["aws", "s3cmd"])
def test_tool_syncs_odd_names_twice_and_back(s3_site, tmp_path, tool_name):
    tool = Tool(tool_name, s3_site, s3_site.person("alice", "Finance"), tmp_path)
    source, down = tmp_path / "source", tmp_path / "down"
    make_odd_tree(source)
    remote = tool.remote("finance/odd/")
    tool.sync(f"{source}/", remote)
    assert _keys(s3_site, "alice", "finance", "odd/") == _local(source)

    before = len(s3_site.writes())
    tool.sync(f"{source}/", remote)
    assert s3_site.writes()[before:] == []
    down.mkdir()
    tool.sync(remote, f"{down}/")
    _same_trees(source, down)


@pytest.mark.parametrize("tool_name", TOOLS)
def test_tool_meets_a_name_that_is_a_file_here_and_a_folder_there(s3_site, tmp_path, tool_name):
    """The refused file is reported and the tool fails; aws cli and rclone send the others,
    s3cmd stops there; nothing that was there is overwritten (docs/s3.md)."""
    tool = Tool(tool_name, s3_site, s3_site.person("alice", "Finance"), tmp_path)
    s3_site.client("alice").put_object(Bucket="finance", Key="up/clash", Body=b"a file")
    source = tmp_path / "source"
    (source / "clash").mkdir(parents=True)
    (source / "clash" / "inner.txt").write_text("below a file\n")
    (source / "fine.txt").write_text("fine\n")
    done = tool.attempt_sync(f"{source}/", tool.remote("finance/up/"))
    assert done.returncode != 0
    assert "InvalidArgument" in done.stdout + done.stderr, done.stdout + done.stderr
    sent = {"clash"} if tool_name == "s3cmd" else {"clash", "fine.txt"}  # s3cmd stops at it
    assert _keys(s3_site, "alice", "finance", "up/") == sent
    got = s3_site.client("alice").get_object(Bucket="finance", Key="up/clash")
    assert got["Body"].read() == b"a file"


def test_s3cmd_info_shows_the_owner_with_full_control(s3_site, tmp_path):
    s3_site.person("alice", "Finance")
    s3_site.client("alice").put_object(Bucket="finance", Key="a.txt", Body=b"a")
    s3cmd = Tool("s3cmd", s3_site, s3_site.people["alice"], tmp_path)
    shown = s3cmd.run("-c", str(tmp_path / "s3cfg"), "info", "s3://finance/a.txt")
    assert "ACL:       Alice: FULL_CONTROL" in shown, shown  # the owner's display name


def test_aws_presign_works_with_the_documented_setting(s3_site, tmp_path):
    """With `signature_version = s3v4` (docs/s3.md) the URL is SigV4 and serves the file."""
    s3_site.person("alice", "Finance")
    s3_site.client("alice").put_object(Bucket="finance", Key="a b+c.txt", Body=b"presigned")
    aws = Tool("aws", s3_site, s3_site.people["alice"], tmp_path)
    (tmp_path / "aws-config").write_text("[default]\ns3 =\n    signature_version = s3v4\n")
    url = aws.run("--endpoint-url", s3_site.url, "s3", "presign", "s3://finance/a b+c.txt")
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url.strip(), timeout=30) as answer:
        assert answer.read() == b"presigned"
