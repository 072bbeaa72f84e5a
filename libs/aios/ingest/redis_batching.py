"""A Redis client that sends the commands of concurrent requests together, in one round trip.

Every submission makes two to four Redis calls (quota, idempotency key, status), and a busy
worker has dozens of submissions making them in the same turn of its event loop. Sent one by
one, each call costs a round trip and redis-py's per-command work (connection checkout, retry
wrapper, socket write); this client queues the commands issued during one turn and sends them as
one pipeline. The pipeline is not a transaction: Redis runs the commands in the order they were
issued, and each caller gets its own command's result or error, exactly as if it had sent it alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

_Queued = tuple[tuple[Any, ...], dict[str, Any], "asyncio.Future[Any]"]


class BatchingRedis(Redis):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queued: list[_Queued] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._queued:
            loop.call_soon(self._send_queued)  # after the commands issued in this turn
        self._queued.append((args, options, future))
        return await future

    def _send_queued(self) -> None:
        queued, self._queued = self._queued, []
        task = asyncio.get_running_loop().create_task(self._send(queued))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, queued: list[_Queued]) -> None:
        try:
            async with self.pipeline(transaction=False) as pipeline:
                for args, options, _ in queued:
                    pipeline.execute_command(*args, **options)
                results = await pipeline.execute(raise_on_error=False)
        except Exception as exc:  # Redis unreachable: every caller gets the error
            results = [exc] * len(queued)
        for (_, _, future), result in zip(queued, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
