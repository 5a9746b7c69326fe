"""Every example of specs/rig.md, sent verbatim; answers compared with the spec's examples key by key, type by
type (ids and keys differ per run; values that the request decides must be equal)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from tests.services.rig.conftest import Rig, error_of

KEY = re.compile(r"[A-Za-z0-9_-]{22}")
# The extra fields the platform adds (docs/rig.md); everything else must be the spec's.
DESTINATION_EXTRAS = frozenset({"status", "lastError", "bitrateKbps", "reconnects", "statusChangedAt"})
DETAIL_EXTRAS = frozenset({"ingestUrl", "liveSince", "previewUrl"})

CREATE_ACCOUNT = """{
    "username": "foobar",
    "password": "Hop0nTh4tM4ng0Tree",
    "email": "foobar@fancycompany.net"
}"""
CREATE_ACCOUNT_ANSWER = """{
    "message": "User created",
    "payload": {
        "userID": "7217b0b6-d735-4ba9-bda8-419b1b397ede",
        "username": "foobar",
        "email": "foobar@fancycompany.net"
    }
}"""
AUTHENTICATE = """{
    "username": "foobar",
    "password": "Hop0nTh4tM4ng0Tree"
}"""
AUTHENTICATE_ANSWER = """{
    "message": "Authentication successful",
    "payload": {
        "username": "foobar",
        "token": "xxxxxxxx.xxxxxxxx.xxxxxxx"
    }
}"""
CHANGE_PASSWORD = """{
    "oldPassword": "Hop0nTh4tM4ng0Tree",
    "newPassword": "Ar3YouComingToTheTree"
}"""
CHANGE_PASSWORD_ANSWER = """{
    "message": "User password changed",
    "payload": {
        "username": "foobar"
    }
}"""
NEW_STREAM_ANSWER = """{
    "message": "New stream created",
    "payload": {
        "id": "30960952-cf23-46f8-bf91-9f738c27be2e",
        "streamKey": "_mYrirpvU-OkH5LoVDci4g",
        "destinations": null,
        "provisionStatus": null,
        "isStreaming": false,
        "isActive": true
    }
}"""
ADD_DESTINATION = """{
    "service": "YouTube",
    "streamKey": "simaimsimim_siimimimiasdsr"
}"""
ADD_DESTINATION_ANSWER = """{
    "message": "Stream destination added",
    "payload": {
        "id": 1,
        "service": "YouTube",
        "streamKey": "simaimsimim_siimimimiasdsr",
        "rtmpUrl": "rtmp://a.rtmp.youtube.com/live2/simaimsimim_siimimimiasdsr",
        "isActive": true
    }
}"""
CHANGE_KEY_ANSWER = """{
    "message": "New stream key",
    "payload": {
        "key": "_I55odu7WyOBlqkciXADiA",
        "streamID": "30960952-cf23-46f8-bf91-9f738c27be2e"
    }
}"""
DETAIL_ANSWER = """{
    "message": "Stream detail",
    "payload": {
        "id": "30960952-cf23-46f8-bf91-9f738c27be2e",
        "streamKey": "_I55odu7WyOBlqkciXADiA",
        "destinations": [
            {
                "id": 1,
                "service": "YouTube",
                "streamKey": "simaimsimim_siimimimiasdsr",
                "rtmpUrl": "rtmp://a.rtmp.youtube.com/live2/simaimsimim_siimimimiasdsr",
                "isActive": true
            }
        ],
        "provisionStatus": null,
        "isStreaming": false,
        "isActive": true
    }
}"""
LIST_ANSWER = """{
    "message": "Stream list for user",
    "payload": [
        {
            "id": "30960952-cf23-46f8-bf91-9f738c27be2e",
            "streamKey": "_I55odu7WyOBlqkciXADiA",
            "destinations": null,
            "provisionStatus": null,
            "isStreaming": false,
            "isActive": true
        }
    ]
}"""
CONFIG_ANSWER = """{
    "message": "Stream Config",
    "payload": [
        {
            "id": 1,
            "service": "YouTube",
            "streamKey": "simaimsimim_siimimimiasdsr",
            "rtmpUrl": "rtmp://a.rtmp.youtube.com/live2/simaimsimim_siimimimiasdsr",
            "isActive": true
        },
        {
            "id": 2,
            "service": "Twitch",
            "streamKey": "fxxbxx_live_moofooboo",
            "rtmpUrl": "rtmp://live.twitch.tv/app/fxxbxx_live_moofooboo",
            "isActive": true
        }
    ]
}"""
ERROR_ANSWER = """{
    "message": "Invalid credentials",
    "errorCode": 1003,
    "details": null
}"""


def same_shape(got: Any, spec: Any, extras: frozenset[str] = frozenset(), path: str = "") -> None:
    """`got` has the spec's keys (plus `extras`) with values of the spec's JSON types."""
    if isinstance(spec, dict):
        assert isinstance(got, dict), f"{path}: {got!r} is not an object"
        assert set(spec) <= set(got) <= set(spec) | extras, f"{path}: keys {sorted(got)} vs {sorted(spec)}"
        for key, value in spec.items():
            same_shape(got[key], value, extras, f"{path}.{key}")
    elif isinstance(spec, list):
        assert isinstance(got, list) and len(got) == len(spec), f"{path}: {got!r}"
        for i, (g, s) in enumerate(zip(got, spec, strict=True)):
            same_shape(g, s, extras, f"{path}[{i}]")
    elif spec is None:
        assert got is None, f"{path}: {got!r} is not null"
    else:
        assert type(got) is type(spec), f"{path}: {got!r} is not a {type(spec).__name__}"


async def send(rig: Rig, method: str, path: str, body: str | None = None, token: str | None = None) -> dict[str, Any]:
    r = await rig.request(method, path, token=token, content=body.encode() if body is not None else None)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    answer: dict[str, Any] = r.json()
    return answer


async def test_the_accounts_examples(rig: Rig) -> None:
    created = await send(rig, "POST", "/accounts/", CREATE_ACCOUNT)
    same_shape(created, json.loads(CREATE_ACCOUNT_ANSWER))
    expected = json.loads(CREATE_ACCOUNT_ANSWER)
    assert created["message"] == expected["message"]
    assert uuid.UUID(created["payload"]["userID"]).version == 4
    assert {k: created["payload"][k] for k in ("username", "email")} == {
        "username": "foobar",
        "email": "foobar@fancycompany.net",
    }

    auth = await send(rig, "POST", "/accounts/auth/local", AUTHENTICATE)
    same_shape(auth, json.loads(AUTHENTICATE_ANSWER))
    assert auth["message"] == "Authentication successful" and auth["payload"]["username"] == "foobar"
    token = auth["payload"]["token"]
    assert token.count(".") == 2

    changed = await send(rig, "POST", "/accounts/password", CHANGE_PASSWORD, token=token)
    assert changed == json.loads(CHANGE_PASSWORD_ANSWER)

    r = await rig.request("POST", "/accounts/auth/local", content=AUTHENTICATE.encode())
    assert error_of(r) == (401, 1003)
    assert r.json() == json.loads(ERROR_ANSWER)
    relogin = {"username": "foobar", "password": "Ar3YouComingToTheTree"}
    assert (await rig.ok("POST", "/accounts/auth/local", json=relogin))["username"] == "foobar"


async def test_the_streams_and_agents_examples(rig: Rig) -> None:
    token = await rig.signup()
    created = await send(rig, "POST", "/streams/", token=token)
    same_shape(created, json.loads(NEW_STREAM_ANSWER))
    assert created["message"] == "New stream created"
    stream = created["payload"]
    assert uuid.UUID(stream["id"]).version == 4 and KEY.fullmatch(stream["streamKey"])
    assert (stream["destinations"], stream["provisionStatus"], stream["isStreaming"], stream["isActive"]) == (
        None,
        None,
        False,
        True,
    )
    stream_id = stream["id"]

    added = await send(rig, "POST", f"/streams/{stream_id}/destination", ADD_DESTINATION, token=token)
    spec_added = json.loads(ADD_DESTINATION_ANSWER)
    same_shape(added, spec_added, DESTINATION_EXTRAS)
    assert added["message"] == spec_added["message"]
    assert {k: added["payload"][k] for k in spec_added["payload"] if k != "id"} == {
        k: v for k, v in spec_added["payload"].items() if k != "id"
    }

    new_key = await send(rig, "POST", f"/streams/{stream_id}/changeKey", token=token)
    same_shape(new_key, json.loads(CHANGE_KEY_ANSWER))
    assert new_key["message"] == "New stream key" and new_key["payload"]["streamID"] == stream_id
    assert KEY.fullmatch(new_key["payload"]["key"]) and new_key["payload"]["key"] != stream["streamKey"]

    detail = await send(rig, "GET", f"/streams/{stream_id}", token=token)
    same_shape(detail, json.loads(DETAIL_ANSWER), DESTINATION_EXTRAS | DETAIL_EXTRAS)
    assert detail["message"] == "Stream detail"
    assert detail["payload"]["streamKey"] == new_key["payload"]["key"]
    assert detail["payload"]["destinations"] == [added["payload"]]

    listed = await send(rig, "GET", "/streams/", token=token)
    same_shape(listed, json.loads(LIST_ANSWER))
    assert listed["message"] == "Stream list for user"
    assert listed["payload"][0]["id"] == stream_id

    twitch = {"service": "Twitch", "streamKey": "fxxbxx_live_moofooboo"}
    await rig.ok("POST", f"/streams/{stream_id}/destination", token=token, json=twitch)
    config = await send(rig, "GET", f"/agents/config/{new_key['payload']['key']}")
    spec_config = json.loads(CONFIG_ANSWER)
    same_shape(config, spec_config, DESTINATION_EXTRAS)
    assert config["message"] == "Stream Config"
    trimmed = [{k: d[k] for k in ("service", "streamKey", "rtmpUrl", "isActive")} for d in config["payload"]]
    assert trimmed == [
        {k: d[k] for k in ("service", "streamKey", "rtmpUrl", "isActive")} for d in spec_config["payload"]
    ]
    assert config["payload"][1]["id"] > config["payload"][0]["id"]
