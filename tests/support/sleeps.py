"""A sleep that only records: pass a `Sleeps` as `sleep=` and read the waits that were asked for."""

from __future__ import annotations

import pytest


class Sleeps(list[float]):
    """An injectable sleep that records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    """Pass as `sleep=` to the SendGrid transport; read the waits it asked for."""
    return Sleeps()
