"""The meldbot command: clear messages and exit status 2 for anything that stops it starting."""

from __future__ import annotations

import io
import logging
import socket
import stat

import pytest

from bot import logs
from bot.cli import main
from bot.config import TOKEN_ENV, load_settings, parse_duration

GOOD = """
[telegram]
token = "123456:TEST-TOKEN-abcdef"
[storage]
database = "{db}"
key_file = "{key}"
[[counsellors]]
telegram_id = 1001
name = "Vertrouwenspersoon"
serves = ["staff", "office_holders"]
[[coordinators]]
telegram_id = 2001
name = "Coördinator"
"""


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text.format(db=tmp_path / "m.db", key=tmp_path / "m.key"), encoding="utf-8")
    return path


def test_check_config_accepts_the_example_once_a_token_is_given(capsys, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main(["check-config", "--config", "config.example.toml"]) == 2
    assert "@BotFather" in capsys.readouterr().err
    monkeypatch.setenv(TOKEN_ENV, "123456:TEST-TOKEN-abcdef")
    assert main(["check-config", "--config", "config.example.toml"]) == 0
    assert "configuration is valid" in capsys.readouterr().out


def test_each_bad_setting_is_named_with_its_problem_and_exit_status_2(tmp_path, capsys):
    path = write(
        tmp_path,
        '[telegram]\ntoken = "123456:TEST-TOKEN-abcdef"\napi_base_url = "ftp://x"\n'
        '[[counsellors]]\ntelegram_id = 1\nname = "A"\nserves = ["everyone"]\n'
        '[cases]\nacknowledge_within = "tomorrow"\n'
        "[storag]\n",
    )
    assert main(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "telegram.api_base_url: must be an http:// or https:// URL" in err
    assert "counsellors #1 (A).serves #1: must be 'staff' or 'office_holders'" in err
    assert "cases.acknowledge_within: 'tomorrow' is not an ISO 8601 duration" in err
    assert "storag: is not a setting meldbot knows" in err


def test_without_a_token_it_explains_where_to_get_one(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.setenv("PTB_TIMEDELTA", "false")
    path = write(tmp_path, "[storage]\n")
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "@BotFather" in err and TOKEN_ENV in err


def test_the_environment_overrides_the_token_in_the_file(tmp_path):
    path = write(tmp_path, GOOD)
    settings = load_settings(path, environ={TOKEN_ENV: "654321:FROM-THE-ENVIRONMENT"})
    assert settings.token == "654321:FROM-THE-ENVIRONMENT"
    assert "FROM-THE-ENVIRONMENT" not in repr(settings)


def test_a_token_that_is_not_one_is_refused_without_echoing_it(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("123456:TEST-TOKEN-abcdef", "s3cr3t-but-wrong"))
    assert main(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "telegram.token" in err and "s3cr3t-but-wrong" not in err


def test_a_missing_file_and_broken_toml_are_explained(tmp_path, capsys):
    assert main(["check-config", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "broken.toml").write_text("[telegram\n")
    assert main(["check-config", "--config", str(tmp_path / "broken.toml")]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_a_key_file_that_does_not_match_the_database_stops_the_start(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "false")  # main() opts in process-wide; keep that out of other tests
    import asyncio

    from storage import Storage
    from storage.crypto import read_or_create_key_file

    async def create():
        await (await Storage.open(tmp_path / "m.db", tmp_path / "m.key")).close()

    asyncio.run(create())
    (tmp_path / "m.key").unlink()
    read_or_create_key_file(tmp_path / "m.key", may_create=True)  # a different key under the same name
    path = write(tmp_path, GOOD)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        assert main(["run", "--config", str(path)]) == 2
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    assert "does not belong to the database" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text, seconds",
    [("PT24H", 86400), ("P3D", 259200), ("P2W", 1209600), ("PT30S", 30), ("PT1.5S", 1.5), ("P1DT2H", 93600)],
)
def test_iso_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "P", "PT", "24h", "P1H", "PT-1S", "1 day"])
def test_not_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_the_token_is_redacted_from_every_log_line_and_traceback():
    token = "123456:TEST-TOKEN-abcdef"
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("DEBUG", [token], stream=buffer)
        logging.getLogger("meldbot.test").warning("calling https://api.telegram.org/bot%s/getMe", token)
        try:
            raise RuntimeError(f"failed at /bot{token}/sendMessage")
        except RuntimeError:
            logging.getLogger("meldbot.test").exception("boom")
        logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/getUpdates", token)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    output = buffer.getvalue()
    assert token not in output
    assert output.count(logs.REDACTED) == 2  # the message, and the exception line of the traceback
    assert "HTTP Request" not in output  # httpx is held at WARNING: URLs never reach the log


def test_a_created_key_file_is_owner_only(tmp_path):
    from storage.crypto import read_or_create_key_file

    read_or_create_key_file(tmp_path / "new.key", may_create=True)
    assert stat.S_IMODE((tmp_path / "new.key").stat().st_mode) == 0o600


def test_an_unreachable_bot_api_at_first_start_creates_no_key_file_and_no_database(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "false")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = tmp_path / "config.toml"
    path.write_text(
        GOOD.format(db=tmp_path / "data" / "m.db", key=tmp_path / "data" / "m.key").replace(
            "[storage]", f'api_base_url = "http://127.0.0.1:{port}/bot"\n[storage]'
        ),
        encoding="utf-8",
    )
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        assert main(["run", "--config", str(path)]) == 1
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    assert "cannot reach the Bot API" in capsys.readouterr().err
    assert not (tmp_path / "data" / "m.key").exists() and not (tmp_path / "data" / "m.db").exists()
