"""plancheck.toml values validated where they enter (issue 11, items 4 and 7): one ConfigError naming
file and line, never an OverflowError, a ValueError, or a string split into characters."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from plancheck.cli.main import app
from plancheck.config import load_config
from plancheck.errors import ConfigError

MACHINE = '[[machines]]\nname = "agility1"\n'


def load(tmp_path: Path, text: str | bytes) -> object:
    path = tmp_path / "plancheck.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return load_config(path)


@pytest.mark.parametrize(
    "text, line, needle",
    [
        ("[mosaiq]\ntimeout_s = inf\n", 2, "timeout_s is inf"),
        ("[mosaiq]\ntimeout_s = nan\n", 2, "timeout_s is nan"),
        ("[mosaiq]\ntimeout_s = 1e400\n", 2, "timeout_s is inf"),
        ("[mosaiq]\ntimeout_s = 0\n", 2, "from 1 to 3600"),
        ("[mosaiq]\ntimeout_s = \"30\"\n", 2, "a whole number"),
        (MACHINE + "max_gantry_speed_dps = inf\n", 3, "max_gantry_speed_dps is inf"),
        (MACHINE + "max_gantry_speed_dps = -6\n", 3, "above 0"),
        (MACHINE + "max_dose_rate_mu_min = nan\n", 3, "max_dose_rate_mu_min is nan"),
        (MACHINE + "icom_port = 99999999999999\n", 3, "icom_port"),
        (MACHINE + "icom_port = 1706.5\n", 3, "a whole number"),
        (MACHINE + 'dose_rate_steps = "600"\n', 3, "dose_rate_steps must be a list of numbers"),
        (MACHINE + "dose_rate_steps = [600, inf]\n", 3, "dose_rate_steps is inf"),
        (MACHINE + "dose_rate_steps = [1200]\n", 3, "at most 600"),
        ('mosaiq = "x"\n', 1, "mosaiq must be a table"),
        ('folders = "x"\n', 1, "folders must be a table"),
        ('[rules]\ndirs = "clinic-rules"\n', 2, "dirs must be a list of paths"),
        ('machines = "x"\n', 1, "[[machines]]"),
    ],
)
def test_bad_values_name_file_and_line(tmp_path: Path, text: str, line: int, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    assert f"plancheck.toml:{line}" in info.value.message and needle in info.value.message


def test_dose_rate_steps_string_is_never_split_into_characters(tmp_path: Path) -> None:
    """The defect: "600" read as (6, 0, 0) gave a 1,572 s beam-on time."""
    with pytest.raises(ConfigError, match="list of numbers"):
        load(tmp_path, MACHINE + 'dose_rate_steps = "600"\n')
    config = load(tmp_path, MACHINE + "dose_rate_steps = [600, 300, 150]\n")
    assert config.machine("AGILITY1").dose_rate_steps == (600.0, 300.0, 150.0)  # type: ignore[attr-defined]


def test_good_values_still_read(tmp_path: Path) -> None:
    config = load(tmp_path, '[mosaiq]\nurl = "sqlite:///x.db"\ntimeout_s = 45\n' + MACHINE + "icom_port = 1706\nmax_gantry_speed_dps = 4.8\n")
    assert config.mosaiq_timeout_s == 45 and config.machine("agility1").max_gantry_speed_dps == 4.8  # type: ignore[attr-defined]


def test_non_utf8_config_names_the_byte_offset(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"plancheck.toml:2: not UTF-8 text: byte 0xe9 at offset 19"):
        load(tmp_path, b'[mosaiq]\nurl = "caf\xe9"\n')


def test_cli_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "plancheck.toml"
    path.write_text(MACHINE + 'dose_rate_steps = "600"\n')
    result = CliRunner().invoke(app, ["rules", "list", "--config", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0 and "dose_rate_steps" in result.output
