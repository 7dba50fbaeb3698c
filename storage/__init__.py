"""Everything meldbot keeps: the database, the key file, and the stores built on them.

:class:`Storage` opens both and refuses to start when they do not belong together:
a database that holds reports but has no key file, or a key file other than the one
the database was created with. It never creates a new key beside existing data.

Opening also settles the key hierarchy (storage/crypto.py) in one transaction with
the audit trail's genesis entry: a new database gets its key check, its random
sub-keys (wrapped by the master key) and its genesis entry together; a database from
before stored sub-keys gets the sub-keys it always used, stored, and a genesis entry
that adopts its existing trail. A database that has a genesis entry but lost its
stored sub-keys is refused: guessing them could silently split its blind indexes.

A key rotation that was interrupted (``meldbot rotate-key``, storage/rotation.py) is
finished or undone before the key file is read.

Every process that opens storage holds the database's lock (storage/database.py):
shared for the bot and most commands, exclusive for a restore or a key rotation. A
database SQLite cannot read is refused with what is wrong and what to do.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import aiosqlite

from storage.audit import AuditTrail
from storage.casefile import CaseFile
from storage.cases import Cases
from storage.composing import ComposingStore
from storage.crypto import (
    SUB_KEYS,
    DecryptionError,
    KeyFile,
    KeyFileError,
    Vault,
    read_or_create_key_file,
    settle_rotation,
)
from storage.database import Database, DatabaseInUse, DatabaseLock, describe_failure
from storage.database import migrations as shipped_migrations
from storage.facts import Facts
from storage.invites import Invites
from storage.outbox import Outbox
from storage.people import People
from storage.pulse import PulseStore
from storage.retention import RetentionStore
from storage.schedule import Schedule
from storage.staff import StaffStore

__all__ = ["Storage", "StorageRefused"]

LockMode = Literal["shared", "exclusive"]
log = logging.getLogger(__name__)


class StorageRefused(Exception):
    """The database and key file cannot be used together; the message says why and what to do."""


async def stored_key_check(db: Database) -> bytes | None:
    async with db.snapshot() as conn:
        async with conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'") as cursor:
            if await cursor.fetchone() is None:
                return None
        async with conn.execute("SELECT value FROM meta WHERE name = 'key_check'") as cursor:
            row = await cursor.fetchone()
    return None if row is None else bytes(row[0])


async def sealed_sub_keys(conn: aiosqlite.Connection) -> dict[str, bytes]:
    marks = ", ".join("?" for _ in SUB_KEYS)
    async with conn.execute(f"SELECT name, value FROM meta WHERE name IN ({marks})", SUB_KEYS) as cursor:
        return {row[0]: bytes(row[1]) for row in await cursor.fetchall()}


async def _settle_keys(db: Database, master: bytes, *, new: bool) -> Vault:
    """The vault of this database; on its first open by this version, the stored keys and genesis entry."""
    async with db.transaction() as conn:
        sealed = await sealed_sub_keys(conn)
        if len(sealed) == len(SUB_KEYS):
            try:
                return Vault.from_sealed(master, sealed)
            except DecryptionError:
                raise StorageRefused(
                    f"the key records in the database {db.path} (meta {', '.join(SUB_KEYS)}) do not open with this "
                    "key file: they were changed. Restore the database from a backup."
                ) from None
        async with conn.execute("SELECT 1 FROM audit WHERE seq = 0") as cursor:
            has_genesis = await cursor.fetchone() is not None
        if sealed or has_genesis:
            raise StorageRefused(
                f"the key records in the database {db.path} (meta {', '.join(SUB_KEYS)}) are missing: without them "
                "no person can be found again. Restore the database from a backup."
            )
        vault = Vault.generate(master) if new else Vault(master)
        if new:
            await conn.execute("INSERT INTO meta (name, value) VALUES ('key_check', ?)", (vault.key_check(),))
        await conn.executemany("INSERT INTO meta (name, value) VALUES (?, ?)", list(vault.sealed_sub_keys().items()))
        await AuditTrail(db, vault.audit_key).write_genesis(conn, datetime.now(UTC))
    return vault


def stored_keys_version() -> int:
    """The schema version from which the sub-keys are stored and the audit trail has a genesis entry."""
    return next(version for version, name, _ in shipped_migrations() if name.endswith("_stored_keys.sql"))


async def _as_before_stored_keys(db: Database, master: bytes, *, new: bool) -> Vault:
    """A database held at a schema before stored keys (``upgrade_to``) is left as meldbot then left it:
    a key check, keys derived from the master, no stored sub-keys and no genesis entry."""
    vault = Vault(master)
    if new:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO meta (name, value) VALUES ('key_check', ?)", (vault.key_check(),))
    return vault


@dataclass(slots=True)
class Storage:
    db: Database
    vault: Vault
    key_file: KeyFile
    people: People
    cases: Cases
    outbox: Outbox
    casefile: CaseFile
    composing: ComposingStore
    invites: Invites
    schedule: Schedule
    audit: AuditTrail
    staff: StaffStore
    retention: RetentionStore
    pulse: PulseStore
    facts: Facts
    lock: DatabaseLock | None = None

    @classmethod
    async def open(
        cls, database: Path, key_path: Path, *, upgrade_to: int | None = None, lock: LockMode | None = "shared"
    ) -> Storage:
        """Open the database with its key file.

        ``upgrade_to`` holds the schema at an older version, as that version of meldbot
        would have left it (to test upgrades). ``lock=None`` only for a private copy no
        other process can know of (a backup being checked).
        """
        try:
            held = None if lock is None else DatabaseLock.take(database, exclusive=lock == "exclusive")
        except DatabaseInUse as exc:
            raise StorageRefused(str(exc)) from None
        try:
            return await cls._open(database, key_path, upgrade_to=upgrade_to, held=held)
        except BaseException as exc:
            if held is not None:
                held.release()
            if isinstance(exc, sqlite3.Error):
                raise StorageRefused(describe_failure(database, exc)) from None
            raise

    @classmethod
    async def _open(
        cls, database: Path, key_path: Path, *, upgrade_to: int | None, held: DatabaseLock | None
    ) -> Storage:
        db = await Database.open(database)
        try:
            stored_check = await stored_key_check(db)
            settled = settle_rotation(key_path, stored_check)
            if settled:
                log.warning("%s", settled)
            try:
                master, key_file = read_or_create_key_file(key_path, may_create=stored_check is None)
            except KeyFileError as exc:
                raise StorageRefused(str(exc)) from None
            if stored_check is not None and not Vault(master).matches(stored_check):
                raise StorageRefused(
                    f"the key file {key_path} does not belong to the database {database}: "
                    "it would not open the reports in it. Start with the key file this database was "
                    "created with (restore it from your backup). meldbot never replaces a key by itself."
                )
            await db.migrate(upgrade_to)
            if await db.schema_version() >= stored_keys_version():
                vault = await _settle_keys(db, master, new=stored_check is None)
            else:
                vault = await _as_before_stored_keys(db, master, new=stored_check is None)
            if upgrade_to is None and not db.read_only:
                await db.watch_due()
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                await db.close()
            raise
        audit = AuditTrail(db, vault.audit_key)
        return cls(
            db=db,
            vault=vault,
            key_file=key_file,
            people=People(db, vault, audit),
            cases=Cases(db, vault, audit),
            outbox=Outbox(db),
            casefile=CaseFile(db, vault),
            composing=ComposingStore(db),
            invites=Invites(db, vault),
            schedule=Schedule(db),
            audit=audit,
            staff=StaffStore(db, vault),
            retention=RetentionStore(db, audit),
            pulse=PulseStore(db, vault),
            facts=Facts(db),
            lock=held,
        )

    async def close(self) -> None:
        try:
            await self.db.close()
        finally:
            if self.lock is not None:
                self.lock.release()
                self.lock = None

    async def remember_bot_username(self, username: str) -> None:
        """So ``meldbot invite`` can build links without asking Telegram."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO meta (name, value) VALUES ('bot_username', ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (username.encode(),),
            )

    async def bot_username(self) -> str | None:
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT value FROM meta WHERE name = 'bot_username'") as cursor:
                row = await cursor.fetchone()
        return None if row is None else bytes(row[0]).decode()
