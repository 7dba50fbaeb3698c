"""Callback data: what we write fits in 64 bytes and reads back; anything else is refused."""

from __future__ import annotations

import typing
from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import callbacks, dispatch
from flows.casework import FILTERS
from flows.intake import _OPTIONS
from flows.invites import STAFF_CHOICES
from flows.lifecycle import (
    SETTABLE,
    ActionKind,
    ActionOutcome,
    CheckInAnswer,
    ClaimStatus,
    ConsentAnswer,
    CostKind,
    DossierConsent,
    FootageState,
    InfluenceAnswer,
    NotAloneAnswer,
    PoliceStep,
    SurveyAnswer,
    Thread,
)
from flows.model import Language, Role, Step
from flows.outcome import (
    Acknowledge,
    Action,
    AddDetail,
    AddInfo,
    AllReactions,
    Answer,
    AnswerDossier,
    AskConsent,
    CheckIn,
    ChooseLanguage,
    CleanUp,
    Consequences,
    CreateInvite,
    CreateStaffInvite,
    Damages,
    DamagesClaim,
    DamagesInsurance,
    DamagesItem,
    DamagesRecovered,
    Footage,
    Forget,
    GiveConsent,
    HandOver,
    Inbox,
    Influence,
    JointTimeline,
    MyCases,
    NotAlone,
    OpenCase,
    OpenMine,
    OwnCopy,
    PauseCheckIns,
    Police,
    PulseAnswer,
    PulseDecline,
    RecordAction,
    Recuse,
    RegisterView,
    Reoffer,
    ReplyTo,
    ResumeCheckIns,
    ResumeDraft,
    SendFiles,
    SetStatus,
    ShowNotes,
    StartMessage,
    StartNote,
    StartReport,
    StatsCharts,
    StatsView,
    StopCheckIns,
    StopComposing,
    Survey,
    ToggleLink,
    ToggleName,
    UpdateAction,
    Withdraw,
)
from flows.perpetrator import IdentifierKind
from flows.statistics import PeriodKind

REFERENCE = "MB-ABCD-2345"
LAST_PAGE = 9999  # the flows refuse pages from 10,000 on


def every_action() -> Iterator[Action]:
    """Every button the bot can show, with every value it can carry, at its longest."""
    yield StartReport()
    yield StopComposing()
    for step, values in _OPTIONS.items():
        for value in values:
            yield Answer("0123abcd", step, value)
    for code in ("c0", "c99", "k0", "k99", "back"):  # keeping staff out of a report
        yield Answer("0123abcd", Step.EXCLUDE, code)
    for keep in (True, False):
        yield ResumeDraft("0123abcd", keep=keep)
    for language in Language:
        yield ChooseLanguage(language)
    yield CleanUp("MB-ZZZZ-9999")
    for confirm in (True, False):
        yield Forget(confirm)
    for role in Role:
        yield CreateInvite(role, "")
        yield CreateInvite(role, "Toezicht & Handhaving")
        yield CreateInvite(role, "Coördinatie " + "é" * 8)  # 30 bytes, the most a department may be
    for staff_role, serves in STAFF_CHOICES:
        yield CreateStaffInvite(staff_role, serves, "")
        yield CreateStaffInvite(staff_role, serves, "Vera van der Berg-Ölçer é")  # 28 bytes
    for page, anchor, newer in ((0, None, False), (LAST_PAGE, REFERENCE, True), (1, REFERENCE, False)):
        yield Inbox(page, anchor, newer)
        yield MyCases(page, anchor, newer)
        for field, values in FILTERS.items():
            for value in values:
                yield RegisterView(**{field: value}, page=page, anchor=anchor, newer=newer)
    for kind, number in ((PeriodKind.MONTH, 12), (PeriodKind.QUARTER, 4), (PeriodKind.YEAR, 1)):
        for audience in ("a", "s", "h"):
            yield StatsView(kind, 9999, number, audience)
            yield StatsCharts(kind, 2000, number, audience)
    yield Acknowledge(REFERENCE)
    yield OpenCase(REFERENCE)
    yield SendFiles(REFERENCE)
    yield StartNote(REFERENCE)
    for page in (0, 1, LAST_PAGE):
        yield ShowNotes(REFERENCE, page)
    yield SetStatus(REFERENCE)
    for status in SETTABLE:
        yield SetStatus(REFERENCE, status)
    for to in (None, 0, 1, 999):
        yield HandOver(REFERENCE, to)
    for confirm in (True, False):
        yield Recuse(REFERENCE, confirm)
        yield Withdraw(REFERENCE, confirm)
    yield StartMessage(REFERENCE)
    yield AskConsent(REFERENCE)
    yield RecordAction(REFERENCE)
    for kind in ActionKind:
        yield RecordAction(REFERENCE, kind)
        for outcome in ActionOutcome:
            yield RecordAction(REFERENCE, kind, outcome)
    yield UpdateAction(REFERENCE, "0123abcd")
    for outcome in ActionOutcome:
        yield UpdateAction(REFERENCE, "0123abcd", outcome)
    yield OpenMine(REFERENCE)
    yield AddInfo(REFERENCE)
    yield AddDetail(REFERENCE)
    for kind in IdentifierKind:
        yield AddDetail(REFERENCE, kind)
    for thread in (Thread.COUNSELLOR, Thread.COORDINATOR):
        yield ReplyTo(REFERENCE, thread)
    for answer in ConsentAnswer:
        yield GiveConsent(REFERENCE, answer)
    yield ToggleName(REFERENCE)
    for step in (0, 5, 99):
        for checked in CheckInAnswer:
            yield CheckIn(REFERENCE, step, checked)
    for yes in (True, False):
        yield Reoffer(REFERENCE, yes)
    for said in SurveyAnswer:
        yield Survey(REFERENCE, said)
    for ticked in (0, 5, 31):
        for done in (True, False):
            yield Consequences(REFERENCE, ticked, done)
    for influence in InfluenceAnswer:
        yield Influence(REFERENCE, influence)
    yield PauseCheckIns(REFERENCE)
    yield StopCheckIns(REFERENCE)
    yield ResumeCheckIns(REFERENCE)
    yield AllReactions(REFERENCE)
    for state in (None, *FootageState):
        yield Footage(REFERENCE, state)
    for step in (None, *PoliceStep):
        yield Police(REFERENCE, step)
    yield Damages(REFERENCE)
    for kind in CostKind:
        yield DamagesItem(REFERENCE, kind)
    for claim in ClaimStatus:
        yield DamagesClaim(REFERENCE, claim)
    yield DamagesInsurance(REFERENCE)
    yield DamagesRecovered(REFERENCE)
    for period in ("2026q4", "2026m1", "2026m12", "2027y1"):  # flows/pulse.py period_key
        yield PulseAnswer(period)
        yield PulseAnswer(period, safety=5, unreported=1, reasons=15, reasons_done=True, decision=2)
        for mute in (True, False):
            yield PulseDecline(period, mute)
    for consent in DossierConsent:
        yield AnswerDossier(REFERENCE, consent)
    yield OwnCopy(REFERENCE)
    yield JointTimeline(REFERENCE)
    yield ToggleLink(REFERENCE)
    for said in NotAloneAnswer:
        yield NotAlone(REFERENCE, said)


def test_every_button_the_bot_can_show_fits_telegrams_limit_and_round_trips():
    for action in every_action():
        data = callbacks.encode(action)
        assert len(data.encode()) <= 64, data
        assert callbacks.decode(data) == action


def test_every_action_is_declared_once_and_reaches_a_flow():
    declared = [d.action for d in callbacks.DECLARATIONS]
    assert sorted(t.__name__ for t in declared) == sorted(t.__name__ for t in typing.get_args(Action))
    assert {type(a) for a in every_action()} == set(declared)  # the list above leaves no action out
    # Every declared action is handled: by a flow through HANDLERS, or (invitations) by admission and enrolment.
    assert set(declared) - set(dispatch.HANDLERS) == {CreateInvite, CreateStaffInvite}


def test_forged_and_mangled_data_is_refused():
    for forged in [
        "",
        "i:0123abcd:forms:nonsense!",
        "i:0123ABCD:forms:threat",
        "i:0123abcd:nostep:threat",
        "a:MB-0000-0000",
        "a:MB-ABCD-2345;DROP TABLE",
        "x:../../etc",
        "l:de",
        "d:0123abcd:2",
        "r:extra",
        "z",
        "c",
        "c:",
        "i:" + "a" * 70,
        # Buttons on a case: unknown verbs, values no codec reads, missing and extra fields.
        "c:zz:MB-ABCD-2345",
        "c:o:MB-ABCD-2345:extra",
        "c:o:MB-ABCD-234",
        "c:o:mb-abcd-2345",
        "c:o:MB-ABCD-2345 ",
        "c:st:MB-ABCD-2345:closed_forever",
        "c:st:MB-ABCD-2345",
        "c:ho:MB-ABCD-2345:1000",
        "c:ho:MB-ABCD-2345:01",
        "c:ho:MB-ABCD-2345:-1",
        "c:rc:MB-ABCD-2345:y",
        "c:rc:MB-ABCD-2345:2",
        "c:ac:MB-ABCD-2345:bribe:completed",
        "c:ac:MB-ABCD-2345:warning_letter.completed",
        "c:au:MB-ABCD-2345:0123ABCD:completed",
        "c:au:MB-ABCD-2345:0123abc:completed",
        "c:mr:MB-ABCD-2345:police",
        "c:mc:MB-ABCD-2345:maybe",
        "c:mw:MB-ABCD-2345",
        "c:ci:MB-ABCD-2345:100:fine",
        "c:ci:MB-ABCD-2345:01:fine",
        "c:ci:MB-ABCD-2345:0.fine",
        "c:ro:MB-ABCD-2345:n",
        "c:sv:MB-ABCD-2345:perhaps",
        "c:nl:MB-ABCD-2345:10000",
        # Lists and invitations.
        "n:0",
        "n:10000::0",
        "n:0:MB-ABCD-2345",
        "k:0:MB-ABCD-2345:2",
        "g:a:a:a:a:0",
        "g:x:a:a:a:0::0",
        "v:admiral:",
        "v:mayor:Griffie;DROP",
        # Digits from other scripts: the codec writes ASCII digits, so it reads only those.
        "n:1\u0663::0",
        "c:ci:MB-ABCD-2345:\u0661:fine",
    ]:
        assert callbacks.decode(forged) is None, forged


def _shape(declaration: callbacks.Declaration) -> st.SearchStrategy[str]:
    fields = [st.from_regex(f"(?:{codec.pattern})", fullmatch=True) for _, codec in declaration.fields]
    return st.tuples(*fields).map(lambda values: ":".join([declaration.prefix, *values]))


# Callback data in the exact shape of one declaration, each field anything its pattern allows.
DECLARED_SHAPES = st.one_of([_shape(d) for d in callbacks.DECLARATIONS])


# Some fifty regular expressions are compiled into strategies on the first draws, which can take
# over a second on a cold machine; that is the strategy's set-up, not slow data.
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(DECLARED_SHAPES)
def test_whatever_matches_a_declaration_reads_back_as_written(data):
    action = callbacks.decode(data)
    if len(data.encode()) > 64:
        assert action is None
    else:
        assert action is not None, data
        assert callbacks.encode(action) == data


@given(st.text(max_size=80))
def test_no_input_makes_decoding_fail_loudly(data):
    action = callbacks.decode(data)
    assert action is None or callbacks.encode(action) == data


@given(st.sampled_from(list(Step)), st.from_regex(r"[a-z0-9_]{1,32}", fullmatch=True))
def test_answers_decode_to_exactly_what_was_encoded(step, value):
    data = f"i:0123abcd:{step.value}:{value}"
    assert callbacks.decode(data) == Answer("0123abcd", step, value)
