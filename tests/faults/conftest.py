"""Fixtures that start throwaway services and the app's own processes, and stop them
whatever happens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..test_survey_worker import eager_off, shared_database  # noqa: F401 - fixtures
from .processes import ThrowawayRedis


@pytest.fixture
def throwaway_redis(tmp_path) -> Iterator[ThrowawayRedis]:
    folder = tmp_path / "redis"
    folder.mkdir()
    redis = ThrowawayRedis(folder)
    try:
        redis.start()
        yield redis
    finally:
        redis.stop()
