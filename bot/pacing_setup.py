"""Which pacing store a process uses, so replicas on one database share their limits."""

from __future__ import annotations

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.redis_pacing import RedisPacingStore
from bridge.errors import ConfigError
from bridge.pacing.memory import MemoryPacingStore
from bridge.pacing.postgres import PostgresPacingStore
from bridge.pacing.store import PacingStore


async def open_pacing_store(redis_url: str | None, engine: AsyncEngine) -> PacingStore:
    """Redis when REDIS_URL is set, else PostgreSQL (replicas may share it), else this process.

    Redis is checked now: a wrong REDIS_URL should stop the start, not surface at the first send.
    """
    if redis_url:
        try:
            store = RedisPacingStore.from_url(redis_url)
        except ValueError:
            raise ConfigError(
                "REDIS_URL is not a usable Redis URL: use redis://[:password@]host:6379/0."
            ) from None
        try:
            await store.ping()
        except (RedisError, OSError) as error:
            await store.close()
            raise ConfigError(
                f"REDIS_URL is set but Redis cannot be used ({error.__class__.__name__}): check "
                "the address, the password and that Redis runs, or unset REDIS_URL."
            ) from None
        return store
    if engine.dialect.name == "postgresql":
        return PostgresPacingStore(engine)
    return MemoryPacingStore()
