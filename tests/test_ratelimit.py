"""The pacer keeps to Telegram's limits under load and after the event loop stalled."""

from __future__ import annotations

import asyncio
import time

from bot.ratelimit import TelegramPacer


def busiest_second(starts: list[float]) -> int:
    """The most request starts that fall within any one second (a sliding window)."""
    starts = sorted(starts)
    best, first = 0, 0
    for last, moment in enumerate(starts):
        while moment - starts[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


async def send_through(pacer: TelegramPacer, count: int, *, stall_at: tuple[int, ...] = (), chat_of=lambda i: 5000 + i):
    starts: list[float] = []

    async def request(number: int) -> bool:
        starts.append(time.monotonic())
        if number in stall_at:
            time.sleep(0.3)  # the whole event loop stands still, as on a busy machine or a slow disk
        return True

    await asyncio.gather(
        *(pacer.process_request(request, (i,), {}, "sendMessage", {"chat_id": chat_of(i)}, None) for i in range(count))
    )
    return starts


async def test_a_steady_stream_goes_out_evenly_at_29_a_second():
    starts = await send_through(TelegramPacer(), 60)
    assert busiest_second(starts) <= 30
    assert 58 / 29 <= max(starts) - min(starts) < 4


async def test_after_the_event_loop_stalled_no_second_holds_more_than_30_requests():
    """Before, every slot that fell due during the stall was released at once: 36-38 in one second."""
    starts = await send_through(TelegramPacer(), 120, stall_at=(40,))
    assert busiest_second(starts) <= 30
    # The stall costs its own length, nothing more: the rest keeps going at the usual pace.
    assert max(starts) - min(starts) < 119 / 29 + 0.3 + 2


async def test_stalls_one_after_the_other_still_never_make_a_burst():
    starts = await send_through(TelegramPacer(), 70, stall_at=(10, 25, 26, 50))
    assert busiest_second(starts) <= 30


async def test_a_group_gets_its_own_slower_pace_without_holding_up_private_chats():
    pacer = TelegramPacer(group_per_minute=600)  # one every 0.1 s, to keep the test short
    starts = await send_through(pacer, 6, chat_of=lambda i: -100123)
    gaps = [b - a for a, b in zip(sorted(starts), sorted(starts)[1:], strict=False)]
    assert min(gaps) >= 0.095
    private = await send_through(pacer, 10)
    assert max(private) - min(private) < 0.09 * 10  # 1/29 s apart, not 0.1 s
