"""encore's dashboard through the app (httpx, ASGI), signed in with a tenant user's password as a browser is.
Jobs run on real worker threads with real FFmpeg (the fast test profile), on SQLite: the job rows are the
service's own, which its API tests cover on both backends."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Scope

from mediaplane.app import create_app
from mediaplane.core.runtime import Runtime
from tests.console.conftest import ORIGIN, PASSWORD, Console
from tests.fixtures.factories import Factory
from tests.services.encore.conftest import Encore

pytestmark = pytest.mark.timeout(120)
BOARD = "/console/encore/test"
JOB_ID = re.compile(r"/console/encore/test/jobs/([0-9a-f-]{36})")


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    return sqlite_database_url


@pytest.fixture
async def encore(factory: Factory, client: httpx.AsyncClient, runtime: Runtime, media_server: str) -> Encore:
    """Tenant acme (its admin has a password) with the encore instance `test`; no workers yet."""
    tenant = await factory.create_tenant("acme", password=PASSWORD)
    sat = await factory.sat(tenant.pat, "encore")
    instance = await factory.create_instance(
        sat, "encore", "test", profilesUrl=f"{media_server}/media/profiles.yml", concurrency="1"
    )
    return Encore(client, runtime, sat, "test", instance)


@pytest.fixture
async def console(client: httpx.AsyncClient, encore: Encore) -> Console:
    signed = Console(client)
    await signed.signed_in()
    return signed


async def first_event(app: ASGIApp, path: str, session_cookie: str) -> dict[str, Any]:
    """The first `data:` event of a stream, read as a browser's EventSource does, which then goes away: the
    stream must end by itself (httpx's ASGI transport would wait for the end of the body)."""
    chunks: list[bytes] = []
    started: list[Message] = []
    gone = asyncio.Event()

    async def receive() -> Message:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.append(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if b"data:" in b"".join(chunks):
                gone.set()

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"cookie", f"mediaplane_console={session_cookie}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    assert started[0]["status"] == 200
    assert dict(started[0]["headers"])[b"content-type"].startswith(b"text/event-stream")
    text = b"".join(chunks).decode()
    data = next(line for line in text.splitlines() if line.startswith("data: "))
    event: dict[str, Any] = json.loads(data.removeprefix("data: "))
    return event


def enqueue_form(media_server: str, **changes: str) -> dict[str, str]:
    return {
        "input_uri": f"{media_server}/media/clip.mp4",
        "input_type": "AudioVideo",
        "profile": "fast",
        "output_folder": "",
        "base_name": "clip",
        "priority": "0",
        **changes,
    }


async def test_enqueue_watch_play_and_cancel(
    console: Console, encore: Encore, runtime: Runtime, media_server: str
) -> None:
    # The empty board says what to do; the instance's page links to it.
    instance_page = await console.client.get("/console/instances/encore/test")
    assert f'href="{BOARD}/"' in instance_page.text
    empty = await console.client.get(f"{BOARD}/")
    assert empty.status_code == 200
    assert "No jobs yet" in empty.text and f'href="{BOARD}/new"' in empty.text
    form = await console.client.get(f"{BOARD}/new")
    assert '<option value="fast">' in form.text  # the instance's profiles, suggested

    # Bad values are told next to their fields, the others kept; nothing is enqueued.
    bad = await console.post(
        f"{BOARD}/jobs",
        enqueue_form(media_server, input_uri="/usercontent/nothing.mp4", priority="101", profile="fastest"),
    )
    assert bad.status_code == 400
    assert 'id="input_uri-error"' in bad.text and "no file /usercontent/nothing.mp4" in bad.text
    assert 'id="priority-error"' in bad.text
    assert "no &#39;fastest&#39;: one of broken, fast, medium, slow" in bad.text
    assert 'value="clip"' in bad.text and 'value="fastest"' in bad.text
    assert (await encore.request("GET", "/encoreJobs")).json()["page"]["totalElements"] == 0

    # Queued while no worker runs: cancelled after a confirmation page.
    queued = await console.post(f"{BOARD}/jobs", enqueue_form(media_server, base_name="never"))
    assert queued.status_code == 303
    found = JOB_ID.search(queued.headers["location"])
    assert found
    never = found.group(1)
    confirm = await console.client.get(f"{BOARD}/jobs/{never}/cancel")
    assert "Cancel the job" in confirm.text
    cancelled = await console.post(f"{BOARD}/jobs/{never}/cancel")
    assert cancelled.status_code == 303
    assert (await encore.job(never))["status"] == "CANCELLED"

    # A job that runs: its page lists the outputs (size, resolution, bitrate) and plays them.
    runtime.jobs.start_workers(1)
    created = await console.post(
        f"{BOARD}/jobs", enqueue_form(media_server, output_folder="/usercontent/web", packages="dash")
    )
    found = JOB_ID.search(created.headers["location"])
    assert found
    job_id = found.group(1)
    page = await console.client.get(created.headers["location"])
    assert "The job is queued" in page.text
    done = await encore.wait(job_id)
    assert done["status"] == "SUCCESSFUL", done.get("message")
    page = await console.client.get(f"{BOARD}/jobs/{job_id}")
    assert "clip_x264_400.mp4" in page.text and "160x120" in page.text and "kbit/s" in page.text
    assert "320x240" in page.text  # the analysed input
    video = f"{BOARD}/files/web/clip_x264_400.mp4"
    assert f'data-play="{video}" data-kind="mp4"' in page.text
    part = await console.client.get(video, headers={"range": "bytes=0-99"})
    assert part.status_code == 206 and part.headers["content-type"] == "video/mp4" and len(part.content) == 100
    # The DASH package plays with dash.js; its segments resolve beside the manifest, with their types.
    assert "/_static/vendor/dash.mediaplayer.min.js" in page.text and "hls.light.min.js" not in page.text
    found = re.search(rf'<video id="player" [^>]*data-kind="dash" data-src="({BOARD}/files/[^"]+\.mpd)"', page.text)
    assert found, "no DASH source"
    manifest = await console.client.get(found.group(1))
    assert manifest.status_code == 200 and manifest.headers["content-type"] == "application/dash+xml"
    init = re.search(r'initialization="([^"$]+)\$RepresentationID\$\.m4s"', manifest.text)
    assert init and "<BaseURL" not in manifest.text
    segment = await console.client.get(f"{found.group(1).rsplit('/', 1)[0]}/{init.group(1)}0.m4s")
    assert segment.status_code == 200 and segment.headers["content-type"] == "video/iso.segment"
    assert "no DASH player" not in page.text
    listing = await console.client.get(f"{BOARD}/?status=SUCCESSFUL")
    assert job_id in listing.text and never not in listing.text
    assert 'value="100"' in listing.text

    # The live updates: server-sent events with each job's state, until the client goes.
    first = await first_event(create_app(runtime=runtime), f"{BOARD}/events", console.session_cookie or "")
    assert first["total"] == 2
    assert {j["id"]: (j["status"], j["progress"], j["done"]) for j in first["jobs"]}[job_id] == (
        "SUCCESSFUL",
        100,
        True,
    )
    single = await first_event(
        create_app(runtime=runtime), f"{BOARD}/jobs/{job_id}/events", console.session_cookie or ""
    )
    assert [j["id"] for j in single["jobs"]] == [job_id]

    # An ended job has nothing to cancel.
    ended = await console.post(f"{BOARD}/jobs/{job_id}/cancel")
    assert ended.status_code == 409


async def test_refusals(
    console: Console, encore: Encore, factory: Factory, runtime: Runtime, media_server: str
) -> None:
    # No CSRF token, or another site's form: refused, nothing enqueued.
    body = enqueue_form(media_server)
    no_token = await console.client.post(f"{BOARD}/jobs", data=body, headers={"origin": ORIGIN})
    assert no_token.status_code == 403
    with_token = await console.post(f"{BOARD}/jobs", body)
    assert with_token.status_code == 303  # the same form with its token is fine...
    cross = await console.client.post(
        f"{BOARD}/jobs", data={"csrf_token": await console.csrf(), **body}, headers={"origin": "http://evil.example"}
    )
    assert cross.status_code == 403  # ...but not from another origin
    upload = await console.client.post(
        f"{BOARD}/files", files={"file": ("a.mp4", b"x", "video/mp4")}, headers={"origin": ORIGIN}
    )
    assert upload.status_code == 403  # an upload without its token is refused too

    # Unknown jobs and files, paths that climb out of the storage, odd filters: 4xx pages, never a 500.
    for path in (
        f"{BOARD}/jobs/not-a-uuid",
        f"{BOARD}/jobs/00000000-0000-0000-0000-000000000000",
        f"{BOARD}/files/nothing.mp4",
        f"{BOARD}/assets/secret.py",
        "/console/encore/nosuch/",
    ):
        assert (await console.client.get(path)).status_code == 404, path
    assert (await console.client.get(f"{BOARD}/files/..%2F..%2Fsecret")).status_code in (400, 404)
    assert (await console.client.get(f"{BOARD}/?status=BOGUS&page=x")).status_code == 200

    # Another tenant's user never sees acme's instance.
    await factory.create_tenant("globex", password=PASSWORD)
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        anonymous = await browser.get(f"{BOARD}/")  # signed out: the sign-in page
        assert anonymous.status_code == 303 and "/console/sign-in" in anonymous.headers["location"]
        other = Console(browser)
        await other.signed_in("globex")
        assert (await other.client.get(f"{BOARD}/")).status_code == 404
        assert (await other.client.get(f"{BOARD}/events")).status_code == 404
        assert (await other.client.get(f"{BOARD}/files/")).status_code == 404
        assert (await other.client.get(f"{BOARD}/profiles")).status_code == 404


async def test_profiles_page(console: Console, encore: Encore, factory: Factory, media_server: str) -> None:
    # Linked from the dashboard's nav and from the enqueue form.
    board = await console.client.get(f"{BOARD}/")
    assert f'href="{BOARD}/profiles"' in board.text
    form = await console.client.get(f"{BOARD}/new")
    assert f'href="{BOARD}/profiles"' in form.text

    page = await console.client.get(f"{BOARD}/profiles")
    assert page.status_code == 200
    assert f"{media_server}/media/profiles.yml" in page.text
    for name in ("fast", "slow", "medium", "broken"):
        assert f'id="profile-{name}"' in page.text
    fast = page.text[page.text.index('id="profile-fast"') : page.text.index('id="profile-slow"')]
    assert "quick test ladder" in fast
    rendition = re.search(r"_x264_400\.mp4</code></td>(.*?)</tr>", fast, re.S)
    assert rendition, fast
    cells = re.findall(r'data-label="(\w+)">([^<]*)<', rendition.group(1))
    assert dict(cells) == {
        "Encode": "X264Encode",
        "Codec": "libx264",
        "Size": "height 120",
        "Bitrate": "400k",
        "Container": "mp4",
        "Notes": "audio aac 64k stereo",
    }
    assert "_STEREO.mp4" in fast and "_thumb01.jpg" in fast and "height 90" in fast

    # A profile's button fills the enqueue form in with it.
    assert f'href="{BOARD}/new?profile=slow"' in page.text
    chosen = await console.client.get(f"{BOARD}/new?profile=slow")
    assert 'id="profile" name="profile" value="slow"' in chosen.text

    # An index that cannot be read is told on the page, never a 500.
    await factory.create_instance(encore.sat, "encore", "lost", profilesUrl=f"{media_server}/media/nothing.yml")
    lost = await console.client.get("/console/encore/lost/profiles")
    assert lost.status_code == 200
    assert "The profile index cannot be read" in lost.text and "HTTP 404" in lost.text


async def test_files_upload_download_and_enqueue(console: Console, encore: Encore, media_dir: Path) -> None:
    empty = await console.client.get(f"{BOARD}/files/")
    assert empty.status_code == 200 and "No files yet" in empty.text
    assert f'href="{BOARD}/files/"' in (await console.client.get(f"{BOARD}/new")).text

    # Upload an input, as `enqueue -i FILE` does: it lands in /usercontent/uploads/ and is listed there.
    data = (media_dir / "clip.mp4").read_bytes()

    async def upload(folder: str, content: bytes, name: str = "clip.mp4") -> httpx.Response:
        form = {"csrf_token": await console.csrf(), "folder": folder}
        files = {"file": (name, content, "video/mp4")}
        return await console.client.post(f"{BOARD}/files", data=form, files=files, headers={"origin": ORIGIN})

    uploaded = await upload("/usercontent/uploads/", data)
    assert uploaded.status_code == 303 and uploaded.headers["location"] == f"{BOARD}/files/uploads/?uploaded=clip.mp4"
    folder = await console.client.get(uploaded.headers["location"])
    assert "Uploaded /usercontent/uploads/clip.mp4" in folder.text
    assert (await encore.request("GET", "/usercontent/uploads/clip.mp4")).content == data
    root = await console.client.get(f"{BOARD}/files/")
    assert f'href="{BOARD}/files/uploads/"' in root.text

    # Downloaded whole (as a file) or in part; the API lists the same file.
    whole = await console.client.get(f"{BOARD}/files/uploads/clip.mp4?download=1")
    assert whole.content == data and whole.headers["content-disposition"].startswith('attachment; filename="clip.mp4"')
    part = await console.client.get(f"{BOARD}/files/uploads/clip.mp4", headers={"range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    listed = (await encore.request("GET", "/usercontent/uploads/")).json()["files"]
    assert [f["name"] for f in listed] == ["/usercontent/uploads/clip.mp4"]

    # A file of the same name is never replaced; a folder outside /usercontent/ is refused by its field.
    again = await upload("/usercontent/uploads/", b"other bytes")
    assert again.status_code == 400 and "There is already a file /usercontent/uploads/clip.mp4" in again.text
    outside = await upload("/etc/", data)
    assert outside.status_code == 400 and 'id="folder-error"' in outside.text
    climbing = await upload("/usercontent/../../", data)
    assert climbing.status_code == 400 and 'id="folder-error"' in climbing.text
    assert (await encore.request("GET", "/usercontent/uploads/clip.mp4")).content == data
    # A page or a script is only ever downloaded: it must not run on the console's origin.
    assert (await upload("/usercontent/", b"<script src=x.js></script>", "page.html")).status_code == 303
    page = await console.client.get(f"{BOARD}/files/page.html")
    assert page.headers["content-type"] == "application/octet-stream"
    assert page.headers["content-disposition"].startswith("attachment")

    # "Enqueue a job with it" fills the form in; the job reads the uploaded file.
    link = f"{BOARD}/new?input_uri=%2Fusercontent%2Fuploads%2Fclip.mp4&amp;input_type=AudioVideo"
    assert link in folder.text
    form = await console.client.get(link.replace("&amp;", "&"))
    assert 'value="/usercontent/uploads/clip.mp4"' in form.text
    created = await console.post(
        f"{BOARD}/jobs", enqueue_form("", input_uri="/usercontent/uploads/clip.mp4", base_name="up")
    )
    assert created.status_code == 303
    found = JOB_ID.search(created.headers["location"])
    assert found
    job = await encore.job(found.group(1))
    assert job["inputs"][0]["uri"] == "/usercontent/uploads/clip.mp4"
    # Folders that climb out of the storage are refused.
    assert (await console.client.get(f"{BOARD}/files/..%2F..%2F/")).status_code in (400, 404)


async def test_enqueue_more_options_and_job_details(console: Console, encore: Encore, media_server: str) -> None:
    # The CLI's rarer options: refused ones are told by their fields, in the opened "More options".
    more = {"external_id": "ext-7", "params": "keyframes=expr:1\n\nlang = sv", "seek_to": "0.5", "duration": "2"}
    bad = await console.post(
        f"{BOARD}/jobs",
        enqueue_form(
            media_server, **{**more, "params": "oops", "seek_to": "-1"}, callback="ftp://x", segment_length="0"
        ),
    )
    assert bad.status_code == 400 and '<details class="more" open>' in bad.text
    for name in ("params", "callback", "segment_length", "seek_to"):
        assert f'id="{name}-error"' in bad.text, name
    assert "Line 1 is not KEY=VALUE" in bad.text and 'value="ext-7"' in bad.text
    assert (await encore.request("GET", "/encoreJobs")).json()["page"]["totalElements"] == 0

    callback = f"{media_server}/callback"
    created = await console.post(
        f"{BOARD}/jobs", enqueue_form(media_server, **more, callback=callback, segment_length="1.5")
    )
    assert created.status_code == 303
    found = JOB_ID.search(created.headers["location"])
    assert found
    job = await encore.job(found.group(1))
    assert job["externalId"] == "ext-7" and job["progressCallbackUri"] == callback
    assert job["profileParams"] == {"keyframes": "expr:1", "lang": "sv"}
    assert (job["seekTo"], job["duration"], job["segmentLength"]) == (0.5, 2.0, 1.5)

    # The job's page shows them, as `mediaplane encore get` does, and links the whole job as JSON.
    page = await console.client.get(f"{BOARD}/jobs/{job['id']}")
    for text in ("ext-7", "<code>keyframes=expr:1</code>", "0.5 s", "1.5 s", callback):
        assert text in page.text, text
    whole = await console.client.get(f"{BOARD}/jobs/{job['id']}/json")
    assert whole.json()["profileParams"] == job["profileParams"] and whole.json()["id"] == job["id"]
