"""Key rotation: a new master key, with every key under it re-wrapped, safe to interrupt at any point.

What the master key protects (storage/crypto.py) is re-wrapped, never re-encrypted:
each person's and each case's data key, and the stored sub-keys (blind index, audit
chain). The sub-keys themselves do not change, so every blind index still finds its
person and the audit chain still verifies; only the key check is replaced, so the old
key file is refused afterwards. The contents of the reports are not touched. The one
key derived from the master key for an index, the perpetrator identifiers' key, does
change: each identifier's index is computed again under the new one, in the same
transaction.

The steps, and what an interruption (a kill, a power cut) at each leaves:

1. the new key is written to ``<key file>.new`` (0600, flushed to disk): until step 2
   commits, the database still uses the old key, and the next open deletes the new file;
2. one database transaction re-wraps every data key and sub-key, replaces the key
   check and adds an audit entry: it commits entirely or not at all;
3. ``<key file>.new`` is renamed over the key file (atomic): if this did not happen,
   the next open sees that the database answers to the new key and does the rename.

So whichever comes first after an interruption (the bot's start, another command)
either completes the rotation or finds the old state intact (``settle_rotation`` in
storage/crypto.py). Rotation needs the database to itself: it refuses while the bot
or another command has it open, because a running bot would go on wrapping new data
keys with the old master key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from flows.perpetrator import IdentifierKind
from storage import Storage
from storage.audit import AuditHead
from storage.cases import DETAILS, detail_index
from storage.crypto import Vault, pending_key_path, sync_folder, write_key_file

WRAPPED_KEYS = ("persons", "cases")  # the tables whose rows carry a data key wrapped by the master key
_BATCH = 500


@dataclass(frozen=True, slots=True)
class Rotated:
    persons: int
    cases: int
    head: AuditHead | None
    identifiers: int = 0  # perpetrator identifiers indexed again under the new key


async def _rewrap_table(conn: aiosqlite.Connection, table: str, old: Vault, new: Vault) -> int:
    count, after = 0, ""
    while True:
        async with conn.execute(
            f"SELECT id, wrapped_key FROM {table} WHERE id > ? ORDER BY id LIMIT ?", (after, _BATCH)
        ) as cursor:
            rows = [(row[0], bytes(row[1])) for row in await cursor.fetchall()]
        if not rows:
            return count
        await conn.executemany(
            f"UPDATE {table} SET wrapped_key = ? WHERE id = ?",
            [(old.rewrap(wrapped, table=table, row_id=row_id, into=new), row_id) for row_id, wrapped in rows],
        )
        count += len(rows)
        after = rows[-1][0]


async def _reindex_identifiers(conn: aiosqlite.Connection, old: Vault, new: Vault) -> int:
    """Every perpetrator identifier's index under ``new``'s identifier key (its value opened with
    its case's data key, which rotation does not change)."""
    count, after = 0, ""
    while True:
        async with conn.execute(
            "SELECT d.id, d.kind, d.value, d.case_id, c.wrapped_key FROM perpetrator_details d"
            " JOIN cases c ON c.id = d.case_id WHERE d.blind_index IS NOT NULL AND d.id > ? ORDER BY d.id LIMIT ?",
            (after, _BATCH),
        ) as cursor:
            rows = list(await cursor.fetchall())
        if not rows:
            return count
        updates = []
        for detail_id, kind, sealed, case_id, wrapped in rows:
            key = old.unwrap(bytes(wrapped), table="cases", row_id=case_id)
            value = key.open_text(bytes(sealed), table=DETAILS, column="value", row_id=detail_id)
            updates.append((detail_index(new, IdentifierKind(kind), value), detail_id))
        await conn.executemany("UPDATE perpetrator_details SET blind_index = ? WHERE id = ?", updates)
        count += len(rows)
        after = rows[-1][0]


async def rotate_key(database: Path, key_path: Path) -> Rotated:
    """Replace the master key in ``key_path`` by a new one; the database must not be in use."""
    storage = await Storage.open(database, key_path, lock="exclusive")
    try:
        old = storage.vault
        new_master = os.urandom(32)
        pending = pending_key_path(key_path)
        write_key_file(pending, new_master)
        new = old.with_master(new_master)
        async with storage.db.transaction() as conn:
            # Identifiers first: their values open with the case keys as wrapped by the old master key.
            identifiers = await _reindex_identifiers(conn, old, new)
            counts = {table: await _rewrap_table(conn, table, old, new) for table in WRAPPED_KEYS}
            await conn.executemany(
                "UPDATE meta SET value = ? WHERE name = ?", [(v, k) for k, v in new.sealed_sub_keys().items()]
            )
            await conn.execute("UPDATE meta SET value = ? WHERE name = 'key_check'", (new.key_check(),))
            await storage.audit.append(
                conn, actor_role="operator", actor="operator", action="key_rotated", now=datetime.now(UTC)
            )
        os.replace(pending, key_path)
        sync_folder(key_path.parent)
        head = await storage.audit.head()
    finally:
        await storage.close()
    return Rotated(counts["persons"], counts["cases"], head, identifiers)
