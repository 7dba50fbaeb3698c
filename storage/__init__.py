"""Everything meldbot keeps: the database, the key file, and the stores built on them.

:class:`Storage` opens both and refuses to start when they do not belong together:
a database that holds reports but has no key file, or a key file other than the one
the database was created with. It never creates a new key beside existing data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage.audit import AuditTrail
from storage.casefile import Aftercare, CaseFile
from storage.cases import Cases
from storage.composing import ComposingStore
from storage.crypto import KeyFile, KeyFileError, Vault, read_or_create_key_file
from storage.database import Database
from storage.invites import Invites
from storage.outbox import Outbox
from storage.people import People
from storage.schedule import Schedule

__all__ = ["Storage", "StorageRefused"]


class StorageRefused(Exception):
    """The database and key file cannot be used together; the message says why and what to do."""


async def _stored_key_check(db: Database) -> bytes | None:
    async with db.transaction() as conn:
        async with conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'") as cursor:
            if await cursor.fetchone() is None:
                return None
        async with conn.execute("SELECT value FROM meta WHERE name = 'key_check'") as cursor:
            row = await cursor.fetchone()
    return None if row is None else bytes(row[0])


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
    aftercare: Aftercare

    @classmethod
    async def open(cls, database: Path, key_path: Path, *, upgrade_to: int | None = None) -> Storage:
        db = await Database.open(database)
        try:
            stored_check = await _stored_key_check(db)
            try:
                master, key_file = read_or_create_key_file(key_path, may_create=stored_check is None)
            except KeyFileError as exc:
                raise StorageRefused(str(exc)) from None
            vault = Vault(master)
            if stored_check is not None and not vault.matches(stored_check):
                raise StorageRefused(
                    f"the key file {key_path} does not belong to the database {database}: "
                    "it would not open the reports in it. Start with the key file this database was "
                    "created with (restore it from your backup). meldbot never replaces a key by itself."
                )
            await db.migrate(upgrade_to)
            if upgrade_to is None:
                await db.watch_due()
            if stored_check is None:
                async with db.transaction() as conn:
                    await conn.execute("INSERT INTO meta (name, value) VALUES ('key_check', ?)", (vault.key_check(),))
        except BaseException:
            await db.close()
            raise
        return cls(
            db=db,
            vault=vault,
            key_file=key_file,
            people=People(db, vault),
            cases=Cases(db, vault),
            outbox=Outbox(db),
            casefile=CaseFile(db, vault),
            composing=ComposingStore(db),
            invites=Invites(db, vault),
            schedule=Schedule(db),
            audit=AuditTrail(db, vault.audit_key),
            aftercare=Aftercare(db, vault),
        )

    async def close(self) -> None:
        await self.db.close()

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
