"""service.security.throttle: the arithmetic of backoff, and what it lets through."""

from __future__ import annotations

import pytest

from service.config import Settings
from service.faults import TooManyAttemptsFault
from service.security.throttle import Gate, Throttle, ThrottleLimits, wait_after
from service.security.users import User, UserStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle(**limits: float) -> tuple[Throttle, Clock]:
    clock = Clock()
    return Throttle(ThrottleLimits(**limits), clock), clock  # type: ignore[arg-type]


def test_the_wait_is_none_below_the_threshold_then_doubles_up_to_the_cap() -> None:
    waits = [wait_after(n, 5, 2.0, 300.0) for n in range(12)]
    assert waits == [0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128]
    assert wait_after(13, 5, 2.0, 300.0) == 300.0
    assert wait_after(10**6, 5, 2.0, 300.0) == 300.0  # no overflow however many
    assert wait_after(3, 0, 2.0, 300.0) == 0.0  # a threshold of 0 turns it off


def test_failures_past_the_threshold_are_refused_with_retry_after() -> None:
    t, clock = throttle(max_failures=3, backoff=2, backoff_max=10)
    for _ in range(3):
        t.admit("ada", None)
        t.failed("ada", None)
    with pytest.raises(TooManyAttemptsFault) as caught:
        t.admit("ada", None)
    assert caught.value.retry_after == 2
    assert caught.value.http_headers == (("Retry-After", "2"),)
    assert caught.value.code == "Client.TooManyAttempts"
    assert caught.value.http_status_plain == 429 and caught.value.http_status_soap11 == 500
    t.admit("bob", None)  # another name is not held back
    clock.now += 1.5
    with pytest.raises(TooManyAttemptsFault) as caught:
        t.admit("ada", None)
    assert caught.value.retry_after == 1  # rounded up, never 0
    clock.now += 0.5
    t.admit("ada", None)
    t.failed("ada", None)  # the 4th: 4 seconds
    assert t.retry_after("ada", None) == 4


def test_at_most_one_check_per_backoff_however_fast_the_guesses() -> None:
    """A guess every 10 ms for 60 s: checked are the first few, then one per wait."""
    t, clock = throttle(max_failures=5, backoff=2, backoff_max=8)
    checked = []
    for _ in range(6000):
        try:
            t.admit("ada", "203.0.113.7")
        except TooManyAttemptsFault:
            pass
        else:
            checked.append(clock.now)
            t.failed("ada", "203.0.113.7")
        clock.now += 0.01
    later = [c - 1000.0 for c in checked[5:]]
    # waits of 2, 4, 8, then 8 (the cap) again and again
    assert len(checked) == 5 + len(later)
    assert len(later) / 60 <= 1 / 8 + 0.1
    gaps = [b - a for a, b in zip(checked[4:], checked[5:], strict=False)]
    assert gaps[:4] == pytest.approx([2.0, 4.0, 8.0, 8.0], abs=0.011)  # the 10 ms step


def test_a_check_in_flight_past_the_threshold_holds_the_others_back() -> None:
    t, clock = throttle(max_failures=1, backoff=2)
    t.admit("ada", None)
    t.failed("ada", None)
    clock.now += 2
    t.admit("ada", None)  # admitted: its slot is reserved until its verdict
    with pytest.raises(TooManyAttemptsFault):
        t.admit("ada", None)
    t.release("ada", None)  # it ran nothing (a cached answer)
    t.admit("ada", None)


def test_an_address_is_counted_across_names_and_a_success_forgets_the_name_only() -> None:
    t, clock = throttle(max_failures=3, max_failures_per_address=4, backoff=2)
    for name in ("a", "b", "c", "d"):
        t.admit(name, "198.51.100.1")
        t.failed(name, "198.51.100.1")
    with pytest.raises(TooManyAttemptsFault):
        t.admit("e", "198.51.100.1")  # a fifth name from the same address
    t.admit("e", "198.51.100.2")  # the same name from elsewhere
    for _ in range(3):
        t.admit("f", None)
        t.failed("f", None)
    clock.now += 2
    t.admit("f", None)
    t.succeeded("f", None)
    t.admit("f", None)  # forgotten
    t.failed("f", None)
    t.admit("f", None)  # one failure again is no wait


def test_counts_are_forgotten_after_quiet_and_memory_is_bounded() -> None:
    t, clock = throttle(max_failures=2, backoff=2, forget_after=60, max_entries=100)
    for _ in range(2):
        t.failed("ada", None)
    clock.now += 61
    t.admit("ada", None)
    t.failed("ada", None)
    t.admit("ada", None)  # one failure since the count was forgotten
    for n in range(1000):
        t.failed(f"user-{n}", f"10.0.{n // 256}.{n % 256}")
    assert len(t._names) <= 100 and len(t._addresses) <= 100


def test_a_gate_counts_checks_not_cached_answers(tmp_path: object) -> None:
    t, _ = throttle(max_failures=2, backoff=2)
    gate = Gate(t, "192.0.2.1")
    answers = iter([(None, False), (None, True), (None, True), (None, False)])
    for _ in range(3):
        assert gate.check("ada", lambda: next(answers)) is None
    assert t.retry_after("ada", None) == 0  # one check failed, two were repeats
    assert gate.check("ada", lambda: next(answers)) is None
    assert t.retry_after("ada", None) == 2
    with pytest.raises(TooManyAttemptsFault):
        gate.check("ada", lambda: (User("ada", "user"), True))  # even a right one waits
    assert Gate().check("ada", lambda: (None, False)) is None  # no throttle: just the check


def test_the_store_remembers_verdicts_for_cache_seconds(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import service.security.users as users_module

    now = [0.0]
    monkeypatch.setattr(users_module.time, "monotonic", lambda: now[0])
    with UserStore(tmp_path, cache_seconds=300) as store:
        store.add("ada", "Right-Password-1")
        assert store.verify("ada", "Right-Password-1") == (User("ada", "user"), False)
        assert store.verify("ada", "Right-Password-1") == (User("ada", "user"), True)
        assert store.verify("ada", "wrong-password") == (None, False)
        assert store.verify("ada", "wrong-password") == (None, True)
        now[0] = 301.0
        assert store.verify("ada", "Right-Password-1") == (User("ada", "user"), False)
    with UserStore(tmp_path / "nocache", cache_seconds=0) as store:
        store.add("bob", "Right-Password-2")
        assert store.verify("bob", "Right-Password-2")[1] is False
        assert store.verify("bob", "Right-Password-2")[1] is False


def test_the_settings_reach_the_throttle() -> None:
    settings = Settings.from_env(
        {
            "SOAP_SERVICE_AUTH_MAX_FAILURES": "7",
            "SOAP_SERVICE_AUTH_MAX_FAILURES_PER_ADDRESS": "30",
            "SOAP_SERVICE_AUTH_BACKOFF": "3",
            "SOAP_SERVICE_AUTH_BACKOFF_MAX": "60",
            "SOAP_SERVICE_AUTH_FORGET_AFTER": "120",
        }
    )
    assert ThrottleLimits.from_settings(settings) == ThrottleLimits(7, 30, 3.0, 60.0, 120.0)
    assert ThrottleLimits.from_settings(Settings()) == ThrottleLimits()
    assert Settings().auth_cache_seconds == 300
