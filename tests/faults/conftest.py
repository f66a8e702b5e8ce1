"""Fixtures for fault tests (`make faults`): private servers, so stopping them disturbs nothing else."""

import shutil

import pytest

from tests.servers import PG_BIN, PrivatePostgres, PrivateRedis


@pytest.fixture(scope="session")
def private_postgres():
    if PG_BIN is None or shutil.which("runuser") is None:
        pytest.fail("fault tests need PostgreSQL's server binaries (initdb, pg_ctl)")
    pg = PrivatePostgres()
    pg.start()
    yield pg
    pg.destroy()


@pytest.fixture
def private_redis():
    redis = PrivateRedis()
    redis.start()
    yield redis
    redis.stop()
