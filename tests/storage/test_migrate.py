import pytest

from storage.migrate import migrate, migration_files

pytestmark = pytest.mark.integration


async def test_migrations_apply_once_and_are_recorded(pool):
    assert await migrate(pool) == []  # the fixture applied them already
    recorded = [r["name"] for r in await pool.fetch("SELECT name FROM schema_migrations ORDER BY name")]
    assert recorded == [name for name, _ in migration_files()]
