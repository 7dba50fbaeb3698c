"""What a notification from the outbox says, composed when it is sent.

The case is read (and decrypted) only at that moment, so the outbox never holds
readable content. Whether a recipient sees the reporter's name is decided by
:func:`flows.routing.shows_name`, nowhere else.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flows.outcome import Acknowledge, Choice, Label, Reply
from flows.routing import (
    COUNSELLOR,
    REPORTER_ACKNOWLEDGED,
    description_parts,
    shows_name,
)
from storage.cases import AttachmentRecord, CaseRecord
from storage.people import PersonRecord


def staff_report(case: CaseRecord, reporter: PersonRecord | None, recipient_role: str, zone: ZoneInfo) -> Reply:
    """The report as a counsellor or coordinator receives it, with its confirm button."""
    if shows_name(case, recipient_role) and reporter is not None:
        who = Label(
            "staff.reporter_named",
            {"name": reporter.display_name, "username": f"@{reporter.username}" if reporter.username else "—"},
        )
    elif recipient_role == COUNSELLOR:
        who = Label("staff.reporter_pseudonym")
    else:
        who = Label("staff.reporter_anonymous")
    parts = description_parts(case.description)
    if parts:
        description: Label | str = Label("staff.description_follows", {"parts": len(parts)})
    else:
        description = case.description or Label("staff.description_none")
    button = "staff.button.acknowledge" if recipient_role == COUNSELLOR else "staff.button.register"
    return Reply(
        "staff.report_counsellor" if recipient_role == COUNSELLOR else "staff.report_coordinator",
        {
            "reference": case.reference,
            "category": Label(f"category.{case.category}"),
            "date": case.incident_date,
            "channel": Label(f"channel.{case.channel}"),
            "role": Label(f"role.{case.role}"),
            "wish": Label(f"wish.{case.wish}"),
            "who": who,
            "description": description,
            "attachments": case.attachment_count,
            "submitted": case.submitted_at.astimezone(zone).strftime("%d-%m-%Y %H:%M") if case.submitted_at else "",
        },
        ((Choice(button, Acknowledge(case.reference)),),),
        protect_content=True,
    )


def staff_text_part(case: CaseRecord, number: int) -> Reply | None:
    parts = description_parts(case.description)
    if number >= len(parts):
        return None
    return Reply(
        "staff.description_part",
        {"reference": case.reference, "n": number + 1, "total": len(parts), "text": parts[number]},
        protect_content=True,
    )


def attachment_caption(case: CaseRecord, attachment: AttachmentRecord) -> Reply:
    return Reply(
        "staff.attachment",
        {"reference": case.reference, "n": attachment.seq, "total": case.attachment_count},
        protect_content=True,
    )


def reporter_notice(case: CaseRecord, kind: str) -> Reply:
    key = "reporter.acknowledged" if kind == REPORTER_ACKNOWLEDGED else "reporter.registered"
    return Reply(key, {"reference": case.reference})
