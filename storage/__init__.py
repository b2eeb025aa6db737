"""PostgreSQL storage: numbered migrations, the catalog, stations and the play log.

Every function takes the asyncpg pool (or connection) it works with; nothing connects at import time.
"""
