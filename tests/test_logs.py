"""Log lines: no token and no personal data, whatever a library logs, in text and in JSON."""

from __future__ import annotations

import io
import json
import logging

import pytest
from pydantic import BaseModel, ValidationError
from telegram import Bot, Update

from bot import logs

TOKEN = "123456:TEST-TOKEN-abcdef"
TELEGRAM_ID = 913_457_286
PERSONAL = ["Annafirst", "Annalast", "anna_user", "ik word bedreigd", "+31612345678", "aangifte.pdf", str(TELEGRAM_ID)]

RAW_UPDATE = {
    "update_id": 100_000_007,
    "message": {
        "message_id": 7,
        "date": "yesterday",
        "chat": {"id": TELEGRAM_ID, "type": "private", "first_name": "Annafirst", "last_name": "Annalast"},
        "from": {"id": TELEGRAM_ID, "is_bot": False, "first_name": "Annafirst", "username": "anna_user"},
        "text": 'ik word bedreigd, it\'s "serious"',
        "contact": {"phone_number": "+31612345678", "first_name": "Annafirst"},
        "document": {"file_id": "AgAD", "file_unique_id": "AQAD", "file_name": "aangifte.pdf"},
    },
}


@pytest.fixture(params=["text", "json"])
def log_output(request):
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logs.configure("DEBUG", [TOKEN], stream=buffer, fmt=request.param)
    yield buffer
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def parse_failure() -> Exception:
    try:
        Update.de_list([RAW_UPDATE], Bot(TOKEN))
    except Exception as error:  # noqa: BLE001 - whatever python-telegram-bot raises is what it logs
        return error
    raise AssertionError("the update was expected not to parse")


def assert_nothing_personal(text: str) -> None:
    found = [value for value in PERSONAL if value in text]
    assert found == [], text


def test_python_telegram_bots_dump_of_an_unparseable_update_is_withheld(log_output):
    error = parse_failure()
    logging.getLogger("telegram.ext.ExtBot").critical(
        "Error while parsing updates! Received data was %r", [RAW_UPDATE], exc_info=error
    )
    logging.getLogger("telegram.ext.Updater").critical(
        "Something went wrong processing the data received from Telegram. Received data was *not* processed!",
        exc_info=error,
    )
    output = log_output.getvalue()
    assert "Received data was <list withheld>" in output and "TypeError" in output
    assert_nothing_personal(output)


@pytest.mark.parametrize(
    "message, args",
    [
        # The webhook handler logs the body as a string.
        ("Webhook received data: %s", (json.dumps(RAW_UPDATE),)),
        # A body as JSON inside JSON: every quote escaped.
        ("payload %s", (json.dumps({"body": json.dumps(RAW_UPDATE)}),)),
        ("%s", (str(RAW_UPDATE),)),
        # python-telegram-bot's repr of its own objects, already in the message text.
        (
            "Update(message=Message(chat=Chat(first_name='Annafirst', id=913457286, type=<ChatType.PRIVATE>),"
            " from_user=User(first_name='Annafirst', id=913457286, is_bot=False, username='anna_user'),"
            " text='ik word bedreigd'), update_id=5)",
            (),
        ),
        ("contact %s wrote from %s", ("+31612345678", TELEGRAM_ID)),
    ],
)
def test_personal_values_in_a_librarys_text_are_redacted(log_output, message, args):
    logging.getLogger("telegram.ext.Updater").warning(message, *args)
    assert_nothing_personal(log_output.getvalue())
    assert logs.REDACTED in log_output.getvalue()


def test_exception_messages_and_tracebacks_are_redacted_for_meldbots_own_lines_too(log_output):
    class Person(BaseModel):
        telegram_id: int

    typed_name = {"telegram_id": RAW_UPDATE["message"]["chat"]["first_name"]}
    try:
        Person.model_validate(typed_name)
    except ValidationError as error:
        logging.getLogger("bot.handlers").error("validation failed", exc_info=error)
    try:
        raise ValueError(f"could not use {RAW_UPDATE['message']}")
    except ValueError:
        logging.getLogger("flows.intake").exception("step failed")
    output = log_output.getvalue()
    assert "validation failed" in output and "step failed" in output and "ValueError" in output
    assert_nothing_personal(output)


def test_meldbots_own_lines_keep_their_references_and_counts(log_output):
    logging.getLogger("bot.app").info("audit head %s; %d scheduled item(s) pending", "1523:9f2c41ab", 100_000)
    assert "audit head 1523:9f2c41ab; 100000 scheduled item(s) pending" in log_output.getvalue()


def test_the_token_is_removed_before_anything_else_in_both_formats(log_output):
    logging.getLogger("httpx").warning("POST https://api.telegram.org/bot%s/getUpdates failed", TOKEN)
    try:
        raise RuntimeError(f"failed at /bot{TOKEN}/sendMessage")
    except RuntimeError:
        logging.getLogger("bot.delivery").exception("boom")
    output = log_output.getvalue()
    assert TOKEN not in output and "TEST-TOKEN" not in output and "123456" not in output


def test_json_lines_hold_one_entry_per_line_with_the_traceback_inside():
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("INFO", [TOKEN], stream=buffer, fmt="json")
        logging.getLogger("bot.app").warning("A NEW KEY FILE WAS CREATED: %s", "/var/lib/meldbot/meldbot.key")
        try:
            raise KeyError("lost")
        except KeyError:
            logging.getLogger("bot.delivery").exception("delivery failed")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING" and first["logger"] == "bot.app" and "exception" not in first
    assert first["message"] == "A NEW KEY FILE WAS CREATED: /var/lib/meldbot/meldbot.key"
    assert first["time"].endswith("+00:00")
    assert second["message"] == "delivery failed"
    assert second["exception"].startswith("Traceback (most recent call last):\n")
    assert second["exception"].endswith("KeyError: 'lost'")


def test_an_argument_that_does_not_fit_the_message_is_withheld_not_printed():
    """logging itself would print the arguments of a broken call to stderr ("Arguments: ...")."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logs.RedactingFormatter([TOKEN]))
    library = logging.getLogger("some.library")
    library.addHandler(handler)
    library.propagate = False
    library.setLevel(logging.INFO)  # whatever level an earlier test left the root logger at
    try:
        library.warning("count %d", {"first_name": "Annafirst"})
    finally:
        library.removeHandler(handler)
        library.propagate = True
        library.setLevel(logging.NOTSET)
    assert "count %d [arguments withheld]" in buffer.getvalue()
    assert_nothing_personal(buffer.getvalue())


def test_bytes_values_of_personal_fields_are_redacted_too(log_output):
    logging.getLogger("telegram.ext").warning("%s", str({"data": b"Annafirst", "text": b"ik word bedreigd"}))
    assert_nothing_personal(log_output.getvalue())
