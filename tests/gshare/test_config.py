"""The config file: documented, validated, and read into one frozen object."""

import dataclasses
import tomllib
from pathlib import Path

import pytest

from gshare.core.config import Config, ConfigError, load_config

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def test_example_config_documents_every_setting_with_its_default():
    assert load_config(EXAMPLE) == Config()
    documented = tomllib.loads(EXAMPLE.read_text())
    for section in dataclasses.fields(Config):
        keys = {f.name for f in dataclasses.fields(getattr(Config(), section.name))}
        assert set(documented[section.name]) == keys, section.name


def test_no_file_means_embedded_defaults():
    config = load_config(None)
    assert config.embedded_storage
    assert config.database_url.startswith("sqlite:///") and config.database_url.endswith(
        "var/gshare.db"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("[storage]\nendpont = 'x'", "unknown setting 'storage.endpont'; did you mean 'endpoint'?"),
        ("[server]\nworkers = 'two'", "'server.workers' must be a int"),
        ("[server]\nworkers = 0", "'server.workers' must be more than 0"),
        ("[server]\ntrusted_proxies = -1", "'server.trusted_proxies' must be 0"),
        ("[server]\nlisten = 'localhost'", "'server.listen' must look like host:port"),
        ("[server]\ns3_public_url = 's3.example'", "'server.s3_public_url' must be empty or start"),
        ("[antivirus]\nclamd = '/run/clamd.sock'", "'antivirus.clamd' must look like unix:///"),
        ("[storage]\nendpoint = 'http://minio:9000'", "'storage.access_key' and"),
        ("[storage]\npart_size_mb = 1", "at least 5"),
        ("[database]\nauto_upgrade = 1", "'database.auto_upgrade' must be a bool"),
        ("[antivirus]\nmax_scan_size_mb = 4096", "at most 2047"),
        ("[quota\n", "not valid TOML"),
        ("[nosuch]\nx = 1", "unknown setting 'nosuch'"),
    ],
)
def test_wrong_values_are_named_with_what_to_fix(tmp_path, text, message):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        load_config(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().server.listen = "0.0.0.0:80"
