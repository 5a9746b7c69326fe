"""The API of one eyeson instance: eyeson's routes at the instance root (clients set their API base URL to the
instance URL), its error body, the realtime websocket and the browser GUI."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from mediaplane.core.instance.access import new_service_app
from mediaplane.core.instance.slash import OptionalSlash
from mediaplane.services.eyeson.errors import EyesonError, handle_eyeson_error, respond
from mediaplane.services.eyeson.routes import (
    broadcasts,
    forward,
    gui,
    layers,
    layout,
    media,
    moderation,
    permalinks,
    playbacks,
    realtime,
    recordings,
    rooms,
    snapshots,
    webhooks,
)

VERSION = "1"
DESCRIPTION = (
    "Video rooms compatible with eyeson's REST API: POST /rooms with the team's API key, join with the GUI link "
    "or over WebRTC, follow the meeting on the realtime websocket and through signed webhooks (docs/eyeson.md)."
)


def build_eyeson_app() -> ASGIApp:
    app: FastAPI = new_service_app(title="eyeson API", version=VERSION, description=DESCRIPTION, respond=respond)
    app.router.redirect_slashes = False
    app.add_exception_handler(EyesonError, handle_eyeson_error)
    for module in (
        rooms,
        layout,
        media,
        webhooks,
        permalinks,
        realtime,
        recordings,
        snapshots,
        broadcasts,
        forward,
        layers,
        playbacks,
        moderation,
        gui,
    ):
        app.include_router(module.router)
    # Browser apps call the API from their own origin with the raw key in Authorization.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
    )
    return OptionalSlash(app)
