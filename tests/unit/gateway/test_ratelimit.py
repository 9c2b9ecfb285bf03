"""The gateway's per-token buckets with an injected clock: no sleeping, no timed assertions."""

import pytest

from onboarding.gateway.ratelimit import Limits, RateLimiter, TokenBucket, retry_after_header

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def limiter(clock, *, records=10, burst=20, requests=2, request_burst=2, max_tokens=100):
    return RateLimiter(Limits(records_per_second=records, burst=burst, requests_per_second=requests,
                              request_burst=request_burst), clock=clock, max_tokens=max_tokens)


def test_a_full_bucket_gives_its_burst_then_asks_to_wait_for_the_refill():
    bucket = TokenBucket(rate=10, burst=20, now=0.0)
    assert bucket.take(20, now=0.0) == 0.0
    assert bucket.take(5, now=0.0) == pytest.approx(0.5)  # 5 tokens at 10 a second
    assert bucket.take(5, now=0.5) == 0.0
    assert bucket.take(1, now=0.5) == pytest.approx(0.1)


def test_the_refill_stops_at_the_burst():
    bucket = TokenBucket(rate=10, burst=20, now=0.0)
    bucket.take(20, now=0.0)
    assert bucket.full(now=1000.0)
    assert bucket.take(20, now=1000.0) == 0.0
    assert bucket.take(1, now=1000.0) > 0


def test_more_than_the_burst_goes_from_a_full_bucket_and_is_paid_back_before_the_next():
    bucket = TokenBucket(rate=10, burst=20, now=0.0)
    assert bucket.take(50, now=0.0) == 0.0  # a batch larger than the burst is not refused forever
    assert bucket.take(1, now=0.0) == pytest.approx(3.1)  # 30 tokens of debt, then one more
    assert bucket.take(1, now=3.0) > 0
    assert bucket.take(1, now=3.1) == 0.0


def test_tokens_have_buckets_of_their_own():
    clock = Clock()
    limits = limiter(clock)
    assert limits.request("a") == 0.0 and limits.request("a") == 0.0
    assert limits.request("a") == pytest.approx(0.5)
    assert limits.request("b") == 0.0
    clock.now += 0.5
    assert limits.request("a") == 0.0


def test_records_and_requests_are_separate_limits():
    clock = Clock()
    limits = limiter(clock)
    assert limits.records("a", 20) == 0.0
    assert limits.records("a", 1) > 0
    assert limits.request("a") == 0.0


def test_a_rate_of_zero_turns_the_limit_off():
    limits = limiter(Clock(), records=0, requests=0)
    assert all(limits.records("a", 1000) == 0.0 and limits.request("a") == 0.0 for _ in range(100))


def test_memory_stays_bounded_and_full_buckets_are_forgotten_first():
    clock = Clock()
    limits = limiter(clock, max_tokens=3)
    limits.records("busy", 20)  # empty: remembered
    limits.records("idle-1", 1)
    limits.records("idle-2", 1)
    clock.now += 0.2  # the idle ones refill; busy is still 18 short
    limits.records("new", 1)
    assert set(limits._records) == {"busy", "new"}
    assert limits.records("busy", 5) > 0  # 2 of 20 refilled: its state was not forgotten


def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one():
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.0) == "1"
    assert retry_after_header(1.2) == "2"
