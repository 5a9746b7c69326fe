"""`GET /`: the list of routes, as rig's home handler gives it."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from mediaplane.services.rig.routes import ok

router = APIRouter(tags=["home"])

ROUTES = [
    "GET / - Get list of api",
    "POST /accounts/ - Create new user account",
    "POST /accounts/password - Update user password",
    "POST /accounts/auth/local - Authenticate using username and password",
    "POST /streams/ - Create new stream for current user",
    "GET /streams/ - Get all streams configured for current user",
    "GET /streams/{streamID} - Get details of specific stream",
    "PATCH /streams/{streamID} - Activate or deactivate a stream",
    "DELETE /streams/{streamID} - Delete a stream",
    "POST /streams/{streamID}/destination - Add a destination for a stream",
    "GET /streams/{streamID}/destination - Get destinations of a stream",
    "PATCH /streams/{streamID}/destination/{destinationID} - Update a destination of a stream",
    "DELETE /streams/{streamID}/destination/{destinationID} - Remove a destination from a stream",
    "POST /streams/{streamID}/changeKey - Update streaming key for an existing stream",
    "GET /agents/config/{streamKey} - Get destinations for a given stream key",
]


@router.get("/", summary="The routes of this API")
async def home() -> JSONResponse:
    return ok("xplex-rig HTTP API v1", ROUTES)
