"""What a list of cases asks for: typed, so flows write no SQL and storage alone does.

Lists are paged by key, newest first: a page starts after (or before) the case it names,
so its cost depends on the page, not on how many cases the register holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.lifecycle import CaseStatus, RegisterState
from flows.model import Audience, Category, Role


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


@dataclass(frozen=True, slots=True)
class CaseQuery:
    viewer: Viewer
    limit: int
    statuses: frozenset[CaseStatus] | None = None
    category: Category | None = None
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
    category: Category
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
