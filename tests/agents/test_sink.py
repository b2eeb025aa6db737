import asyncpg

from agents.sink import is_outage


def test_an_unreachable_database_is_an_outage_to_wait_out():
    assert is_outage(ConnectionRefusedError(111, "Connect call failed"))
    assert is_outage(asyncpg.CannotConnectNowError("the database system is starting up"))
    assert is_outage(asyncpg.AdminShutdownError("terminating connection due to administrator command"))
    assert is_outage(asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"))


def test_a_play_the_database_rejects_is_not_an_outage():
    assert not is_outage(asyncpg.ForeignKeyViolationError("insert or update on table violates foreign key"))
    assert not is_outage(asyncpg.DataError("invalid input"))
    assert not is_outage(ValueError("bad play"))
