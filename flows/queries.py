"""What a list of cases asks for: typed, so flows write no SQL and storage alone does.

Lists are paged by key, newest first: a page starts after (or before) the case it names,
so its cost depends on the page, not on how many cases the register holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.lifecycle import CaseStatus, RegisterState
from flows.model import Audience, Form, Role


@dataclass(frozen=True, slots=True)
class CounsellorInbox:
    """A counsellor's cases: assigned to them, or waiting for someone to pick them up."""

    counsellor: bytes


@dataclass(frozen=True, slots=True)
class CoordinatorRegister:
    """The coordinator's register: cases the reporters let in, never the coordinator's own or those
    the reporter kept them out of."""

    coordinator: bytes


@dataclass(frozen=True, slots=True)
class ReporterCases:
    """A reporter's own cases."""

    person_id: str


Viewer = CounsellorInbox | CoordinatorRegister | ReporterCases
# Staff who see links between the cases they may open (flows/linking.py).
LinkViewer = CounsellorInbox | CoordinatorRegister


@dataclass(frozen=True, slots=True)
class CaseQuery:
    viewer: Viewer
    limit: int
    statuses: frozenset[CaseStatus] | None = None
    form: Form | None = None  # cases with this form among theirs
    audience: Audience | None = None
    since: datetime | None = None
    older_than: str | None = None  # a case reference: the page after it
    newer_than: str | None = None  # a case reference: the page before it


@dataclass(frozen=True, slots=True)
class ListedCase:
    """One line of a list: coarse codes only, nothing decrypted."""

    id: str
    reference: str
    status: CaseStatus
    forms: frozenset[Form]
    role: Role
    audience: Audience
    submitted_at: datetime
    register: RegisterState
    unread: bool


@dataclass(frozen=True, slots=True)
class Page:
    cases: tuple[ListedCase, ...]
    has_older: bool
    has_newer: bool


LAST_PAGE = 9999  # the highest page number a button carries (bot/callbacks.py: four digits)


def turned(number: int, newer: bool) -> int:
    """The number of the page one turns to. A page is found by its anchor; its number is only shown,
    so it stays within what a button can carry, and at 0 when newer cases came in meanwhile."""
    return max(0, number - 1) if newer else min(number + 1, LAST_PAGE)
