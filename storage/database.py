"""The SQLite database: one connection, WAL, secure_delete, versioned migrations, and its files.

aiosqlite runs every statement on one background thread over one connection, so two
coroutines that each open a transaction would interleave inside it. All access goes
through :meth:`Database.transaction` (or :meth:`Database.snapshot` for a long read),
which serialise with a lock.

The database file is created private to its owner (0600) before SQLite opens it;
SQLite gives its -wal and -shm files the same mode. A file that SQLite cannot read as
a database is named with what is wrong and what to do (:func:`describe_failure`).

:class:`DatabaseLock` says who uses a database: every meldbot process that opens it
holds a shared lock on ``<database>.lock``; a restore or a key rotation needs it
exclusively, so neither can run beside a running bot, and a bot cannot start while
either runs.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import sqlite3
import stat
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import aiosqlite

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


PRIVATE = 0o600


class SchemaError(Exception):
    """The database was written by a newer meldbot, or a migration failed."""


class DatabaseInUse(Exception):
    """Another meldbot process holds the database in a way that rules out this one."""


# The page cache of the one connection, in KiB (see Database.open).
CACHE_KIB = 32 * 1024


def companions(path: Path) -> list[Path]:
    """The database file and the -wal and -shm files SQLite keeps beside it."""
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def make_private(path: Path) -> None:
    """Create the database file 0600 if it is new, and take group and other rights off existing files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
    except FileExistsError:
        pass
    for file in companions(path):
        try:
            if stat.S_IMODE(file.stat().st_mode) & 0o077:
                os.chmod(file, PRIVATE)
        except FileNotFoundError:
            continue


def describe_failure(path: Path, error: sqlite3.Error) -> str:
    """What an SQLite error on opening or reading ``path`` means to an operator, and what to do."""
    name = getattr(error, "sqlite_errorname", "")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        what = (
            "is not an SQLite database (its beginning is not what SQLite writes)"
            if name.startswith("SQLITE_NOTADB")
            else "is damaged (truncated, or parts of it overwritten)"
        )
        return (
            f"the database {path} {what}: SQLite says '{error}'. meldbot cannot use it. Keep the damaged file "
            f"for inspection (move it aside), then restore the last backup: meldbot restore --config PATH --input "
            "BACKUP (see README, Backups)."
        )
    if name.startswith("SQLITE_IOERR"):
        return (
            f"the database {path} could not be read from or written to disk: SQLite says '{error}'. Check the disk "
            "(free space, errors in the system log); if the file itself is damaged, restore the last backup."
        )
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH")):
        return (
            f"the database {path} cannot be opened for writing: SQLite says '{error}'. Check the path in "
            "[storage] database, and that the user running meldbot may read and write the file and its folder."
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return (
            f"the database {path} stayed locked by another process: SQLite says '{error}'. Try again; if it "
            "persists, look for a stuck meldbot process."
        )
    if name.startswith("SQLITE_FULL"):
        return f"the disk holding the database {path} is full: SQLite says '{error}'. Free space and start again."
    return f"the database {path} cannot be used: SQLite says '{error}' ({name or type(error).__name__})."


class DatabaseLock:
    """A shared or exclusive hold on ``<database>.lock`` (flock), kept until :meth:`release`."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def take(cls, database: Path, *, exclusive: bool) -> DatabaseLock:
        path = database.with_name(database.name + ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE)
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if exclusive:
                raise DatabaseInUse(
                    f"the database {database} is in use: meldbot is running, or another meldbot command has it "
                    "open. Stop the bot first (e.g. systemctl stop meldbot) and try again."
                ) from None
            raise DatabaseInUse(
                f"the database {database} is being restored or its key rotated by another meldbot command; "
                "start again when that has finished."
            ) from None
        return cls(fd, path)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor ends the flock
            self._fd = None


def to_db(moment: datetime) -> str:
    """UTC timestamps as fixed-width text, so they sort and compare as strings."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to storage")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text)  # Python 3.11 reads the trailing Z as UTC


async def one_row(conn: aiosqlite.Connection, sql: str, params: Sequence[object] = ()) -> aiosqlite.Row:
    """The single row of a query that always yields one (an aggregate, or a row this transaction holds)."""
    async with conn.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise LookupError("the database returned no row where one was certain")
    return row


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

    def __init__(self, connection: aiosqlite.Connection, path: Path, *, read_only: bool = False) -> None:
        self._conn = connection
        self._lock = asyncio.Lock()
        self.path = path
        self.read_only = read_only
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
    async def open(cls, path: Path, *, read_only: bool = False) -> Database:
        """Open (creating if needed) with meldbot's pragmas; :meth:`migrate` brings the schema up.

        ``read_only`` opens an existing file (a backup copy, say) without changing it.
        """
        if read_only:
            conn = await aiosqlite.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        else:
            make_private(path)
            conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        try:
            if not read_only:
                await conn.execute("PRAGMA journal_mode=WAL")
                # Deleted content is overwritten with zeros, not left in free pages.
                await conn.execute("PRAGMA secure_delete=ON")
                await conn.execute("PRAGMA foreign_keys=ON")
                # A confirmed report must survive a power cut, not only a crash.
                await conn.execute("PRAGMA synchronous=FULL")
            await conn.execute("PRAGMA busy_timeout=5000")
            # Room for the indexes every list and wake-up reads (SQLite's default is 2 MiB), so that a
            # register of 100,000 cases is read from memory as a small one is. Ciphertext stays sealed.
            await conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            # Reads the schema: a file that is not a database, or a damaged one, is refused here.
            await conn.execute("SELECT COUNT(*) FROM sqlite_master")
        except BaseException:
            await conn.close()
            raise
        return cls(conn, path, read_only=read_only)

    async def close(self) -> None:
        async with self._lock:
            if not self.read_only:
                # Fold the WAL back into the main file so no stale pages linger beside it.
                await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            await self._conn.close()

    async def schema_version(self) -> int:
        async with self._lock:
            async with self._conn.execute("PRAGMA user_version") as cursor:
                row = await cursor.fetchone()
        assert row is not None  # PRAGMA user_version always answers
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

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        """A read transaction: one consistent view for a long read that does not hold up writers (WAL)."""
        async with self._lock:
            await self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                await self._conn.execute("COMMIT")

    async def checkpoint(self) -> None:
        """Move committed pages out of the WAL and truncate it (used after erasing data)."""
        async with self._lock:
            await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
