"""JSON-RPC 2.0 requests from `nodes/{id}/rpc/send` to the handlers, and their answers for `rpc/recv`.

Each request runs in its own task, so a long `goto` does not hold up a `mode_brake`. The cloud resends a
request it has no answer to after 2, 4, 8 s: the last 128 ids are remembered, a resent request whose run has
ended gets the same answer again, and one still running is not run twice (its answer goes when it ends).
The dispatcher outlives MQTT sessions: an answer that ends while the broker is away is kept for the resend.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from mediaplane.services.gosd.agent.handlers import (
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    SERVER_ERROR,
    Handlers,
    Params,
    RpcError,
)
from mediaplane.services.gosd.mqtt import rpc
from mediaplane.services.gosd.mqtt.client import cancel_all

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
REMEMBERED = 128
Send = Callable[[bytes], Awaitable[None]]
log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, handlers: Handlers, *, remember: int = REMEMBERED) -> None:
        self.handlers = handlers
        self.send: Send | None = None  # set while connected
        self.runs = 0  # handler calls, for the tests and the log
        self._remember = remember
        self._answers: OrderedDict[str, bytes | None] = OrderedDict()  # None: still running
        self._tasks: set[asyncio.Task[None]] = set()

    async def receive(self, payload: bytes) -> None:
        try:
            body = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            await self._send(rpc.error(None, PARSE_ERROR, "Parse error"))
            return
        if isinstance(body, dict) and "method" not in body and ("result" in body or "error" in body):
            return  # an answer, not for us
        rpc_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(body.get("method"), str) or body.get("jsonrpc") != "2.0":
            await self._send(rpc.error(rpc_id, INVALID_REQUEST, "Invalid Request"))
            return
        method: str = body["method"]
        params = body.get("params")
        if "id" not in body:
            self._spawn(self._notify(method, params))
            return
        key = json.dumps(rpc_id)
        if key in self._answers:
            self._answers.move_to_end(key)
            answer = self._answers[key]
            if answer is not None:
                await self._send(answer)
            return
        self._answers[key] = None
        while len(self._answers) > self._remember:
            self._answers.popitem(last=False)
        self._spawn(self._answer(key, rpc_id, method, params))

    async def close(self) -> None:
        await cancel_all(list(self._tasks))

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, answer: bytes) -> None:
        if self.send is None:
            return
        try:
            await self.send(answer)
        except Exception as exc:  # the broker went away: the cloud resends, and gets the kept answer
            log.warning("rpc: answer not sent (%s)", exc)

    async def _answer(self, key: str, rpc_id: Any, method: str, params: Any) -> None:
        answer = await self.call(rpc_id, method, params)
        if key in self._answers:
            self._answers[key] = answer
        await self._send(answer)

    async def _notify(self, method: str, params: Any) -> None:
        try:
            await self.run(method, params)
        except RpcError as exc:
            log.info("rpc: notification %s: %s", method, exc.message)

    async def call(self, rpc_id: Any, method: str, params: Any) -> bytes:
        """The encoded answer to one request."""
        try:
            value = await self.run(method, params)
        except RpcError as exc:
            return rpc.error(rpc_id, exc.code, exc.message, exc.data)
        try:
            return rpc.result(rpc_id, value)
        except (TypeError, ValueError) as exc:
            return rpc.error(rpc_id, SERVER_ERROR, f"the result is not JSON: {exc}")

    async def run(self, method: str, params: Any) -> Any:
        """The handler's result; every failure as an RpcError."""
        handler = self.handlers.get(method)
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, "Method not found")
        if params is not None and not isinstance(params, dict | list):
            raise RpcError(INVALID_PARAMS, "Invalid params: expected an object or a list")
        self.runs += 1
        typed: Params = params
        try:
            return await handler(typed)
        except RpcError:
            raise
        except Exception as exc:  # CancelledError is not an Exception: it goes through
            log.info("rpc: %s failed: %s", method, exc)
            raise RpcError(SERVER_ERROR, str(exc) or type(exc).__name__) from exc
