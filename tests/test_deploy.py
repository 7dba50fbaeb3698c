"""What an operator expects: a version, a changelog, and a hardened systemd unit that systemd accepts."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.cli import UNITS, _parser, main, systemd_unit

ROOT = Path(__file__).resolve().parent.parent


def test_meldbot_version_is_the_packages_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert capsys.readouterr().out == f"meldbot {version}\n"


def test_the_changelog_keeps_an_unreleased_section_naming_the_operator_commands():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# Changelog")
    unreleased = changelog.split("## [Unreleased]", 1)[1].split("\n## [", 1)[0]
    for command in ("meldbot backup", "meldbot restore", "meldbot rotate-key", "meldbot systemd-unit", "--version"):
        assert command in unreleased


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = _parser()._subparsers._group_actions[0].choices  # what `meldbot --help` lists
    assert [c for c in commands if f"meldbot {c}" not in readme] == []


@pytest.mark.parametrize("name", ["meldbot.service", "meldbot-backup.service", "meldbot-backup.timer"])
def test_meldbot_prints_its_systemd_units(capsys, name):
    assert main(["systemd-unit", name] if name != "meldbot.service" else ["systemd-unit"]) == 0
    assert capsys.readouterr().out == (ROOT / "bot" / "deploy" / name).read_text(encoding="utf-8")


def test_the_unit_runs_meldbot_as_its_own_user_with_the_usual_hardening():
    settings = dict(
        line.split("=", 1) for line in systemd_unit().splitlines() if "=" in line and not line.startswith("#")
    )
    assert settings["ExecStart"] == "/opt/meldbot/venv/bin/meldbot run --config /etc/meldbot/config.toml"
    assert settings["User"] == "meldbot" and settings["EnvironmentFile"] == "/etc/meldbot/meldbot.env"
    assert settings["ReadWritePaths"] == "/var/lib/meldbot" and settings["StateDirectoryMode"] == "0700"
    for key, value in {
        "ProtectSystem": "strict",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "CapabilityBoundingSet": "",
        "UMask": "0077",
        "RestartPreventExitStatus": "2",
    }.items():
        assert settings[key] == value, key


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed (.ci/run installs it)"
)
def test_systemd_analyze_verify_accepts_the_units_without_a_warning(tmp_path):
    meldbot = Path(sys.executable).with_name("meldbot")  # the installed command: ExecStart must exist
    assert meldbot.exists()
    units = []
    for name in UNITS:
        unit = tmp_path / name
        unit.write_text(systemd_unit(name).replace("/opt/meldbot/venv/bin/meldbot", str(meldbot)), encoding="utf-8")
        units.append(str(unit))
    result = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    broken = tmp_path / "broken.service"
    broken.write_text(
        re.sub(r"ProtectSystem=strict", "ProtectSystem=everything", (tmp_path / "meldbot.service").read_text()),
        encoding="utf-8",
    )
    complaint = subprocess.run(["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, timeout=60)
    assert "protect system value" in complaint.stderr  # the check does notice a mistake
