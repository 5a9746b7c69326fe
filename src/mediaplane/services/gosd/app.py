"""The API of one gosd instance: gosd's routes under `/gosd`, its error body, and a trailing slash optional
everywhere (gosd's router told `/plans/` from `/plans`; clients use both)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from mediaplane.core.instance.access import new_service_app
from mediaplane.core.instance.slash import OptionalSlash
from mediaplane.services.gosd.errors import GosdError, handle_gosd_error, respond
from mediaplane.services.gosd.routes import agent, auth, blobs, jobs, live, nodes, plans

VERSION = "2"
DESCRIPTION = (
    "A device fleet compatible with gosd's API v2: get a token (POST /gosd/oauth/token), list nodes and their "
    "points, upload blobs, keep plans and run them as jobs that drive the nodes (docs/gosd.md)."
)


def build_gosd_app() -> ASGIApp:
    app: FastAPI = new_service_app(title="gosd API", version=VERSION, description=DESCRIPTION, respond=respond)
    app.router.redirect_slashes = False
    app.add_exception_handler(GosdError, handle_gosd_error)
    for module in (auth, nodes, blobs, plans, jobs, agent, live):
        app.include_router(module.router)
    # As gosd: any origin, its Authorization header; downloads show their name and checksum headers.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Content-Disposition", "Digest", "ETag", "Retry-After", "X-Checksum-Sha256"],
    )
    return OptionalSlash(app)
