"""check-config speaks an administrator's language: positions from 1, names, plain words, clear reasons."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.cli import main
from bot.config import PLAIN_WORDS, ConfigError, Settings, load_settings

TOKEN = '[telegram]\ntoken = "123456:TEST-TOKEN-abcdef"\n'
VERA = '[[counsellors]]\ntelegram_id = 1001\nname = "Vera de Vries"\nserves = ["staff"]\n'
KARIM = '[[counsellors]]\ntelegram_id = 1002\nname = "Karim Amrani"\nserves = ["office_holders"]\n'


def problems(tmp_path, text: str) -> str:
    """The problems load_settings names in ``text`` (given a valid token)."""
    path = tmp_path / "config.toml"
    if "[telegram]\n" in text:
        text = text.replace("[telegram]\n", TOKEN)
    else:
        text += TOKEN  # last, so the settings above it stay at the top level
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_settings(path, environ={})
    return str(refused.value)


def test_people_are_named_and_counted_from_one(tmp_path):
    message = problems(tmp_path, VERA + KARIM.replace("1002", "0"))
    assert "counsellors #2 (Karim Amrani).telegram_id: must be more than 0" in message
    assert "[1]" not in message and "[0]" not in message


def test_a_position_without_a_name_is_still_counted_from_one(tmp_path):
    message = problems(tmp_path, '[[aftercare.check_ins]]\nafter = "PT72H"\n[[aftercare.check_ins]]\nafter = "soon"\n')
    assert "aftercare.check_ins #2.after: 'soon' is not an ISO 8601 duration" in message


def test_a_closing_check_in_that_is_not_the_last_is_an_error_with_its_reason(tmp_path):
    message = problems(
        tmp_path,
        '[[aftercare.check_ins]]\nafter = "PT72H"\n'
        '[[aftercare.check_ins]]\nafter = "P14D"\nclosing = true\n'
        '[[aftercare.check_ins]]\nafter = "P42D"\n',
    )
    assert "aftercare.check_ins: check-in #2 has closing = true but is not the last one" in message
    assert "no check-in could follow it" in message


def test_one_person_as_counsellor_and_coordinator_is_an_error_not_a_warning(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(
        TOKEN + VERA + KARIM + '[[coordinators]]\ntelegram_id = 1002\nname = "Karim Amrani"\n', encoding="utf-8"
    )
    assert main(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        "telegram_id 1002 is both a counsellor and a coordinator"
        " (counsellors #2 (Karim Amrani) and coordinators #1 (Karim Amrani))" in err
    )
    assert "One person cannot be both" in err


def test_the_same_person_twice_in_one_list_names_both_places(tmp_path):
    message = problems(tmp_path, VERA + VERA.replace("Vera de Vries", "Vera"))
    assert (
        "telegram_id 1001 appears more than once (counsellors #1 (Vera de Vries) and counsellors #2 (Vera))" in message
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[telegram]\npoll_timeout = 60\n", "telegram.poll_timeout: must be 50 or less"),
        ("[telegram]\npoll_timeout = -1\n", "telegram.poll_timeout: must be 0 or more"),
        ('[telegram]\npoll_timeout = "soon"\n', "telegram.poll_timeout: must be a whole number, such as 30"),
        ("[telegram]\npoll_timeout = 1.5\n", "telegram.poll_timeout: must be a whole number, without decimals"),
        ("[telegram]\npoll_timeout = [1]\n", "telegram.poll_timeout: must be a whole number, such as 30"),
        ('[[counsellors]]\ntelegram_id = 1\nserves = ["staff"]\n', "counsellors #1.name: is missing"),
        ('[[counsellors]]\ntelegram_id = 1\nname = ""\nserves = ["staff"]\n', "must be at least 1 character(s) long"),
        (
            f'[[counsellors]]\ntelegram_id = 1\nname = "{"x" * 81}"\nserves = ["staff"]\n',
            "must be at most 80 characters long",
        ),
        (
            '[[counsellors]]\ntelegram_id = 1\nname = "A"\nserves = []\n',
            "counsellors #1 (A).serves: must list at least 1",
        ),
        ('[[counsellors]]\ntelegram_id = 1\nname = "A"\nserves = "staff"\n', "must be a list in square brackets"),
        ('[[counsellors]]\ntelegram_id = 1\nname = "A"\nserves = ["staff"]\nlanguage = "de"\n', "must be 'nl' or 'en'"),
        (
            '[[aftercare.check_ins]]\nafter = "PT1H"\nclosing = "maybe"\n',
            "closing: must be true or false, without quotes",
        ),
        ("timezone = 5\n", 'timezone: must be text in double quotes, such as "example"'),
        ('coordinators = "Karim"\n', "coordinators: must be a list in square brackets"),
        ('access = "open"\n', "access: must be a table: a [section]"),
        ("[storage]\ndatabase = 5\n", 'storage.database: must be a file path in double quotes, such as "meldbot.db"'),
        ('[telegram]\npoll_timeout = "1' + "0" * 5000 + '"\n', "telegram.poll_timeout: is too large a number"),
    ],
)
def test_pydantic_wording_is_translated_into_plain_words(tmp_path, text, expected):
    message = problems(tmp_path, text)
    assert expected in message
    assert "Input should" not in message and "Field required" not in message and "String should" not in message


def test_every_plain_sentence_fills_in_from_pydantics_context():
    """Each table entry is used with the context pydantic gives that error type."""
    seen: dict[str, dict] = {}
    for raw in [
        {"telegram": {"poll_timeout": 99}},
        {"telegram": {"poll_timeout": -5}},
        {"counsellors": [{"telegram_id": 0, "name": "", "serves": [], "language": "x"}]},
        {"counsellors": [{"telegram_id": 1, "name": "y" * 99, "serves": ["staff"]}]},
    ]:
        try:
            Settings.model_validate(raw)
        except ValidationError as error:
            seen.update({e["type"]: e.get("ctx") or {} for e in error.errors(include_url=False)})
    for kind, context in seen.items():
        if kind in PLAIN_WORDS:
            assert "{" not in PLAIN_WORDS[kind].format(**context)


# -- [organisation]: who is responsible for the data (/privacy, the bot's description) ------------

ORGANISATION = (
    '[organisation]\nname = "Gemeente Voorbeeld"\naddress = "Raadhuisplein 1, 1234 AB Voorbeeld"\n'
    'privacy_contact = "privacy@gemeente.example"\n'
)


def test_the_organisation_reaches_the_privacy_statement_with_or_without_an_officer(tmp_path):
    from flows.privacy import Organisation

    path = tmp_path / "config.toml"
    path.write_text(TOKEN + ORGANISATION, encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.organisation_details() == Organisation(
        "Gemeente Voorbeeld", "Raadhuisplein 1, 1234 AB Voorbeeld", "privacy@gemeente.example", None
    )
    assert not any("[organisation]" in warning for warning in settings.warnings())
    path.write_text(TOKEN + ORGANISATION + 'privacy_officer = "  fg@gemeente.example "\n', encoding="utf-8")
    assert load_settings(path, environ={}).organisation_details().privacy_officer == "fg@gemeente.example"


def test_without_an_organisation_the_bot_runs_and_check_config_warns(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(TOKEN, encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.organisation_details() is None
    assert any(warning.startswith("no [organisation]: /privacy") for warning in settings.warnings())


@pytest.mark.parametrize("contact", ["privacy@gemeente.example", "14 020", "+31 (0)20 123 45 67", "020-1234567"])
def test_a_privacy_contact_is_an_e_mail_address_or_a_phone_number(tmp_path, contact):
    path = tmp_path / "config.toml"
    path.write_text(TOKEN + ORGANISATION.replace("privacy@gemeente.example", contact), encoding="utf-8")
    assert load_settings(path, environ={}).organisation_details().privacy_contact == contact


@pytest.mark.parametrize(
    "change, expected",
    [
        (("privacy@gemeente.example", "de afdeling privacy"), "organisation.privacy_contact: must be one e-mail"),
        (("privacy@gemeente.example", "privacy@gemeente"), "organisation.privacy_contact: must be one e-mail"),
        (("privacy@gemeente.example", "112"), "organisation.privacy_contact: must be one e-mail"),
        (('name = "Gemeente Voorbeeld"\n', ""), "organisation.name: is missing"),
        (('address = "Raadhuisplein 1, 1234 AB Voorbeeld"\n', ""), "organisation.address: is missing"),
        (('"Gemeente Voorbeeld"', '"   "'), "organisation.name: must be one line of text"),
        (('"Gemeente Voorbeeld"', '"""Gemeente\nVoorbeeld"""'), "organisation.name: must be one line of text"),
        (('"Gemeente Voorbeeld"', f'"{"x" * 81}"'), "organisation.name: must be at most 80 characters long"),
        (("privacy_contact", "contact"), "organisation.contact: is not a setting meldbot knows"),
    ],
)
def test_each_problem_with_the_organisation_is_named(tmp_path, change, expected):
    assert expected in problems(tmp_path, ORGANISATION.replace(*change))


def test_departments_and_work_processes_come_from_the_organisation(tmp_path):
    from flows.model import DEFAULT_WORK_PROCESSES

    path = tmp_path / "config.toml"
    path.write_text(TOKEN, encoding="utf-8")
    policy = load_settings(path, environ={}).policy()
    assert (policy.departments, policy.work_processes) == ((), DEFAULT_WORK_PROCESSES)
    listed = ORGANISATION + 'departments = ["Burgerzaken", " Handhaving "]\nwork_processes = []\n'
    path.write_text(TOKEN + listed, encoding="utf-8")
    policy = load_settings(path, environ={}).policy()
    assert (policy.departments, policy.work_processes) == (("Burgerzaken", "Handhaving"), ())


@pytest.mark.parametrize(
    "listed, expected",
    [
        ('departments = ["Handhaving", "Handhaving"]', "organisation.departments: each name may appear only once"),
        ('departments = [""]', "organisation.departments #1: must be at least 1 character"),
        (f'work_processes = ["{"x" * 61}"]', "organisation.work_processes #1: must be at most 60 characters"),
    ],
)
def test_a_department_list_that_cannot_be_shown_is_refused_with_its_reason(tmp_path, listed, expected):
    assert expected in problems(tmp_path, ORGANISATION + listed + "\n")
