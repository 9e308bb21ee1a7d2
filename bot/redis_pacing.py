"""Reservations shared by replicas through Redis: one Lua script per reservation, atomic.

Redis runs a script without interleaving any other command, so two replicas never book the
same slot. The script is the algorithm of `bridge.pacing.windows.reserve`, line for line, on
Redis's own clock (`TIME`): monotonic clocks of two processes are not comparable. Each key is
a list of the last `limit` booked moments and expires once its last booking stops counting.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bridge.pacing.store import Booking, Reservation

KEY_PREFIX = "support-bridge:pacing:"
SOCKET_TIMEOUT = 1.0  # seconds; a slow Redis falls back to in-process pacing, not a stall

# KEYS: one list per window. ARGV: now ('' = Redis's clock), count, then limit and seconds per key.
RESERVE = """
local now
if ARGV[1] == '' then
  local time = redis.call('TIME')
  now = tonumber(time[1]) + tonumber(time[2]) / 1000000
else
  now = tonumber(ARGV[1])
end
local count = tonumber(ARGV[2])
local last = now
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local seconds = tonumber(ARGV[2 + 2 * i])
  local recent = redis.call('LRANGE', key, -limit, -1)
  for j = 1, #recent do
    recent[j] = tonumber(recent[j])
  end
  local moment = now
  for _ = 1, count do
    if #recent >= limit then
      moment = math.max(moment, recent[#recent - limit + 1] + seconds)
    end
    if #recent > 0 then
      moment = math.max(moment, recent[#recent])
    end
    recent[#recent + 1] = moment
    redis.call('RPUSH', key, string.format('%.6f', moment))
  end
  redis.call('LTRIM', key, -limit, -1)
  redis.call('PEXPIRE', key, math.ceil((moment + seconds - now) * 1000))
  last = math.max(last, moment)
end
return {string.format('%.6f', now), string.format('%.6f', last)}
"""


class RedisPacingStore:
    name = "redis"

    def __init__(self, client: Redis, prefix: str = KEY_PREFIX) -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(RESERVE)

    @classmethod
    def from_url(cls, url: str, prefix: str = KEY_PREFIX) -> RedisPacingStore:
        """A client that fails fast: one quick retry (a stale connection), short timeouts."""
        client = Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
            retry=Retry(NoBackoff(), 1),
        )
        return cls(client, prefix)

    async def ping(self) -> None:
        await self._client.ping()

    async def reserve(
        self, bookings: Sequence[Booking], count: int, now: float | None = None
    ) -> Reservation:
        keys = [self._prefix + booking.key for booking in bookings]
        args: list[str | int] = ["" if now is None else repr(now), count]
        for booking in bookings:
            args += [booking.window.limit, repr(booking.window.seconds)]
        reserved_at, moment = await self._script(keys=keys, args=args)
        return Reservation(float(reserved_at), float(moment))

    async def close(self) -> None:
        await self._client.aclose()
