"""What a unit of the department tree is called at its level (`[org] unit_names`)."""

import pytest

from gshare.core.config import Config, ConfigError
from gshare.org.departments import unit_kind


def test_without_unit_names_every_level_is_a_unit(world):
    top = world.department("ກະຊວງ")
    below = world.department("ກົມ", top)
    assert [unit_kind(world.ctx, d) for d in (top, below)] == ["unit", "unit"]


def test_unit_names_must_be_known_words():
    named = Config().replace(org={"unit_names": ("ministry", "section")})
    assert named.org.unit_names == ("ministry", "section")
    with pytest.raises(ConfigError, match="org.unit_names"):
        Config().replace(org={"unit_names": ("kingdom",)})
