"""The content policy: what a person may share, judged by the file's content and by its name."""

import dataclasses
import io
import zipfile

import pytest

from antivirus import detect_content_type
from gshare.access.gate import current_version
from gshare.core.config import AntivirusConfig, ConfigError, load_config
from gshare.core.errors import NameInvalid
from gshare.core.models import Node, ScanState
from gshare.core.names import clean_name
from gshare.files import folders
from gshare.scanning.policy import policy_violation
from tests.fixtures.world import mark_scanned

PDF = b"%PDF-1.4\nminutes of the meeting\n%%EOF\n"

# The [Content_Types].xml main part of each OOXML flavour, and the folder of its main part.
_MAIN = {
    "docx": ("word/document.xml", "officedocument.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "officedocument.spreadsheetml.sheet.main+xml"),
    "docm": ("word/document.xml", "ms-word.document.macroEnabled.main+xml"),
    "xlsm": ("xl/workbook.xml", "ms-excel.sheet.macroEnabled.main+xml"),
    "pptm": ("ppt/presentation.xml", "ms-powerpoint.presentation.macroEnabled.main+xml"),
}
_VBA = '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'


def office_file(kind: str, vba: bool = False, declare_vba: bool | None = None) -> bytes:
    """Build an OOXML file as Office writes it: [Content_Types].xml first, then the parts."""
    part, main_type = _MAIN[kind]
    declare_vba = vba if declare_vba is None else declare_vba
    types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f"{_VBA if declare_vba else ''}"
        f'<Override PartName="/{part}" ContentType="application/vnd.{main_type}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(part, "<document>" + "text " * 50 + "</document>")
        if vba:
            archive.writestr(
                part.split("/")[0] + "/vbaProject.bin", b"\xd0\xcf\x11\xe0" + bytes(512)
            )
    return buffer.getvalue()


def upload(world, name: str, data: bytes):
    """Upload as alice into her own space (no clamd here: the policy judges at once)."""
    if not hasattr(world, "alice"):
        world.alice = world.user("alice")
    return world.upload(world.alice, world.home(world.alice), name, data, clean=False)


BLOCKED_BY_NAME = [
    "run.js",
    "run.jse",
    "settings.wsh",
    "tweak.reg",
    "link.url",
    "console.msc",
    "help.chm",
    "disk.iso",
    "disk.img",
    "disk.vhd",
    "disk.vhdx",
    "explorer.scf",
    "addin.xll",
    "app.application",
    "app.appref-ms",
    "panel.settingcontent-ms",
    "lib.library-ms",
    "page.hta",
    "script.ps1",
    "module.psm1",
    "invoice.pdf.exe",
]


def test_documents_pass_and_windows_scripts_shortcuts_and_images_are_blocked(world):
    assert upload(world, "minutes.pdf", PDF).scan_state == ScanState.PENDING
    assert upload(world, "notes.txt", b"notes\n").scan_state == ScanState.PENDING
    for name in BLOCKED_BY_NAME:
        version = upload(world, name, b"some bytes\n")
        ending = "." + name.rsplit(".", 1)[1]
        assert version.scan_state == ScanState.BLOCKED, name
        assert version.scan_signature == f"files ending in {ending} may not be shared"


@pytest.mark.parametrize("name", ["evil.exe.", "evil.exe ", "EVIL.Exe . .", "Run.JS"])
def test_the_ending_check_sees_through_trailing_dots_spaces_and_case(world, name):
    assert upload(world, "evil.exe.txt", b"text\n").scan_state == ScanState.PENDING
    version = upload(world, name, b"text\n")
    assert version.scan_state == ScanState.BLOCKED
    assert version.scan_signature.startswith("files ending in .")


def test_registry_files_shortcuts_and_help_files_are_blocked_by_content_whatever_the_name(world):
    samples = {
        "settings.txt": b"Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\X]\r\n",
        "bookmark.txt": b"[InternetShortcut]\r\nURL=file://server/share/x\r\n",
        "explorer.txt": b"[Shell]\r\nCommand=2\r\nIconFile=\\\\server\\x.ico\r\n",
        "manual.pdf": b"ITSF\x03\x00\x00\x00\x60\x00\x00\x00\x01\x00\x00\x00" + bytes(200),
    }
    assert upload(world, "readme.txt", b"plain words\n").scan_state == ScanState.PENDING
    for name, data in samples.items():
        version = upload(world, name, data)
        assert version.scan_state == ScanState.BLOCKED, (name, version.content_type)
        assert version.content_type in version.scan_signature


def test_libmagic_reports_macro_documents_by_their_declared_content():
    assert detect_content_type(office_file("docx")) == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert detect_content_type(office_file("docm", vba=True)) == (
        "application/vnd.ms-word.document.macroEnabled.12"
    )
    assert detect_content_type(office_file("xlsm", vba=True)) == (
        "application/vnd.ms-excel.sheet.macroEnabled.12"
    )
    assert detect_content_type(office_file("pptm", vba=True)) == (
        "application/vnd.ms-powerpoint.presentation.macroEnabled.12"
    )
    # a macro project put into a plain document, its declaration left out
    assert detect_content_type(office_file("docx", vba=True, declare_vba=False)) == (
        "application/vnd.ms-word.document.macroEnabled.12"
    )


def test_office_macros_are_blocked_by_name_and_by_content(world):
    assert upload(world, "report.docx", office_file("docx")).scan_state == ScanState.PENDING
    assert upload(world, "budget.xlsx", office_file("xlsx")).scan_state == ScanState.PENDING
    cases = {
        "report.docm": office_file("docm", vba=True),
        "budget.xlsm": office_file("xlsm", vba=True),
        "template.dotm": b"bytes",
        "addin.xlam": b"bytes",
        "show.ppsm": b"bytes",
        "renamed.docx": office_file("docm", vba=True),
        "smuggled.docx": office_file("docx", vba=True, declare_vba=False),
    }
    for name, data in cases.items():
        version = upload(world, name, data)
        assert version.scan_state == ScanState.BLOCKED, name
    renamed = upload(world, "renamed2.docx", office_file("docm", vba=True))
    assert renamed.scan_signature == (
        "documents with macros (application/vnd.ms-word.document.macroEnabled.12) may not be shared"
    )


def test_a_ministry_that_needs_macros_may_allow_them():
    allowing = dataclasses.replace(AntivirusConfig(), block_office_macros=False)
    macro_type = "application/vnd.ms-excel.sheet.macroEnabled.12"
    assert policy_violation(AntivirusConfig(), "budget.xlsm", macro_type) is not None
    assert policy_violation(allowing, "budget.xlsm", macro_type) is None
    assert policy_violation(allowing, "budget.xlsx", macro_type) is None
    assert policy_violation(allowing, "run.js", "text/plain") is not None


@pytest.mark.parametrize(
    "name",
    [
        "rtl\u202efdp.js",
        "a\u202ab",
        "a\u202bb",
        "a\u202cb",
        "a\u202db",
        "x\u2066y",
        "x\u2067y",
        "x\u2068y",
        "x\u2069y",
        "x\u200ey",
        "x\u200fy",
        "x\u061cy",
    ],
)
def test_names_with_direction_controls_are_refused(name):
    assert clean_name("ລາຍງານ ປີ 2024.pdf") == "ລາຍງານ ປີ 2024.pdf"
    assert clean_name("تقرير.pdf") == "تقرير.pdf"  # right-to-left text itself is fine
    with pytest.raises(NameInvalid, match="direction of text"):
        clean_name(name)


def test_c1_control_characters_are_refused_in_names():
    with pytest.raises(NameInvalid, match="control characters"):
        clean_name("a\x85b.txt")


def test_an_ending_without_its_dot_is_refused_in_the_config(tmp_path):
    path = tmp_path / "gshare.toml"
    path.write_text('[antivirus]\ndeny_extensions = [".exe"]\n')
    assert load_config(path).antivirus.deny_extensions == (".exe",)
    path.write_text('[antivirus]\ndeny_extensions = ["exe"]\n')
    with pytest.raises(ConfigError, match="'antivirus.deny_extensions' must list endings"):
        load_config(path)


def test_a_clean_text_file_cannot_be_renamed_or_moved_to_an_ending_windows_runs(world):
    notes = upload(world, "notes.txt", b"del /q notes\n")
    mark_scanned(notes, ScanState.CLEAN)
    renamed = folders.rename_node(world.ctx, world.alice, notes.node_id, "minutes.txt")
    assert renamed.name == "minutes.txt"
    for name in ("minutes.bat", "minutes.BAT. ", "minutes.docm"):
        with pytest.raises(NameInvalid) as refused:
            folders.rename_node(world.ctx, world.alice, notes.node_id, name)
        assert refused.value.detail["reason"] == "blocked_ending"
    target = world.folder(world.home(world.alice), "Archive", actor=world.alice)
    with pytest.raises(NameInvalid):
        folders.move_node(world.ctx, world.alice, notes.node_id, target.id, "minutes.cmd")
    assert world.ctx.db.get(Node, notes.node_id).name == "minutes.txt"


def test_a_file_already_blocked_by_its_name_may_be_renamed_and_stays_blocked(world):
    script = upload(world, "setup.bat", b"@echo off\r\n")
    assert script.scan_state == ScanState.BLOCKED
    renamed = folders.rename_node(world.ctx, world.alice, script.node_id, "setup2.cmd")
    assert renamed.name == "setup2.cmd"
    assert script.scan_state == ScanState.BLOCKED


def test_a_copy_under_an_ending_windows_runs_is_blocked_and_hidden_from_others(world):
    notes = upload(world, "notes.txt", b"del /q notes\n")
    mark_scanned(notes, ScanState.CLEAN)
    same = folders.copy_node(world.ctx, world.alice, notes.node_id, notes.node.parent_id)
    assert current_version(world.ctx.db, None, same).scan_state == ScanState.CLEAN
    copy = folders.copy_node(
        world.ctx, world.alice, notes.node_id, notes.node.parent_id, "notes.bat"
    )
    version = current_version(world.ctx.db, world.alice, copy)
    assert version.scan_state == ScanState.BLOCKED
    assert version.scan_signature == "files ending in .bat may not be shared"
    assert current_version(world.ctx.db, None, copy) is None
