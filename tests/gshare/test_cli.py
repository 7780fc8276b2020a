"""The `gshare` command as an operator uses it."""

import pytest
from click.testing import CliRunner

from web.cli import main


def test_operator_builds_departments_and_people(gshare):
    assert gshare("department", "add", "ກະຊວງ ເຕັກໂນໂລຊີ", "--slug", "mtc")[0] == 0
    code, out = gshare("department", "add", "ກົມ ICT", "--parent", "mtc", "--slug", "mtc-ict")
    assert code == 0 and out.strip().endswith("mtc-ict")
    code, _ = gshare(
        "user",
        "add",
        "somsak",
        "--name",
        "ສົມສັກ",
        "--department",
        "mtc-ict",
        "--password-stdin",
        stdin="a long passphrase\n",
    )
    assert code == 0
    code, out = gshare("user", "list")
    assert "somsak\tສົມສັກ\tກະຊວງ ເຕັກໂນໂລຊີ / ກົມ ICT\tmember\tactive" in out
    assert "ກະຊວງ ເຕັກໂນໂລຊີ / ກົມ ICT\tmtc-ict" in gshare("department", "list")[1]


def test_password_is_never_taken_from_the_command_line(gshare):
    gshare("department", "add", "Finance", "--slug", "finance")
    code, out = gshare(
        "user", "add", "bob", "--name", "Bob", "--department", "finance", "--password", "secret1234"
    )
    assert code == 2 and "No such option" in out


def test_short_password_is_refused_with_the_rule(gshare):
    gshare("department", "add", "Finance", "--slug", "finance")
    code, out = gshare(
        "user",
        "add",
        "bob",
        "--name",
        "Bob",
        "--department",
        "finance",
        "--password-stdin",
        stdin="short\n",
    )
    assert code == 1 and "at least 10 characters" in out


def test_unknown_department_is_a_one_line_error(gshare):
    code, out = gshare(
        "user", "add", "bob", "--name", "Bob", "--department", "nowhere", "--no-password"
    )
    assert code == 1 and out.strip() == "error: No department 'nowhere'."


def test_import_creates_everyone_or_no_one(gshare, tmp_path):
    gshare("department", "add", "Finance", "--slug", "finance")
    good = tmp_path / "good.csv"
    good.write_text(
        "username,display_name,department,role\nana,Ana,finance,member\n"
        "ben,Ben,Finance,department_admin\n"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("username,display_name,department\ncara,Cara,finance\nd!,D,finance\n")
    code, out = gshare("user", "import", str(bad))
    assert code == 1 and "Line 3" in out
    assert "cara" not in gshare("user", "list")[1]
    code, out = gshare("user", "import", str(good))
    lines = out.strip().splitlines()
    assert code == 0 and lines[0] == "username,initial_password" and len(lines) == 3
    assert "ana" in gshare("user", "list")[1]


def test_disable_and_share_commands(gshare):
    gshare("department", "add", "Finance", "--slug", "finance")
    gshare("department", "add", "Audit", "--slug", "audit")
    gshare("user", "add", "ana", "--name", "Ana", "--department", "audit", "--no-password")
    code, out = gshare("share", "grant", "finance", "--role", "viewer", "--department", "audit")
    assert code == 0
    code, out = gshare("share", "grant", "finance", "--role", "editor", "--user", "ana")
    assert "editor\tana\there" in gshare("share", "list", "finance")[1]
    assert gshare("share", "revoke", "finance", "--user", "ana")[0] == 0
    assert "ana" not in gshare("share", "list", "finance")[1]
    assert gshare("user", "disable", "ana")[0] == 0
    assert "disabled" in gshare("user", "list")[1]


def test_department_cannot_move_under_itself(gshare):
    gshare("department", "add", "Ministry", "--slug", "ministry")
    gshare("department", "add", "Dept", "--parent", "ministry", "--slug", "dept")
    code, out = gshare("department", "move", "ministry", "--parent", "dept")
    assert code == 1 and "under itself" in out


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["db", "upgrade"],
        ["department", "add"],
        ["department", "list"],
        ["department", "move"],
        ["user", "add"],
        ["user", "list"],
        ["user", "disable"],
        ["user", "set-password"],
        ["user", "import"],
        ["share", "grant"],
        ["share", "revoke"],
        ["share", "list"],
        ["fsck"],
        ["gc"],
    ],
)
def test_every_command_explains_itself(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_operator_reviews_and_releases_the_quarantine(gshare, gs):
    from gshare.core.models import ScanState
    from tests.fixtures.world import World, mark_scanned

    with gs.unit_of_work() as ctx:
        world = World(ctx)
        alice = world.user("alice")
        version = world.upload(alice, world.home(alice), "invoice.pdf", b"x", clean=False)
        mark_scanned(version, ScanState.INFECTED)
        version.scan_signature = "Win.Test.Signature"
    code, out = gshare("quarantine", "list")
    assert code == 0 and f"{version.id}\t" in out and "alice\thome-alice/invoice.pdf" in out
    assert "Win.Test.Signature" in gshare("quarantine", "show", str(version.id))[1]
    code, out = gshare("quarantine", "release", str(version.id))
    assert code == 2 and "--reason" in out
    assert gshare("quarantine", "release", str(version.id), "--reason", "false positive")[0] == 0
    assert str(version.id) not in gshare("quarantine", "list")[1]


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql+psycopg://gshare:hunter2@127.0.0.1:1/gshare", "cannot use the database at"),
        ("not a url", "'database.url' is not a database URL"),
        ("mysql://gshare@db/gshare", "gshare runs on PostgreSQL or SQLite"),
    ],
)
def test_a_bad_database_url_is_one_line_naming_the_setting(tmp_path, url, said):
    path = tmp_path / "config.toml"
    path.write_text(f'[server]\ndata_dir = "{tmp_path}"\n[database]\nurl = "{url}"\n')
    result = CliRunner().invoke(main, ["--config", str(path), "user", "list"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and said in lines[0], lines
    assert "hunter2" not in result.output  # the password is never shown
