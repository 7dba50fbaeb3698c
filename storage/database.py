"""The SQLite database: one connection, WAL, secure_delete, and versioned migrations.

aiosqlite runs every statement on one background thread over one connection, so two
coroutines that each open a transaction would interleave inside it. All access goes
through :meth:`Database.transaction`, which serialises transactions with a lock.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import aiosqlite

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class SchemaError(Exception):
    """The database was written by a newer meldbot, or a migration failed."""


def to_db(moment: datetime) -> str:
    """UTC timestamps as fixed-width text, so they sort and compare as strings."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to storage")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text)  # Python 3.11 reads the trailing Z as UTC


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    for expected, (version, name, _) in enumerate(found, start=1):
        if version != expected:
            raise SchemaError(f"migration numbering has a gap or duplicate at {name}")
    return found


# Per-connection triggers (TEMP: never stored in the file) that report, at commit, when the
# outbox or the schedule has something falling due: whatever inserted or moved it, the
# courier and the timekeeper hear of it, so no flow can forget to wake them.
_DUE_TRIGGERS = """
CREATE TEMP TRIGGER IF NOT EXISTS outbox_queued AFTER INSERT ON main.outbox WHEN NEW.status = 'pending'
BEGIN SELECT meldbot_due('outbox', NEW.next_attempt_at); END;
CREATE TEMP TRIGGER IF NOT EXISTS outbox_moved AFTER UPDATE OF next_attempt_at, status ON main.outbox
WHEN NEW.status = 'pending' BEGIN SELECT meldbot_due('outbox', NEW.next_attempt_at); END;
CREATE TEMP TRIGGER IF NOT EXISTS scheduled_added AFTER INSERT ON main.scheduled WHEN NEW.status = 'pending'
BEGIN SELECT meldbot_due('scheduled', NEW.due_at); END;
CREATE TEMP TRIGGER IF NOT EXISTS scheduled_moved AFTER UPDATE OF due_at, status ON main.scheduled
WHEN NEW.status = 'pending' BEGIN SELECT meldbot_due('scheduled', NEW.due_at); END;
"""

DueListener = Callable[[datetime], None]


class Database:
    """A serialised aiosqlite connection with the pragmas meldbot relies on."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._conn = connection
        self._lock = asyncio.Lock()
        self.path = path
        # Earliest due moment per topic seen in the running transaction (written from
        # aiosqlite's thread by the SQL function, read after COMMIT on the event loop).
        self._due: dict[str, str] = {}
        self._listeners: dict[str, list[DueListener]] = {}

    def on_due(self, topic: str, listener: DueListener) -> None:
        """Call ``listener(moment)`` after each commit that made something of ``topic``
        ('outbox' or 'scheduled') fall due at ``moment`` (the earliest such moment)."""
        self._listeners.setdefault(topic, []).append(listener)

    def _record_due(self, topic: str, moment: str) -> None:
        current = self._due.get(topic)
        if current is None or moment < current:
            self._due[topic] = moment

    async def watch_due(self) -> None:
        """Install the triggers behind :meth:`on_due` (after the migrations built the tables)."""
        async with self._lock:
            await self._conn.create_function("meldbot_due", 2, self._record_due)
            await self._conn.executescript(_DUE_TRIGGERS)

    def _announce_due(self) -> None:
        due, self._due = self._due, {}
        for topic, moment in due.items():
            when = from_db(moment)
            assert when is not None
            for listener in self._listeners.get(topic, ()):
                listener(when)

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating if needed) with meldbot's pragmas; :meth:`migrate` brings the schema up."""
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            # Deleted content is overwritten with zeros, not left in free pages.
            await conn.execute("PRAGMA secure_delete=ON")
            await conn.execute("PRAGMA foreign_keys=ON")
            # A confirmed report must survive a power cut, not only a crash.
            await conn.execute("PRAGMA synchronous=FULL")
            await conn.execute("PRAGMA busy_timeout=5000")
        except BaseException:
            await conn.close()
            raise
        return cls(conn, path)

    async def close(self) -> None:
        async with self._lock:
            # Fold the WAL back into the main file so no stale pages linger beside it.
            await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            await self._conn.close()

    async def schema_version(self) -> int:
        async with self._lock:
            async with self._conn.execute("PRAGMA user_version") as cursor:
                row = await cursor.fetchone()
        return int(row[0])

    async def migrate(self, upgrade_to: int | None = None) -> None:
        """Apply the shipped migrations up to ``upgrade_to`` (default: all), each atomically."""
        available = migrations()
        target = upgrade_to if upgrade_to is not None else len(available)
        current = await self.schema_version()
        if current > len(available):
            raise SchemaError(
                f"the database has schema version {current}, newer than this meldbot knows "
                f"({len(available)}); upgrade meldbot instead of starting an old version"
            )
        for version, name, sql in available[current:target]:
            async with self._lock:
                try:
                    await self._conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\n;PRAGMA user_version={version};\nCOMMIT;")
                except Exception as exc:
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    raise SchemaError(f"migration {name} failed: {exc}") from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One atomic unit of work; commits on success, rolls back on any exception."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK")
                self._due.clear()
                raise
            else:
                await self._conn.execute("COMMIT")
        self._announce_due()

    async def checkpoint(self) -> None:
        """Move committed pages out of the WAL and truncate it (used after erasing data)."""
        async with self._lock:
            await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
