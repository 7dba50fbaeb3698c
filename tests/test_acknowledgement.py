"""Acknowledging a case: only a recipient of the case can, the first counts, the reporter hears."""

from __future__ import annotations

from flows.outcome import Acknowledge
from flows.routing import REPORTER, REPORTER_ACKNOWLEDGED, REPORTER_REGISTERED
from storage.outbox import Delivery
from tests.conftest import COORDINATOR, HOLDERS_COUNSELLOR, STAFF_COUNSELLOR, reporter
from tests.test_intake import file_report


def staff(member):
    return reporter(member.telegram_id, member.name, None)


async def reporter_notices(storage):
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT kind FROM outbox WHERE recipient_role = ?", (REPORTER,)) as cursor:
            return [r[0] for r in await cursor.fetchall()]


async def submitted(intake, storage, **kwargs):
    out = await file_report(intake, reporter(), **kwargs)
    reference = out.replies[0].params["reference"]
    return await storage.cases.by_reference(reference)


async def test_the_counsellor_acknowledges_and_the_reporter_is_told(intake, acknowledgements, storage):
    case = await submitted(intake, storage)
    out = await acknowledgements.press(staff(STAFF_COUNSELLOR), Acknowledge(case.reference))
    assert [r.key for r in out.replies] == ["staff.acknowledged"]
    assert out.clear_pressed_buttons and out.wake_outbox
    case = await storage.cases.get(case.id)
    assert case.status == "acknowledged" and case.acknowledged_at is not None
    assert await reporter_notices(storage) == [REPORTER_ACKNOWLEDGED]
    again = await acknowledgements.press(staff(STAFF_COUNSELLOR), Acknowledge(case.reference))
    assert again.toast.key == "toast.acknowledged_by_you"
    assert await reporter_notices(storage) == [REPORTER_ACKNOWLEDGED]


async def test_a_second_counsellor_of_the_same_group_is_told_a_colleague_was_first(tmp_path, storage, clock):
    from datetime import timedelta

    from flows.acknowledgement import Acknowledgements
    from flows.intake import Intake
    from flows.model import Audience, Counsellor, Language
    from tests.conftest import AMSTERDAM, make_router

    second = Counsellor(1003, "Tweede vertrouwenspersoon", frozenset({Audience.STAFF}), Language.NL, 2)
    router = make_router(storage, counsellors=(STAFF_COUNSELLOR, second))
    intake = Intake(storage, router, clock, AMSTERDAM, timedelta(hours=24))
    acks = Acknowledgements(storage, router, clock)
    case = await submitted(intake, storage)
    await acks.press(staff(second), Acknowledge(case.reference))
    late = await acks.press(staff(STAFF_COUNSELLOR), Acknowledge(case.reference))
    assert late.toast.key == "toast.acknowledged_by_colleague"
    assert await reporter_notices(storage) == [REPORTER_ACKNOWLEDGED]


async def test_people_the_case_was_not_sent_to_cannot_acknowledge_it(intake, acknowledgements, storage):
    case = await submitted(intake, storage)  # an employee's case: staff counsellor only
    for outsider in (staff(HOLDERS_COUNSELLOR), staff(COORDINATOR), reporter(), reporter(9999)):
        out = await acknowledgements.press(outsider, Acknowledge(case.reference))
        assert out.toast.key == "toast.not_yours"
        assert out.replies == [] and not out.wake_outbox
    assert (await storage.cases.get(case.id)).status == "new"
    assert await reporter_notices(storage) == []


async def test_an_unknown_reference_reveals_nothing(acknowledgements):
    out = await acknowledgements.press(staff(STAFF_COUNSELLOR), Acknowledge("MB-ZZZZ-ZZZZ"))
    assert out.toast.key == "toast.not_yours"


async def test_the_coordinator_confirms_an_anonymous_registration(intake, acknowledgements, storage):
    case = await submitted(intake, storage, wish="anonymous_register")
    out = await acknowledgements.press(staff(COORDINATOR), Acknowledge(case.reference))
    assert [r.key for r in out.replies] == ["staff.registered"]
    assert (await storage.cases.get(case.id)).status == "acknowledged"
    assert await reporter_notices(storage) == [REPORTER_REGISTERED]
    again = await acknowledgements.press(staff(COORDINATOR), Acknowledge(case.reference))
    assert again.toast.key == "toast.registered_already"


async def test_a_withdrawn_case_cannot_be_acknowledged(intake, acknowledgements, storage):
    case = await submitted(intake, storage)
    async with storage.db.transaction() as conn:
        await conn.execute("UPDATE cases SET status = 'withdrawn' WHERE id = ?", (case.id,))
    out = await acknowledgements.press(staff(STAFF_COUNSELLOR), Acknowledge(case.reference))
    assert out.toast.key == "toast.not_yours"


async def test_outbox_delivery_carries_no_readable_recipient(storage, clock):
    await storage.outbox.enqueue(None, [Delivery(storage.people.index_of(424242), REPORTER, "x")], clock.now())
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT recipient_index FROM outbox") as cursor:
            (index,) = await cursor.fetchone()
    assert b"424242" not in index and len(index) == 32
