"""The API of one rig instance: rig's routes, its error envelope, and a trailing slash optional everywhere."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from mediaplane.core.instance.access import new_service_app
from mediaplane.core.instance.slash import OptionalSlash
from mediaplane.services.rig.errors import RigError, handle_rig_error, respond
from mediaplane.services.rig.routes import accounts, agents, destinations, home, preview, streams

VERSION = "1"
DESCRIPTION = (
    "Multistreaming compatible with xplex rig's HTTP API v1: create an account, log in, create a stream, add "
    "destinations (YouTube, Twitch, any RTMP/RTMPS URL), then publish to the stream's ingestUrl."
)


def build_rig_app() -> ASGIApp:
    app: FastAPI = new_service_app(
        title="xplex rig HTTP API", version=VERSION, description=DESCRIPTION, respond=respond
    )
    app.router.redirect_slashes = False
    app.add_exception_handler(RigError, handle_rig_error)
    for module in (home, accounts, streams, destinations, agents, preview):
        app.include_router(module.router)
    # As rig: browser clients from any origin, with rig's Bearer header (no cookies are involved).
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
    )
    return OptionalSlash(app)
