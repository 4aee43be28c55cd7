"""The shared crawl frontier in Redis: due (cycle, source) pairs that workers on any machine claim.

Keys under the configured prefix:
    <prefix>:frontier     list of members "<cycle_id> <source_id>" waiting to be crawled
    <prefix>:claims       sorted set: members taken by a worker, scored by the deadline of the claim
    <prefix>:workers      hash: worker id -> JSON heartbeat (host, pid, last seen, fetched)
    <prefix>:slot:<host>  the fleet-wide politeness slot of one host (see crawler/fleet_politeness.py)

A claim moves a member from the list to the sorted set in one Lua script; a live worker renews its
claims, and a claim whose deadline passed (its worker was killed) goes back to the list. Deadlines
use the Redis server's clock, so the workers' clocks need not agree. Redis is only the fast path:
the database's cycle_item rows say what is due and done, and `enqueue` rebuilds the list from them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from monitor.config import FrontierConfig

if TYPE_CHECKING:
    import redis

_CLAIM = """
local now = redis.call('TIME')
local deadline = tonumber(now[1]) + tonumber(now[2]) / 1e6 + tonumber(ARGV[2])
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local member = redis.call('LPOP', KEYS[1])
  if not member then break end
  redis.call('ZADD', KEYS[2], deadline, member)
  out[#out + 1] = member
end
return out
"""

_RENEW = """
local now = redis.call('TIME')
local deadline = tonumber(now[1]) + tonumber(now[2]) / 1e6 + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', deadline, ARGV[i]) end
return #ARGV - 1
"""

_REAP = """
local now = redis.call('TIME')
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', tonumber(now[1]) + tonumber(now[2]) / 1e6)
for _, member in ipairs(expired) do
  redis.call('ZREM', KEYS[2], member)
  redis.call('LPUSH', KEYS[1], member)
end
return #expired
"""

_RELEASE = """
for i = 1, #ARGV do
  if redis.call('ZREM', KEYS[2], ARGV[i]) == 1 then redis.call('LPUSH', KEYS[1], ARGV[i]) end
end
return #ARGV
"""

_SLOT_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 1 then return 1 end
return ttl
"""

_SLOT_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) else redis.call('DEL', KEYS[1]) end
  return 1
end
return 0
"""


def redis_error() -> type[Exception]:
    """What a lost or failing Redis connection raises (`except redis_error():`). The client is imported
    here, on the first error, and by `Frontier.from_config`: a cycle without a [frontier] never loads it."""
    import redis

    return redis.RedisError


def member(cycle_id: str, source_id: str) -> str:
    """The frontier's name for one source due in one cycle (ids never contain spaces)."""
    return f"{cycle_id} {source_id}"


def parse_member(value: str) -> tuple[str, str]:
    cycle_id, _, source_id = value.partition(" ")
    return cycle_id, source_id


class Frontier:
    """Operations on the shared frontier; every one is a single Redis command or script."""

    def __init__(self, client: redis.Redis, prefix: str, visibility_timeout: float) -> None:
        self.client = client
        self.prefix = prefix
        self.visibility_timeout = visibility_timeout
        self.queue_key = f"{prefix}:frontier"
        self.claims_key = f"{prefix}:claims"
        self.workers_key = f"{prefix}:workers"
        self._claim = client.register_script(_CLAIM)
        self._renew = client.register_script(_RENEW)
        self._reap = client.register_script(_REAP)
        self._release = client.register_script(_RELEASE)
        self._slot_acquire = client.register_script(_SLOT_ACQUIRE)
        self._slot_release = client.register_script(_SLOT_RELEASE)

    @classmethod
    def from_config(cls, config: FrontierConfig) -> Frontier:
        from scrapy_redis.connection import get_redis  # with the redis client: only where a frontier is used

        client = get_redis(url=config.redis, decode_responses=True, socket_timeout=30,
                           socket_connect_timeout=10, retry_on_timeout=True)
        return cls(client, config.key_prefix, config.visibility_timeout)

    def push(self, members: Iterable[str]) -> int:
        """Append members to the list (in chunks, one round trip each)."""
        batch: list[str] = []
        count = 0
        for value in members:
            batch.append(value)
            if len(batch) >= 1000:
                self.client.rpush(self.queue_key, *batch)
                count += len(batch)
                batch = []
        if batch:
            self.client.rpush(self.queue_key, *batch)
            count += len(batch)
        return count

    def claim(self, count: int) -> list[str]:
        """Take up to `count` members; each returns to the list unless renewed within the timeout."""
        if count <= 0:
            return []
        return list(self._claim(keys=[self.queue_key, self.claims_key], args=[count, self.visibility_timeout]))

    def renew(self, members: Iterable[str]) -> None:
        members = list(members)
        if members:
            self._renew(keys=[self.claims_key], args=[self.visibility_timeout, *members])

    def done(self, value: str) -> None:
        self.client.zrem(self.claims_key, value)

    def release(self, members: Iterable[str]) -> None:
        """Give claimed members back right away (a worker shutting down cleanly)."""
        members = list(members)
        if members:
            self._release(keys=[self.queue_key, self.claims_key], args=members)

    def reap(self) -> int:
        """Return expired claims (their worker stopped renewing them) to the list."""
        return int(self._reap(keys=[self.queue_key, self.claims_key]))

    def waiting(self) -> int:
        return int(self.client.llen(self.queue_key))

    def claimed(self) -> int:
        return int(self.client.zcard(self.claims_key))

    def present(self) -> set[str]:
        """Every member Redis knows about, waiting or claimed."""
        with self.client.pipeline() as pipe:
            pipe.lrange(self.queue_key, 0, -1)
            pipe.zrange(self.claims_key, 0, -1)
            waiting, claimed = pipe.execute()
        return set(waiting) | set(claimed)

    def heartbeat(self, worker_id: str, info: dict) -> None:
        self.client.hset(self.workers_key, worker_id, json.dumps({**info, "last_seen": time.time()}))

    def forget_worker(self, worker_id: str) -> None:
        self.client.hdel(self.workers_key, worker_id)

    def workers(self, seen_within: float = 120.0) -> list[dict]:
        """Workers that sent a heartbeat recently, newest first."""
        now = time.time()
        out = []
        for worker_id, raw in self.client.hgetall(self.workers_key).items():
            info = json.loads(raw)
            if now - float(info.get("last_seen", 0)) <= seen_within:
                out.append({"id": worker_id, **info})
        return sorted(out, key=lambda w: -w["last_seen"])

    def acquire_slot(self, host: str, token: str, hold_ms: int) -> int:
        """0 if this request now holds the host's slot, else milliseconds until it may free up."""
        return int(self._slot_acquire(keys=[f"{self.prefix}:slot:{host}"], args=[token, hold_ms]))

    def release_slot(self, host: str, token: str, delay_ms: int) -> None:
        """Free the host's slot after `delay_ms` (the politeness delay between two requests)."""
        self._slot_release(keys=[f"{self.prefix}:slot:{host}"], args=[token, delay_ms])

    def delete_all(self) -> int:
        """Remove every key under the prefix (what a Redis restart without persistence does)."""
        keys = list(self.client.scan_iter(match=f"{self.prefix}:*", count=1000))
        return int(self.client.delete(*keys)) if keys else 0
