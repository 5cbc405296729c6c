"""The one retry helper (bot/retry.py): the platform's wait is honoured, else the back-off
doubles up to its cap; patience ends the tries, with one last try when a back-off is cut short."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from bot.retry import Backoff, RetryPolicy, persist

log = logging.getLogger("tests.retry")


class Flaky:
    """Answers ``answers`` in turn (an exception is raised), recording when it was called."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.calls: list[float] = []

    async def __call__(self) -> object:
        self.calls.append(asyncio.get_running_loop().time())
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def retry_after(answer: object) -> float | None:
    """``("wait", s)`` asks to wait ``s`` seconds (0: back off); anything else is final."""
    return answer[1] if isinstance(answer, tuple) else None  # type: ignore[no-any-return]


def gaps(calls: list[float]) -> list[float]:
    return [round(later - earlier, 2) for earlier, later in zip(calls, calls[1:], strict=False)]


def test_backoff_doubles_up_to_its_cap_and_honours_the_platforms_wait() -> None:
    backoff = Backoff(RetryPolicy(first=timedelta(seconds=1), cap=timedelta(seconds=5)))
    assert [backoff.delay() for _ in range(4)] == [1, 2, 4, 5]
    assert backoff.delay(retry_after=12) == 12
    backoff.reset()
    assert backoff.delay() == 1


async def test_answers_and_errors_are_retried_until_one_is_final() -> None:
    attempt = Flaky(ConnectionError("down"), ("wait", 0.0), ("wait", 0.15), "sent")
    policy = RetryPolicy(first=timedelta(seconds=0.05), cap=timedelta(seconds=0.08), patience=timedelta(seconds=5))

    answer = await persist(attempt, policy, log=log, what="test", again=retry_after, errors=(ConnectionError,))

    assert answer == "sent"
    assert gaps(attempt.calls) == pytest.approx([0.05, 0.08, 0.15], abs=0.03)


async def test_a_wait_beyond_the_patience_gives_up_at_once_with_the_last_answer() -> None:
    attempt = Flaky(("wait", 0.0), ("wait", 30.0), "never asked")
    policy = RetryPolicy(first=timedelta(seconds=0.01), cap=timedelta(seconds=1), patience=timedelta(seconds=1))

    answer = await persist(attempt, policy, log=log, what="test", again=retry_after)

    assert answer == ("wait", 30.0) and len(attempt.calls) == 2


async def test_a_backoff_is_cut_to_the_patience_for_one_last_try_then_the_error_is_raised() -> None:
    attempt = Flaky(*(ConnectionError(str(n)) for n in range(1, 6)), "never asked")
    policy = RetryPolicy(first=timedelta(seconds=0.1), cap=timedelta(seconds=10), patience=timedelta(seconds=0.25))

    with pytest.raises(ConnectionError) as raised:
        await persist(attempt, policy, log=log, what="test", errors=(ConnectionError,))

    assert str(raised.value) == str(len(attempt.calls))  # the last try's error
    # tries at 0, 0.1 and 0.25 (the 0.2 s back-off cut to what was left), not at 0.3
    assert attempt.calls[-1] - attempt.calls[0] == pytest.approx(0.25, abs=0.05)
