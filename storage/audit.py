"""The audit trail: who viewed or changed which case, and when; never content or reporter identity.

Each entry's ``hash`` is a keyed HMAC over the previous entry's hash and the entry's
own fields. The key is a stored sub-key wrapped by the master key (storage/crypto.py),
so someone with only the database cannot re-compute the chain after editing it, and a
key rotation leaves the chain valid.

Three records make a wipe, a cut or a rollback impossible to miss:

- the **genesis entry** (entry 0, action ``genesis``), written in the same transaction
  that gives a new database its key check. Its detail says ``new``, or, for a database
  whose trail began before genesis entries existed, ``upgraded:N``: the N entries
  already there are adopted as they are (they chain from zeros, as they always did)
  and nothing in them is rewritten. A trail without a genesis entry was wiped or
  replaced;
- the **head**: the number of entries and the newest entry's hash, kept (with its own
  keyed HMAC) in ``meta`` and rewritten with every entry. A missing head, or one that
  names more entries than there are, means entries were removed;
- the head as an operator saw it earlier (``COUNT:HASH``, printed by ``meldbot audit
  verify`` and logged by the bot at start and daily): ``--expect`` checks that entry
  COUNT still has that hash, which a database restored from an older copy cannot do.

What remains possible without the key: replacing the whole database by an older copy
of itself (the logged heads and ``--expect`` catch that), or deleting the genesis entry,
the head and the stored sub-keys of a database that was upgraded, so that it looks as it
did before the upgrade (the next start then writes a new genesis entry and logs a new
head: compare with the heads in the log).

:meth:`AuditTrail.verify` reads the chain in batches from one read snapshot, so it runs
in constant memory beside a running bot.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from flows.lifecycle import AuditNote
from storage.database import Database, to_db

ZEROS = b"\x00" * 32  # what the first entry of a trail from before genesis entries chains from
GENESIS_ACTION = "genesis"
_HEAD = "audit_head"
_BATCH = 500
_MARK = re.compile(r"^(\d+):([0-9a-f]{8,64})$")


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
class AuditHead:
    """How many entries the trail holds and the newest one's hash; shown as ``COUNT:HASH``."""

    count: int
    digest: bytes

    def __str__(self) -> str:
        return f"{self.count}:{self.digest.hex()[:8]}"


@dataclass(frozen=True, slots=True)
class HeadMark:
    """A head as an operator noted it earlier: entry ``count`` had a hash starting with ``prefix``."""

    count: int
    prefix: str

    @classmethod
    def parse(cls, text: str) -> HeadMark:
        match = _MARK.match(text.strip().lower())
        if match is None:
            raise ValueError(
                f"{text!r} is not a head as 'meldbot audit verify' prints it: COUNT:HASH, e.g. 1523:9f2c41ab"
            )
        return cls(int(match.group(1)), match.group(2))

    def __str__(self) -> str:
        return f"{self.count}:{self.prefix}"


@dataclass(frozen=True, slots=True)
class Verification:
    entries: int  # entries after the genesis entry
    first_bad: int | None  # seq of the first entry that does not check out, or None
    problem: str | None
    head: AuditHead | None = None

    @property
    def intact(self) -> bool:
        return self.first_bad is None and self.problem is None


def _entry(row: aiosqlite.Row) -> AuditEntry:
    return AuditEntry(
        row["seq"], row["at"], row["actor_role"], row["actor"], row["action"], row["case_ref"], row["detail"]
    )


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

    def _head_mac(self, count: int, digest: bytes) -> bytes:
        return hmac.new(self._key, b"head|" + str(count).encode() + b"|" + digest, hashlib.sha256).digest()

    async def _write_head(self, conn: aiosqlite.Connection, count: int, digest: bytes) -> None:
        head = count.to_bytes(8, "big") + digest + self._head_mac(count, digest)
        await conn.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (_HEAD, head),
        )

    async def write_genesis(self, conn: aiosqlite.Connection, now: datetime) -> None:
        """Entry 0, inside the transaction that sets up the database's keys.

        Entries already there (a trail begun before genesis entries existed) are
        adopted unchanged; the head then still names the newest of them.
        """
        async with conn.execute("SELECT COUNT(*), MAX(seq) FROM audit WHERE seq > 0") as cursor:
            counted = await cursor.fetchone()
        assert counted is not None  # an aggregate always answers
        existing, newest = counted
        genesis = AuditEntry(
            0, to_db(now), "system", "meldbot", GENESIS_ACTION, None, f"upgraded:{existing}" if existing else "new"
        )
        digest = self._mac(ZEROS, genesis)
        await conn.execute(
            "INSERT INTO audit (seq, at, actor_role, actor, action, case_ref, detail, prev_hash, hash)"
            " VALUES (0, ?, ?, ?, ?, NULL, ?, ?, ?)",
            (genesis.at, genesis.actor_role, genesis.actor, genesis.action, genesis.detail, ZEROS, digest),
        )
        if existing:
            async with conn.execute("SELECT hash FROM audit WHERE seq = ?", (newest,)) as cursor:
                newest_row = await cursor.fetchone()
            assert newest_row is not None  # MAX(seq) names an existing entry
            await self._write_head(conn, newest, bytes(newest_row[0]))
        else:
            await self._write_head(conn, 0, digest)

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
        # Without any entry the trail was wiped (a database always has its genesis entry); the
        # action still goes ahead, and verify names the wipe.
        seq, prev = (1, ZEROS) if last is None else (last[0] + 1, bytes(last[1]))
        entry = AuditEntry(seq, to_db(now), actor_role, actor, action, case_ref, detail)
        digest = self._mac(prev, entry)
        await conn.execute(
            "INSERT INTO audit (seq, at, actor_role, actor, action, case_ref, detail, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, entry.at, actor_role, actor, action, case_ref, detail, prev, digest),
        )
        await self._write_head(conn, seq, digest)

    async def append_note(
        self, conn: aiosqlite.Connection, note: AuditNote, now: datetime, case_ref: str | None = None
    ) -> None:
        """Add what a transition of flows/lifecycle.py noted, inside a transaction the caller holds."""
        await self.append(
            conn,
            actor_role=note.actor_role,
            actor=note.actor,
            action=note.action,
            now=now,
            case_ref=case_ref,
            detail=note.detail,
        )

    async def record_note(self, note: AuditNote, now: datetime, case_ref: str | None = None) -> None:
        async with self._db.transaction() as conn:
            await self.append_note(conn, note, now, case_ref)

    async def entries(self, case_ref: str | None = None) -> list[AuditEntry]:
        """What was viewed or changed (the genesis entry is not an event and is left out)."""
        query = "SELECT * FROM audit WHERE seq > 0" + (" AND case_ref = ?" if case_ref else "") + " ORDER BY seq"
        async with self._db.transaction() as conn:
            async with conn.execute(query, (case_ref,) if case_ref else ()) as cursor:
                rows = await cursor.fetchall()
        return [_entry(r) for r in rows]

    def _read_head(self, value: bytes | None) -> AuditHead | None:
        if value is None:
            return None
        count, digest, mac = int.from_bytes(value[:8], "big"), value[8:40], value[40:]
        if not hmac.compare_digest(mac, self._head_mac(count, digest)):
            return None
        return AuditHead(count, digest)

    async def head(self) -> AuditHead | None:
        """The head as recorded, if its record is there and checks out (cheap: for the log)."""
        async with self._db.snapshot() as conn:
            async with conn.execute("SELECT value FROM meta WHERE name = ?", (_HEAD,)) as cursor:
                row = await cursor.fetchone()
        return self._read_head(None if row is None else bytes(row[0]))

    async def verify(self, expect: HeadMark | None = None) -> Verification:
        """Walk the chain from the genesis entry; name the first thing that was wiped, edited, cut or replaced.

        ``expect``: a head seen earlier, which must still be part of the chain.
        """
        async with self._db.snapshot() as conn:
            async with conn.execute("SELECT value FROM meta WHERE name = ?", (_HEAD,)) as cursor:
                head_row = await cursor.fetchone()
            async with conn.execute("SELECT * FROM audit ORDER BY seq") as cursor:
                walk = _Walk(self, expect)
                while rows := await cursor.fetchmany(_BATCH):
                    for row in rows:
                        if not walk.step(row):
                            return walk.result()
        return walk.finish(None if head_row is None else bytes(head_row[0]))


class _Walk:
    """The state of one pass over the chain, one row at a time."""

    def __init__(self, trail: AuditTrail, expect: HeadMark | None) -> None:
        self._trail = trail
        self._expect = expect
        self._expected_seq = 0
        self._prev = ZEROS
        self._adopted = 0  # entries from before the genesis entry, chained from zeros
        self._genesis_digest = ZEROS
        self._seen: bytes | None = None  # the hash of the entry the expected head names
        self.entries = 0
        self._bad: tuple[int, str] | None = None

    def _fail(self, seq: int, problem: str) -> bool:
        self._bad = (seq, problem)
        return False

    def step(self, row: aiosqlite.Row) -> bool:
        entry = _entry(row)
        if self._expected_seq == 0:
            if entry.seq != 0 or entry.action != GENESIS_ACTION:
                return self._fail(0, _NO_GENESIS)
            if not hmac.compare_digest(bytes(row["hash"]), self._trail._mac(ZEROS, entry)):
                return self._fail(0, "the genesis entry (entry 0) was changed")
            detail = entry.detail or ""
            self._adopted = int(detail.split(":", 1)[1]) if detail.startswith("upgraded:") else 0
            self._genesis_digest = bytes(row["hash"])
            self._prev = ZEROS if self._adopted else self._genesis_digest
        else:
            if entry.seq != self._expected_seq:
                return self._fail(self._expected_seq, f"entry {self._expected_seq} is missing or out of order")
            mac = self._trail._mac(self._prev, entry)
            if bytes(row["prev_hash"]) != self._prev or not hmac.compare_digest(bytes(row["hash"]), mac):
                return self._fail(entry.seq, f"entry {entry.seq} was changed or does not follow its predecessor")
            self._prev = bytes(row["hash"])
            self.entries = entry.seq
        if self._expect is not None and entry.seq == self._expect.count:
            self._seen = bytes(row["hash"])
        self._expected_seq += 1
        return True

    def result(self) -> Verification:
        assert self._bad is not None
        return Verification(self.entries, self._bad[0], self._bad[1])

    def finish(self, head_value: bytes | None) -> Verification:
        if self._expected_seq == 0:
            return Verification(0, 0, _NO_GENESIS)
        count = self.entries
        if count < self._adopted:
            return Verification(
                count, count + 1, f"entries after {count} were removed (the genesis entry adopted {self._adopted})"
            )
        if head_value is None:
            return Verification(
                count,
                None,
                "the head record (the newest entry's number and hash) is missing: entries may have been removed",
            )
        head = self._trail._read_head(head_value)
        if head is None:
            return Verification(count, None, "the head record (the newest entry's number and hash) was changed")
        if head.count > count:
            return Verification(count, count + 1, f"entries after {count} were removed (the newest was {head.count})")
        if head.count < count:
            return Verification(
                count, head.count + 1, f"the head record names entry {head.count}, but the trail goes on to {count}"
            )
        if head.digest != self._prev:
            return Verification(count, count, f"the head record does not match entry {count}")
        expect = self._expect
        if expect is not None:
            if expect.count > count:
                return Verification(
                    count,
                    count + 1,
                    f"the trail has {count} entries, fewer than the {expect.count} it had when head {expect} was "
                    "seen: it was rolled back to an older copy or cut",
                    head,
                )
            if self._seen is None or not self._seen.hex().startswith(expect.prefix):
                now = "missing" if self._seen is None else self._seen.hex()[: len(expect.prefix)]
                return Verification(
                    count,
                    expect.count,
                    f"entry {expect.count} is not the one seen as head {expect} (its hash is now {now}): the trail "
                    "was replaced by another copy",
                    head,
                )
        return Verification(count, None, None, head)


_NO_GENESIS = (
    "the genesis entry (entry 0, written when the database was created) is missing: the trail was wiped or replaced"
)
