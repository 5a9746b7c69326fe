"""JSON-RPC 2.0 as gosd's nodes speak it over MQTT: requests on nodes/{id}/rpc/send, answers on rpc/recv."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

TIMEOUT_CODE = 1  # gosd's own code for a request nobody answered in time
KILLED_CODE = 2  # the job that was waiting was cancelled ("Be killed", as gosd's message)
_sequence = itertools.count(1)


class RpcFailed(Exception):
    """A node answered a JSON-RPC error, or did not answer in time."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{message} (code {code})")
        self.code = code
        self.message = message
        self.data = data


def new_id(client: str) -> str:
    """`<client>-<13-digit ms>-<seq>`, as gosd's ids ("gosd.0-1616…-7")."""
    return f"{client}-{int(time.time() * 1000)}-{next(_sequence)}"


def request(rpc_id: str | None, method: str, params: Any = None) -> bytes:
    """A request (a notification when `rpc_id` is None)."""
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        body["params"] = params
    if rpc_id is not None:
        body["id"] = rpc_id
    return json.dumps(body, separators=(",", ":")).encode()


def result(rpc_id: Any, value: Any) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "result": value, "id": rpc_id}, separators=(",", ":")).encode()


def error(rpc_id: Any, code: int, message: str, data: Any = None) -> bytes:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return json.dumps({"jsonrpc": "2.0", "error": err, "id": rpc_id}, separators=(",", ":")).encode()
