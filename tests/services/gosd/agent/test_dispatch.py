"""JSON-RPC dispatch on the node: answers, the error codes, notifications, and resends answered from memory."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from mediaplane.services.gosd.agent.dispatch import Dispatcher
from mediaplane.services.gosd.agent.handlers import Handlers, InvalidParams, Params, RpcError, number, params_object


class Node:
    def __init__(self, remember: int = 128) -> None:
        self.handlers = Handlers()
        self.dispatcher = Dispatcher(self.handlers, remember=remember)
        self.sent: list[dict[str, Any]] = []
        self.dispatcher.send = self._send
        self.release = asyncio.Event()
        self.calls: list[Any] = []

        @self.handlers.method("echo")
        async def echo(params: Params) -> Any:
            self.calls.append(params)
            return params

        @self.handlers.method("slow")
        async def slow(params: Params) -> Any:
            self.calls.append(params)
            await self.release.wait()
            return "done"

        @self.handlers.method("fails")
        async def fails(params: Params) -> Any:
            raise RuntimeError("battery too low")

        @self.handlers.method("teapot")
        async def teapot(params: Params) -> Any:
            raise RpcError(418, "I'm a teapot", {"tea": True})

        @self.handlers.method("strict")
        async def strict(params: Params) -> Any:
            return number(params_object(params), "alt", low=1, high=500)

        @self.handlers.method("odd")
        async def odd(params: Params) -> Any:
            return {1, 2}

    async def _send(self, payload: bytes) -> None:
        self.sent.append(json.loads(payload))

    async def request(self, body: Any) -> None:
        await self.dispatcher.receive(json.dumps(body).encode() if not isinstance(body, bytes) else body)
        await self.settle()

    async def settle(self) -> None:
        for _ in range(5):
            await asyncio.sleep(0)


def req(rpc_id: Any, method: str, params: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": rpc_id, "method": method}
    if params is not None:
        body["params"] = params
    return body


@pytest.fixture
def node() -> Node:
    return Node()


class TestAnswers:
    async def test_result(self, node: Node) -> None:
        await node.request(req("a-1", "echo", {"x": 1}))
        assert node.sent == [{"jsonrpc": "2.0", "result": {"x": 1}, "id": "a-1"}]

    @pytest.mark.parametrize(
        ("body", "code", "message"),
        [
            (req(1, "nope"), -32601, "Method not found"),
            (req(1, "fails"), -32000, "battery too low"),
            (req(1, "strict", {"alt": 0}), -32602, "Invalid params: alt must be between 1 and 500"),
            (req(1, "strict", ["x"]), -32602, "Invalid params: expected an object"),
            (req(1, "echo", "text"), -32602, "Invalid params: expected an object or a list"),
            (req(1, "odd"), -32000, None),
            ({"jsonrpc": "2.0", "id": 1, "method": 5}, -32600, "Invalid Request"),
            ({"id": 1, "method": "echo"}, -32600, "Invalid Request"),
        ],
    )
    async def test_errors(self, node: Node, body: dict[str, Any], code: int, message: str | None) -> None:
        await node.request(body)
        [answer] = node.sent
        assert answer["id"] == 1 and answer["error"]["code"] == code
        assert message is None or answer["error"]["message"] == message

    async def test_own_code_and_data(self, node: Node) -> None:
        await node.request(req(2, "teapot"))
        assert node.sent[0]["error"] == {"code": 418, "message": "I'm a teapot", "data": {"tea": True}}

    async def test_not_json(self, node: Node) -> None:
        await node.request(b"{nope")
        assert node.sent == [{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}]

    async def test_notifications_and_answers_get_no_answer(self, node: Node) -> None:
        await node.request({"jsonrpc": "2.0", "method": "echo", "params": {"n": 1}})
        await node.request({"jsonrpc": "2.0", "method": "fails"})
        await node.request({"jsonrpc": "2.0", "result": 1, "id": 9})
        assert node.calls == [{"n": 1}] and node.sent == []


class TestResends:
    async def test_a_resend_gets_the_same_answer_without_a_second_run(self, node: Node) -> None:
        await node.request(req("r", "echo", {"n": 1}))
        await node.request(req("r", "echo", {"n": 1}))
        assert len(node.calls) == 1 and node.sent[0] == node.sent[1]
        await node.request(req(7, "echo", {"n": 2}))
        await node.request(req("7", "echo", {"n": 3}))  # another id: 7 is not "7"
        assert len(node.calls) == 3

    async def test_a_resend_while_running_is_answered_once_when_it_ends(self, node: Node) -> None:
        await node.request(req("s", "slow"))
        await node.request(req("s", "slow"))
        assert node.sent == [] and len(node.calls) == 1
        node.release.set()
        await node.settle()
        assert node.sent == [{"jsonrpc": "2.0", "result": "done", "id": "s"}]

    async def test_an_answer_made_while_offline_waits_for_the_resend(self, node: Node) -> None:
        node.dispatcher.send = None
        await node.request(req("o", "echo", [1]))
        node.dispatcher.send = node._send
        await node.request(req("o", "echo", [1]))
        assert node.sent == [{"jsonrpc": "2.0", "result": [1], "id": "o"}] and len(node.calls) == 1

    async def test_only_the_last_ids_are_remembered(self) -> None:
        node = Node(remember=3)
        for rpc_id in ("a", "b", "c", "d"):
            await node.request(req(rpc_id, "echo"))
        await node.request(req("b", "echo"))  # still remembered
        await node.request(req("a", "echo"))  # forgotten: runs again
        assert len(node.calls) == 5

    async def test_close_cancels_what_runs(self, node: Node) -> None:
        await node.request(req("s", "slow"))
        await node.dispatcher.close()
        assert node.sent == []


def test_handlers_registry() -> None:
    first, second = Handlers(), Handlers()

    async def a(params: Params) -> Any:
        return "a"

    async def b(params: Params) -> Any:
        return "b"

    first.add("x", a)
    first.add("y", a)
    second.add("x", b)
    first.update(second)
    assert list(first) == ["x", "y"] and first.get("x") is b and "y" in first and len(first) == 2
    with pytest.raises(ValueError):
        first.add("", a)
    with pytest.raises(InvalidParams):
        number({"v": True}, "v", low=0, high=1)
