"""The audit trail: who viewed or changed which case, and when; never content or reporter identity.

Each entry's ``hash`` is a keyed HMAC over the previous entry's hash and the entry's
own fields. The key is derived from the master key, so someone with only the database
cannot re-compute the chain after editing it. :meth:`AuditTrail.verify` walks the
chain and names the first entry that was edited, deleted or moved; the newest
entry's hash is also kept (sealed by the same key) in ``meta``, so cutting entries
off the end is noticed too.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.database import Database, to_db

GENESIS = b"\x00" * 32
_HEAD = "audit_head"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: str
    actor_role: str
    actor: str
    action: str
    case_ref: str | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class Verification:
    entries: int
    first_bad: int | None  # seq of the first entry that does not check out, or None
    problem: str | None

    @property
    def intact(self) -> bool:
        return self.first_bad is None and self.problem is None


class AuditTrail:
    def __init__(self, db: Database, key: bytes) -> None:
        self._db = db
        self._key = key

    def _mac(self, prev: bytes, entry: AuditEntry) -> bytes:
        fields = (
            str(entry.seq),
            entry.at,
            entry.actor_role,
            entry.actor,
            entry.action,
            entry.case_ref or "",
            entry.detail or "",
        )
        message = prev + b"\x1f".join(field.encode("utf-8") for field in fields)
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def _head_mac(self, seq: int, digest: bytes) -> bytes:
        return hmac.new(self._key, b"head|" + str(seq).encode() + b"|" + digest, hashlib.sha256).digest()

    async def record(
        self,
        *,
        actor_role: str,
        actor: str,
        action: str,
        now: datetime,
        case_ref: str | None = None,
        detail: str | None = None,
    ) -> None:
        async with self._db.transaction() as conn:
            await self.append(
                conn, actor_role=actor_role, actor=actor, action=action, now=now, case_ref=case_ref, detail=detail
            )

    async def append(
        self,
        conn: aiosqlite.Connection,
        *,
        actor_role: str,
        actor: str,
        action: str,
        now: datetime,
        case_ref: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Add an entry inside a transaction the caller holds."""
        async with conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1") as cursor:
            last = await cursor.fetchone()
        seq, prev = (1, GENESIS) if last is None else (last[0] + 1, bytes(last[1]))
        entry = AuditEntry(seq, to_db(now), actor_role, actor, action, case_ref, detail)
        digest = self._mac(prev, entry)
        await conn.execute(
            "INSERT INTO audit (seq, at, actor_role, actor, action, case_ref, detail, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, entry.at, actor_role, actor, action, case_ref, detail, prev, digest),
        )
        head = seq.to_bytes(8, "big") + digest + self._head_mac(seq, digest)
        await conn.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (_HEAD, head),
        )

    async def entries(self, case_ref: str | None = None) -> list[AuditEntry]:
        query = "SELECT * FROM audit" + (" WHERE case_ref = ?" if case_ref else "") + " ORDER BY seq"
        async with self._db.transaction() as conn:
            async with conn.execute(query, (case_ref,) if case_ref else ()) as cursor:
                rows = await cursor.fetchall()
        return [
            AuditEntry(r["seq"], r["at"], r["actor_role"], r["actor"], r["action"], r["case_ref"], r["detail"])
            for r in rows
        ]

    async def verify(self) -> Verification:
        """Walk the chain from the first entry; report the first one that was edited, deleted or moved."""
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT * FROM audit ORDER BY rowid") as cursor:
                rows = await cursor.fetchall()
            async with conn.execute("SELECT value FROM meta WHERE name = ?", (_HEAD,)) as cursor:
                head_row = await cursor.fetchone()
        prev = GENESIS
        expected_seq = 1
        for row in rows:
            entry = AuditEntry(
                row["seq"], row["at"], row["actor_role"], row["actor"], row["action"], row["case_ref"], row["detail"]
            )
            if entry.seq != expected_seq:
                return Verification(len(rows), expected_seq, f"entry {expected_seq} is missing or out of order")
            if bytes(row["prev_hash"]) != prev or not hmac.compare_digest(bytes(row["hash"]), self._mac(prev, entry)):
                return Verification(
                    len(rows), entry.seq, f"entry {entry.seq} was changed or does not follow its predecessor"
                )
            prev = bytes(row["hash"])
            expected_seq += 1
        if head_row is None:
            if rows:
                return Verification(len(rows), None, "the record of the newest entry is missing")
            return Verification(0, None, None)
        head = bytes(head_row[0])
        head_seq, head_digest, head_mac = int.from_bytes(head[:8], "big"), head[8:40], head[40:]
        if not hmac.compare_digest(head_mac, self._head_mac(head_seq, head_digest)):
            return Verification(len(rows), None, "the record of the newest entry was changed")
        if head_seq != len(rows) or head_digest != prev:
            return Verification(
                len(rows), len(rows) + 1, f"entries after {len(rows)} were removed (the newest was {head_seq})"
            )
        return Verification(len(rows), None, None)
