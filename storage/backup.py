"""Backups and restores of the database, made while the bot runs and checked before they are trusted.

Copying the database file while the bot runs gives an unusable or incomplete file:
committed reports may still be in the write-ahead log (``-wal``) beside it, and the
file changes while it is read. :func:`back_up` uses SQLite's online backup API on a
separate connection instead, which copies one consistent state (pages in the WAL
included) without stopping the bot. The copy is then made a single self-contained
file (no WAL), checked with ``PRAGMA integrity_check``, and opened read-only with the
key file to check that it belongs to that key and that its audit trail verifies. Only
then does it replace the output file (created 0600). The key is never part of it;
``include_key`` writes a copy of the key file beside it, for those who know why they
want that.

:func:`restore` refuses while any meldbot process has the database open, and refuses a
backup that the configured key file does not open. It copies the backup beside the
database, opens the copy as the bot would (upgrading a backup from an older version),
verifies its audit trail, opens every case and person (every sealed value decrypts),
records the restore in the audit trail, and only then puts it in place. A database
that was there is moved aside, not deleted.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flows.lifecycle import Thread
from storage import Storage, StorageRefused, sealed_sub_keys, stored_key_check, stored_keys_version
from storage.audit import AuditTrail, Verification
from storage.crypto import SUB_KEYS, KeyFileError, Vault, read_key_file, sync_folder
from storage.database import PRIVATE, Database, DatabaseInUse, DatabaseLock, companions, describe_failure

THREADS = tuple(Thread)
_BATCH = 200


class BackupRefused(Exception):
    """The backup or restore was not made; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Contents:
    """What a checked database holds (counts only) and its audit trail's state."""

    cases: int
    persons: int
    audit: Verification


@dataclass(frozen=True, slots=True)
class Opened:
    """Everything that was opened (decrypted) in a database: proof the key fits every row."""

    cases: int
    attachments: int
    messages: int
    notes: int
    persons: int


def _fresh(path: Path) -> None:
    """Remove a left-over partial file (and its journal), then create ``path`` empty and private."""
    for leftover in (*companions(path), path.with_name(path.name + "-journal")):
        leftover.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))


def _online_copy(source: Path, target: Path, *, read_only_source: bool) -> list[str]:
    """One consistent copy of ``source`` into ``target`` as a single file; the integrity check's findings."""
    uri = f"{source.resolve().as_uri()}?mode=ro" if read_only_source else str(source)
    with closing(sqlite3.connect(uri, uri=read_only_source, timeout=30)) as origin:
        with closing(sqlite3.connect(target, isolation_level=None)) as copy:
            origin.backup(copy)  # all pages in one step: one consistent state, WAL included
            copy.execute("PRAGMA journal_mode=DELETE")  # a self-contained file: no -wal beside it
            findings = [row[0] for row in copy.execute("PRAGMA integrity_check")]
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())
    return [] if findings == ["ok"] else findings


def _master_for(copy: Path, key_path: Path) -> bytes:
    if not key_path.exists():
        raise BackupRefused(f"the key file {key_path} does not exist: put the key file that belongs to {copy} there")
    try:
        return read_key_file(key_path)
    except KeyFileError as exc:
        raise BackupRefused(str(exc)) from None


async def check_copy(copy: Path, key_path: Path) -> Contents:
    """Open a backup read-only: it must belong to this key and its audit trail must verify."""
    try:
        db = await Database.open(copy, read_only=True)
    except sqlite3.Error as exc:
        raise BackupRefused(describe_failure(copy, exc)) from None
    try:
        stored = await stored_key_check(db)
        if stored is None:
            raise BackupRefused(f"{copy} is not a meldbot database (it has no key check)")
        master = _master_for(copy, key_path)
        if not Vault(master).matches(stored):
            raise BackupRefused(
                f"{copy} was made with another key than the key file {key_path}: that key would not open the "
                "reports in it. Use the key file that belongs to this backup."
            )
        if await db.schema_version() < stored_keys_version():
            raise BackupRefused(
                f"{copy} is from an older version of meldbot: start this version once (it upgrades the database) "
                "and back up again"
            )
        async with db.snapshot() as conn:
            sealed = await sealed_sub_keys(conn)
            async with conn.execute("SELECT (SELECT COUNT(*) FROM cases), (SELECT COUNT(*) FROM persons)") as cursor:
                counted = await cursor.fetchone()
        assert counted is not None  # an aggregate always answers
        cases, persons = counted
        if len(sealed) != len(SUB_KEYS):
            raise BackupRefused(f"{copy} lacks its stored keys (meta {', '.join(SUB_KEYS)})")
        vault = Vault.from_sealed(master, sealed)
        audit = await AuditTrail(db, vault.audit_key).verify()
    finally:
        await db.close()
    return Contents(cases, persons, audit)


async def back_up(database: Path, key_path: Path, output: Path, *, include_key: bool = False) -> Contents:
    """A checked, consistent copy of ``database`` at ``output`` (0600), made while the bot may run."""
    if not database.exists():
        raise BackupRefused(f"there is no database at {database} (check [storage] database)")
    try:
        lock = DatabaseLock.take(database, exclusive=False)
    except DatabaseInUse as exc:
        raise BackupRefused(str(exc)) from None
    partial = output.with_name(f".{output.name}.partial")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        _fresh(partial)
        try:
            findings = await asyncio.to_thread(_online_copy, database, partial, read_only_source=False)
        except sqlite3.Error as exc:
            raise BackupRefused(describe_failure(database, exc)) from None
        if findings:
            raise BackupRefused(
                f"the copy of {database} fails SQLite's integrity check ({'; '.join(findings[:3])}): the database "
                "itself is damaged. Keep your earlier backups; restore the last good one (meldbot restore)."
            )
        contents = await check_copy(partial, key_path)
        if not contents.audit.intact:
            raise BackupRefused(
                f"the audit trail in the copy of {database} does not verify: {contents.audit.problem}. "
                "Run meldbot audit verify, and keep your earlier backups."
            )
        os.replace(partial, output)
        if include_key:
            beside = output.with_name(output.name + ".key")
            beside.unlink(missing_ok=True)
            fd = os.open(beside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
            with os.fdopen(fd, "wb") as handle:
                handle.write(key_path.read_bytes())
                os.fsync(handle.fileno())
        sync_folder(output.parent)
    finally:
        partial.unlink(missing_ok=True)
        partial.with_name(partial.name + "-journal").unlink(missing_ok=True)
        lock.release()
    return contents


async def open_everything(storage: Storage) -> Opened:
    """Open every case (with its attachments, messages and notes) and every person: each sealed value decrypts."""
    cases = attachments = messages = notes = persons = 0
    after = ""
    while True:
        async with storage.db.snapshot() as conn:
            async with conn.execute("SELECT id FROM cases WHERE id > ? ORDER BY id LIMIT ?", (after, _BATCH)) as cursor:
                ids = [row[0] for row in await cursor.fetchall()]
        if not ids:
            break
        for case_id in ids:
            await storage.cases.check_opens(case_id)
            async with storage.db.snapshot() as conn:
                async with conn.execute("SELECT id FROM attachments WHERE case_id = ?", (case_id,)) as cursor:
                    attachment_ids = [row[0] for row in await cursor.fetchall()]
            for attachment_id in attachment_ids:
                await storage.cases.attachment(case_id, attachment_id)
            attachments += len(attachment_ids)
            messages += len(await storage.casefile.messages(case_id, THREADS))
            notes += len(await storage.casefile.notes(case_id))
            await storage.casefile.actions(case_id)
            await storage.casefile.check_ins(case_id)
            await storage.casefile.survey(case_id)
            await storage.casefile.police_steps(case_id)
            await storage.cases.perpetrator_details(case_id)
            cases += 1
        after = ids[-1]
    after = ""
    while True:
        async with storage.db.snapshot() as conn:
            async with conn.execute(
                "SELECT id FROM persons WHERE id > ? ORDER BY id LIMIT ?", (after, _BATCH)
            ) as cursor:
                ids = [row[0] for row in await cursor.fetchall()]
        if not ids:
            break
        for person_id in ids:
            await storage.people.get(person_id)
            persons += 1
        after = ids[-1]
    return Opened(cases, attachments, messages, notes, persons)


@dataclass(frozen=True, slots=True)
class Restored:
    opened: Opened
    audit: Verification
    set_aside: Path | None  # where the database that was there now is


async def restore(database: Path, key_path: Path, backup: Path) -> Restored:
    """Put ``backup`` in place of ``database``, after checking it opens with ``key_path`` from end to end."""
    if not backup.is_file():
        raise BackupRefused(f"there is no backup at {backup}")
    try:
        lock = DatabaseLock.take(database, exclusive=True)
    except DatabaseInUse as exc:
        raise BackupRefused(str(exc)) from None
    incoming = database.with_name(database.name + ".restoring")
    try:
        with closing(sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)) as peek:
            try:
                row = peek.execute("SELECT value FROM meta WHERE name = 'key_check'").fetchone()
            except sqlite3.Error as exc:
                raise BackupRefused(describe_failure(backup, exc)) from None
        if row is None:
            raise BackupRefused(f"{backup} is not a meldbot database (it has no key check)")
        if not Vault(_master_for(backup, key_path)).matches(bytes(row[0])):
            raise BackupRefused(
                f"the backup {backup} was made with another key than the key file {key_path}: that key would not "
                "open the reports in it. Put the key file that belongs to this backup at that path."
            )
        database.parent.mkdir(parents=True, exist_ok=True)
        _fresh(incoming)
        findings = await asyncio.to_thread(_online_copy, backup, incoming, read_only_source=True)
        if findings:
            raise BackupRefused(f"the backup {backup} fails SQLite's integrity check ({'; '.join(findings[:3])})")
        try:
            # Opened as the bot opens it (an older backup is upgraded here), privately: nobody knows this file.
            storage = await Storage.open(incoming, key_path, lock=None)
        except StorageRefused as refusal:
            raise BackupRefused(str(refusal)) from None
        try:
            audit = await storage.audit.verify()
            if not audit.intact:
                raise BackupRefused(f"the audit trail in the backup {backup} does not verify: {audit.problem}")
            opened = await open_everything(storage)
            await storage.audit.record(
                actor_role="operator", actor="operator", action="restored", now=datetime.now(UTC), detail="backup"
            )
            audit = await storage.audit.verify()
        finally:
            await storage.close()
        set_aside = None
        if database.exists():
            set_aside = database.with_name(f"{database.name}.replaced-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
            for current, aside in zip(companions(database), companions(set_aside), strict=True):
                if current.exists():
                    os.replace(current, aside)
        os.replace(incoming, database)
        sync_folder(database.parent)
    finally:
        for leftover in (*companions(incoming), incoming.with_name(incoming.name + "-journal")):
            leftover.unlink(missing_ok=True)
        lock.release()
    return Restored(opened, audit, set_aside)
