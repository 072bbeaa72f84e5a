"""The batching Redis client against the stack's Redis: one round trip per turn, each caller its own answer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from aios.ingest.redis_batching import BatchingRedis
from aios.settings import ConnectionSettings

ECHO_SCRIPT = "return ARGV[1]"


def test_concurrent_callers_share_one_connection_and_get_their_own_results(connection: ConnectionSettings) -> None:
    prefix = f"test:batching:{uuid.uuid4().hex}"

    async def run(client: Redis) -> tuple[Sequence[object], int]:
        async with client:
            results = await asyncio.gather(
                *(client.set(f"{prefix}:{n}", n, ex=60) for n in range(40)),
                *(client.get(f"{prefix}:{n}") for n in range(40)),
            )
            return results, len(client.connection_pool._available_connections)

    batched, batched_connections = asyncio.run(run(BatchingRedis.from_url(connection.redis_url)))
    assert batched == [True] * 40 + [str(n).encode() for n in range(40)]
    assert batched_connections == 1  # one pipeline: the sets and then the gets, in the order issued

    _, plain_connections = asyncio.run(run(Redis.from_url(connection.redis_url)))
    assert plain_connections > 1  # what the batching saves: a connection and a round trip per command


def test_a_failing_command_fails_only_its_caller(connection: ConnectionSettings) -> None:
    key = f"test:batching:{uuid.uuid4().hex}"

    async def run() -> Sequence[object]:
        async with BatchingRedis.from_url(connection.redis_url) as client:
            await client.hset(key, "field", "x")
            await client.expire(key, 60)
            return await asyncio.gather(client.incr(key), client.hget(key, "field"), return_exceptions=True)

    wrong_type, value = asyncio.run(run())
    assert isinstance(wrong_type, ResponseError) and "WRONGTYPE" in str(wrong_type)
    assert value == b"x"


def test_a_script_flushed_from_redis_is_loaded_again(connection: ConnectionSettings) -> None:
    """After a Redis restart (or SCRIPT FLUSH) EVALSHA fails with NOSCRIPT; redis-py loads the script and
    calls it again, through the batching client too."""

    async def run() -> list[bytes]:
        async with BatchingRedis.from_url(connection.redis_url) as client:
            echo = client.register_script(ECHO_SCRIPT)
            first = await echo(args=["before"])
            await client.script_flush()
            return [first, *await asyncio.gather(echo(args=["after 1"]), echo(args=["after 2"]))]

    assert asyncio.run(run()) == [b"before", b"after 1", b"after 2"]


def test_every_caller_gets_the_error_when_redis_is_unreachable() -> None:
    async def run() -> Sequence[object]:
        async with BatchingRedis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1) as client:
            return await asyncio.gather(client.get("a"), client.set("b", 1), return_exceptions=True)

    results = asyncio.run(run())
    assert len(results) == 2
    for result in results:
        assert isinstance(result, RedisConnectionError | OSError)
