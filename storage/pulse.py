"""The safety pulse as stored: counts per period, closed-markers, rounds, and who muted it.

Storage decides nothing (flows/pulse.py does, and explains the design); it keeps what
the flow hands it in single transactions. An answer is a set of (question, answer) pairs
added to the period's counters in the same transaction that writes the person's
closed-marker, and the write-ahead log is folded back at once, so no earlier version of
a counter page stays beside the database to be compared with the next one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from flows.lifecycle import Delivery, Timer, TimerKind
from flows.model import Role
from storage.crypto import Vault
from storage.database import Database, to_db
from storage.outbox import Outbox
from storage.schedule import Schedule

_OFFICE_HOLDER_ROLES = tuple(role.value for role in Role if role.is_office_holder)


class PulseStore:
    def __init__(self, db: Database, vault: Vault) -> None:
        self._db = db
        self._vault = vault

    def marker(self, period: str, telegram_id: int) -> bytes:
        """The closed-marker of one person for one period: a keyed hash unlike the person's own index."""
        return self._vault.blind_index(f"pulse-closed-{period}", telegram_id)

    async def office_holders(self) -> list[bytes]:
        """The indexes of people whose role is an office holder's and who did not mute the pulse."""
        marks = ", ".join("?" for _ in _OFFICE_HOLDER_ROLES)
        async with self._db.transaction() as conn:
            async with conn.execute(
                f"SELECT tg_index FROM persons WHERE role IN ({marks}) AND pulse_muted = 0 ORDER BY tg_index",
                _OFFICE_HOLDER_ROLES,
            ) as cursor:
                return [bytes(row[0]) for row in await cursor.fetchall()]

    async def open_round(self, period: str, deliveries: Sequence[Delivery], following: Timer, now: datetime) -> bool:
        """Open a period's round once: its invitations queued, the markers of earlier periods dropped,
        and the ``following`` round set, all in one transaction.

        False (and nothing queued or set) when the round was opened before.
        """
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO pulse_rounds (period, opened_at) VALUES (?, ?) ON CONFLICT (period) DO NOTHING",
                (period, to_db(now)),
            )
            if cursor.rowcount != 1:
                return False
            await conn.execute("DELETE FROM pulse_closed WHERE period != ?", (period,))
            await Outbox.insert(conn, None, deliveries, now)
            await Schedule.insert(conn, None, [following], now)
        return True

    async def round_pending(self) -> bool:
        """Whether a round waits on the timekeeper."""
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT 1 FROM scheduled WHERE case_id IS NULL AND kind = ? AND status IN ('pending', 'claimed')"
                " LIMIT 1",
                (TimerKind.PULSE_ROUND.value,),
            ) as cursor:
                return await cursor.fetchone() is not None

    async def round_opened(self, period: str) -> bool:
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT 1 FROM pulse_rounds WHERE period = ?", (period,)) as cursor:
                return await cursor.fetchone() is not None

    async def is_closed(self, period: str, telegram_id: int) -> bool:
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT 1 FROM pulse_closed WHERE period = ? AND marker = ?", (period, self.marker(period, telegram_id))
            ) as cursor:
                return await cursor.fetchone() is not None

    async def close(self, period: str, telegram_id: int, answers: Iterable[tuple[str, str]] = ()) -> bool:
        """Close this person's pulse of ``period``, counting ``answers`` with it; False if it was closed already."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO pulse_closed (period, marker) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (period, self.marker(period, telegram_id)),
            )
            if cursor.rowcount != 1:
                return False
            for question, answer in answers:
                await conn.execute(
                    "INSERT INTO pulse_counts (period, question, answer, n) VALUES (?, ?, ?, 1)"
                    " ON CONFLICT (period, question, answer) DO UPDATE SET n = n + 1",
                    (period, question, answer),
                )
        await self._db.checkpoint()
        return True

    async def forget(self, telegram_id: int) -> None:
        """Someone is erased: their closed-markers go too (a keyed hash of their Telegram id is still theirs)."""
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT DISTINCT period FROM pulse_closed") as cursor:
                periods = [row[0] for row in await cursor.fetchall()]
            for period in periods:
                await conn.execute(
                    "DELETE FROM pulse_closed WHERE period = ? AND marker = ?",
                    (period, self.marker(period, telegram_id)),
                )

    async def mute(self, person_id: str, now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE persons SET pulse_muted = 1, updated_at = ? WHERE id = ?", (to_db(now), person_id)
            )

    async def muted(self, person_id: str) -> bool:
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT pulse_muted FROM persons WHERE id = ?", (person_id,)) as cursor:
                row = await cursor.fetchone()
        return row is not None and bool(row[0])

    async def counts(self) -> dict[str, dict[tuple[str, str], int]]:
        """Every period's counters: {period: {(question, answer): n}}."""
        result: dict[str, dict[tuple[str, str], int]] = {}
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT period, question, answer, n FROM pulse_counts") as cursor:
                for row in await cursor.fetchall():
                    result.setdefault(row[0], {})[(row[1], row[2])] = int(row[3])
        return result

    async def rounds(self) -> list[str]:
        """The periods whose pulse went out (flows/pulse.py puts them in order)."""
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT period FROM pulse_rounds") as cursor:
                return [row[0] for row in await cursor.fetchall()]
