"""Everything beside the jobs: root links, the queue, profiles and health."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Body, Depends, Request

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.instance.access import CurrentInstance, current_instance
from mediaplane.kit.errors import BadRequest, NotFound
from mediaplane.services.encore.hal import base, hal
from mediaplane.services.encore.options import EncoreOptions
from mediaplane.services.encore.profiles.loader import ProfileError, UnknownProfileError, check_all, load_profile
from mediaplane.services.encore.repository import EncoreJobRepository

router = APIRouter(dependencies=[Depends(current_instance)])
open_router = APIRouter()


def queue_number(priority: int, concurrency: int) -> int:
    """Encore's queue of a priority: c=2 puts 50-100 in queue 0 and 0-49 in queue 1."""
    return min(max((concurrency - 1) - math.floor(priority / 100 * concurrency), 0), concurrency - 1)


@router.get("/", summary="Links to the resources", tags=["info"])
async def root(request: Request) -> Any:
    url = base(request)
    return hal(
        {
            "_links": {
                "encoreJobs": {"href": f"{url}encoreJobs{{?page,size,sort}}", "templated": True},
                "profile": {"href": f"{url}profile"},
            }
        }
    )


@router.get("/queue", summary="Queued jobs, highest priority first", tags=["queue"])
async def queue(instance: CurrentInstance, session: SessionDep) -> list[dict[str, Any]]:
    rows = await EncoreJobRepository(session).queued(instance.id)
    return [{"id": row.id, "priority": row.priority, "created": row.data.get("createdDate")} for row in rows]


@router.get("/queueCount", summary="Queued jobs per Encore priority queue", tags=["queue"])
async def queue_count(instance: CurrentInstance, session: SessionDep) -> dict[str, int]:
    concurrency = EncoreOptions.of(instance.options).concurrency
    counts = {f"encore:queue:{n}": 0 for n in range(concurrency)}
    rows = await EncoreJobRepository(session).queued(instance.id)
    for row in rows:
        counts[f"encore:queue:{queue_number(row.priority, concurrency)}"] += 1
    return {**counts, "total": len(rows)}


@router.get("/profiles", summary="The profiles of this instance's index, each checked", tags=["profiles"])
async def profiles(instance: CurrentInstance) -> list[dict[str, Any]]:
    try:
        checked = await check_all(EncoreOptions.of(instance.options).profiles_url)
    except ProfileError as exc:
        raise BadRequest(str(exc)) from None
    listed = []
    for name, location, result in checked:
        entry: dict[str, Any] = {"name": name, "location": location}
        if isinstance(result, ProfileError):
            entry.update(valid=False, error=str(result))
        else:
            entry.update(valid=True, description=result.description, encodes=len(result.encodes))
        listed.append(entry)
    return listed


@router.post(
    "/profiles/{name}", summary="Render and validate a profile with the given profileParams", tags=["profiles"]
)
async def check_profile(
    name: str, instance: CurrentInstance, profile_params: dict[str, Any] = Body(default_factory=dict, embed=False)
) -> Any:
    url = EncoreOptions.of(instance.options).profiles_url
    try:
        profile = await load_profile(url, name, {"profileParams": profile_params})
    except UnknownProfileError as exc:
        raise NotFound(str(exc)) from None
    except ProfileError as exc:
        raise BadRequest(str(exc)) from None
    return profile.model_dump(mode="json", by_alias=True)


@router.get("/profiles/{name}", summary="A profile rendered with default profileParams", tags=["profiles"])
async def get_profile(name: str, instance: CurrentInstance) -> Any:
    return await check_profile(name, instance, {})


@open_router.get("/actuator/health", summary="Health", tags=["info"])
async def health(runtime: RuntimeDep) -> dict[str, str]:
    await runtime.db.ping()
    return {"status": "UP"}
