"""The shared per-(account, region) limiter: rate, independence, backoff, and priority."""

from __future__ import annotations

import threading
import time

import pytest

from bot.aws.limiter import RegionRateLimiter
from tests.trail_support import FakeClock


def make(clock: FakeClock, rate: int = 2) -> RegionRateLimiter:
    return RegionRateLimiter(rate, clock=clock.monotonic, sleep=clock.sleep, margin=0.0)


def test_two_requests_a_second_then_wait() -> None:
    clock = FakeClock()
    limiter = make(clock)
    start = clock.monotonic()

    grants = []
    for _ in range(5):
        limiter.acquire("111", "us-east-1")
        grants.append(clock.monotonic() - start)

    assert grants == [0.0, 0.0, 1.0, 1.0, 2.0]
    assert limiter.granted("111", "us-east-1") == 5


def test_each_account_and_region_has_its_own_allowance() -> None:
    clock = FakeClock()
    limiter = make(clock)
    for key in [("111", "us-east-1"), ("111", "eu-west-1"), ("222", "us-east-1")]:
        limiter.acquire(*key)
        limiter.acquire(*key)
    assert clock.sleeps == []
    assert limiter.granted(account="111") == 4 and limiter.granted(region="us-east-1") == 4


def test_margin_widens_the_window() -> None:
    clock = FakeClock()
    limiter = RegionRateLimiter(2, clock=clock.monotonic, sleep=clock.sleep, margin=0.05)
    for _ in range(3):
        limiter.acquire("111", "us-east-1")
    assert clock.sleeps == [pytest.approx(1.05)]


def test_backoff_pauses_every_caller_of_the_key() -> None:
    clock = FakeClock()
    limiter = make(clock)
    limiter.backoff("111", "us-east-1", 4.0)

    waited = limiter.acquire("111", "us-east-1")
    other = limiter.acquire("111", "eu-west-1")

    assert waited == pytest.approx(4.0) and other == 0.0


def test_rejects_a_nonsense_rate() -> None:
    with pytest.raises(ValueError):
        RegionRateLimiter(0)


def test_interactive_requests_go_before_background_ones() -> None:
    """A background request waiting for a slot is overtaken by an interactive one."""
    now = [0.0]
    sleepers: list[str] = []
    gate = threading.Event()

    def sleep(seconds: float) -> None:
        sleepers.append(threading.current_thread().name)
        assert gate.wait(5), "test gate never opened"

    limiter = RegionRateLimiter(1, clock=lambda: now[0], sleep=sleep, margin=0.0)
    limiter.acquire("111", "us-east-1")  # the lane is full until t=1
    order: list[str] = []

    def request(interactive: bool) -> None:
        limiter.acquire("111", "us-east-1", interactive=interactive)
        order.append("interactive" if interactive else "background")

    background = threading.Thread(target=request, args=(False,), name="background")
    interactive = threading.Thread(target=request, args=(True,), name="interactive")
    background.start()
    _wait_for(lambda: "background" in sleepers)
    interactive.start()
    _wait_for(lambda: "interactive" in sleepers)
    now[0] = 1.0  # one slot frees up: the interactive request takes it
    gate.set()
    interactive.join(5)
    _wait_for(lambda: len(sleepers) >= 3)  # background waits for the next slot
    now[0] = 2.0
    background.join(5)

    assert order == ["interactive", "background"]


def _wait_for(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.001)
