"""Jobs run end to end: real worker threads, real FFmpeg, inputs over HTTP, outputs checked by probing."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import boto3
import httpx
import pytest
from sqlalchemy import select

from mediaplane.kit.jobs import JobRecord
from mediaplane.kit.security import verify_webhook
from mediaplane.services.encore.encode.analyze import analyze_file
from mediaplane.services.encore.schemas.media import VideoFile
from tests.fixtures.s3 import S3_ACCESS_KEY_ID, S3_REGION, S3_SECRET_ACCESS_KEY
from tests.services.encore.conftest import Encore, Received, make_encore

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
async def fast(factory: Any, client: httpx.AsyncClient, runtime: Any, media_server: str) -> Encore:
    runtime.jobs.start_workers(2)
    return await make_encore(
        factory, client, runtime, name="fast", profilesUrl=f"{media_server}/media/profiles.yml", concurrency="2"
    )


def job_body(media_server: str, **changes: Any) -> dict[str, Any]:
    return {
        "profile": "fast",
        "outputFolder": "/usercontent/out",
        "baseName": "clip_",
        "inputs": [{"uri": f"{media_server}/media/clip.mp4", "type": "AudioVideo"}],
        **changes,
    }


async def download(encore: Encore, path: str, **headers: str) -> httpx.Response:
    r = await encore.request("GET", path, headers=headers)
    assert r.status_code in (200, 206), (path, r.status_code, r.text[:200])
    return r


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_spec_example_verbatim_with_the_shipped_program_profile(encore: Encore, media_server: str) -> None:
    body = {
        "profile": "program",
        "outputFolder": "/usercontent/demo",
        "baseName": "demo_",
        "inputs": [{"uri": f"{media_server}/media/clip.mp4", "type": "AudioVideo"}],
        "duration": 5,
        "priority": 0,
    }
    created = await encore.enqueue(body)
    assert created["status"] == "QUEUED"
    job = await encore.wait(created["id"], within=280)
    assert job["status"] == "SUCCESSFUL", job["message"]
    assert job["progress"] == 100 and job["startedDate"] and job["completedDate"] and job["speed"] > 0
    assert job["inputs"][0]["analyzed"]["videoStreams"][0]["width"] == 320
    files = {o["file"]: o for o in job["output"]}
    heights = {"3100": 1080, "2069": 720, "1312": 540, "806": 360, "324": 234}
    for rung, height in heights.items():
        video = files[f"/usercontent/demo/demo__x264_{rung}.mp4"]
        assert video["type"] == "VideoFile"
        assert video["videoStreams"][0]["height"] == height
        assert video["videoStreams"][0]["codec"] == "h264"
        assert video["audioStreams"][0]["codec"] == "aac" and video["audioStreams"][0]["channels"] == 2
        assert video["duration"] == pytest.approx(3.0, abs=0.2)
    assert files["/usercontent/demo/demo__STEREO.mp4"]["type"] == "AudioFile"
    thumbs = [name for name in files if "_thumb" in name and name.endswith(".jpg")]
    assert len(thumbs) == 3 and all(files[name]["type"] == "ImageFile" for name in thumbs)
    assert "/usercontent/demo/demo__12x20_160x90_thumbnail_map.jpg" in files

    first = await download(encore, "/usercontent/demo/demo__x264_324.mp4")
    assert int(first.headers["content-length"]) == files["/usercontent/demo/demo__x264_324.mp4"]["fileSize"]
    part = await download(encore, "/usercontent/demo/demo__x264_324.mp4", range="bytes=0-99")
    assert part.status_code == 206 and part.content == first.content[:100]


async def test_fast_profile_outputs_are_stored_and_probed(fast: Encore, media_server: str, tmp_path: Any) -> None:
    job = await fast.wait((await fast.enqueue(job_body(media_server)))["id"])
    assert job["status"] == "SUCCESSFUL", job["message"]
    files = {o["file"]: o for o in job["output"]}
    video = files["/usercontent/out/clip__x264_400.mp4"]
    stream = video["videoStreams"][0]
    assert (stream["width"], stream["height"], stream["frameRate"]) == (160, 120, "25/1")
    assert video["duration"] == pytest.approx(3.0, abs=0.1)
    assert 150_000 < stream["bitrate"] < 1_200_000
    assert files["/usercontent/out/clip__x264_200.mp4"]["videoStreams"][0]["height"] == 72
    assert files["/usercontent/out/clip__STEREO.mp4"]["audioStreams"][0]["samplingRate"] == 48000
    # What the API reports is what a fresh probe of the downloaded file says.
    local = tmp_path / "x.mp4"
    local.write_bytes((await download(fast, "/usercontent/out/clip__x264_400.mp4")).content)
    probed = analyze_file(str(local))
    assert isinstance(probed, VideoFile)
    assert probed.video_streams[0].num_frames == stream["numFrames"] == 75


async def test_an_uploaded_input_with_seek_and_duration(fast: Encore, media_dir: Any) -> None:
    upload = await fast.request("PUT", "/usercontent/in/clip.mp4", content=(media_dir / "clip.mp4").read_bytes())
    assert upload.status_code == 201
    body = job_body("", inputs=[{"uri": "/usercontent/in/clip.mp4", "type": "AudioVideo"}], seekTo=1, duration=1.5)
    job = await fast.wait((await fast.enqueue(body))["id"])
    assert job["status"] == "SUCCESSFUL", job["message"]
    video = next(o for o in job["output"] if o["file"].endswith("_x264_400.mp4"))
    assert video["duration"] == pytest.approx(1.5, abs=0.1)


async def test_packages_for_hls_and_dash(fast: Encore, media_server: str) -> None:
    job = await fast.wait((await fast.enqueue(job_body(media_server, packageFormats=["hls", "dash"])))["id"])
    assert job["status"] == "SUCCESSFUL", job["message"]
    assert set(job["packages"]) == {"hls", "dash"}
    master = (await download(fast, job["packages"]["hls"])).text
    assert master.startswith("#EXTM3U") and master.count("#EXT-X-STREAM-INF") == 2
    assert "<MPD" in (await download(fast, job["packages"]["dash"])).text


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([{"uri": "{media}/media/corrupt.mp4", "type": "AudioVideo"}], "Failed to analyze input"),
        ([{"uri": "{media}/media/missing.mp4", "type": "AudioVideo"}], "Failed to analyze input"),
        ([{"uri": "/usercontent/nowhere.mp4", "type": "AudioVideo"}], "does not exist"),
        ([{"uri": "ftp://example.invalid/x.mp4", "type": "AudioVideo"}], "Unsupported input"),
        ([{"uri": "s3://bucket/x.mp4", "type": "AudioVideo"}], "S3 options"),
    ],
)
async def test_bad_inputs_fail_with_a_clear_message(
    fast: Encore, media_server: str, inputs: list[dict[str, str]], message: str
) -> None:
    given = [{**i, "uri": i["uri"].replace("{media}", media_server)} for i in inputs]
    job = await fast.wait((await fast.enqueue(job_body(media_server, inputs=given)))["id"])
    assert job["status"] == "FAILED"
    assert message in job["message"]
    assert job["completedDate"]


async def test_audio_encode_without_audio_in_the_input_fails(fast: Encore, media_server: str) -> None:
    body = job_body(media_server, inputs=[{"uri": f"{media_server}/media/silent.mp4", "type": "AudioVideo"}])
    job = await fast.wait((await fast.enqueue(body))["id"])
    assert job["status"] == "FAILED" and "audio" in job["message"].lower()


async def test_an_ffmpeg_error_fails_the_job_with_its_error_lines(fast: Encore, media_server: str) -> None:
    job = await fast.wait((await fast.enqueue(job_body(media_server, profile="broken")))["id"])
    assert job["status"] == "FAILED"
    assert job["message"].startswith("Error running ffmpeg (exit code")
    assert "nonsense-profile" in job["message"] or "profile" in job["message"]


async def test_unknown_profile_fails(fast: Encore, media_server: str) -> None:
    job = await fast.wait((await fast.enqueue(job_body(media_server, profile="nope")))["id"])
    assert job["status"] == "FAILED" and "nope" in job["message"]


async def test_cancel_a_running_job(fast: Encore, media_server: str) -> None:
    body = job_body(media_server, profile="slow", inputs=[{"uri": f"{media_server}/media/long.mp4", "type": "Video"}])
    job = await fast.enqueue(body)
    await fast.wait(job["id"], ("IN_PROGRESS",))
    r = await fast.request("POST", f"/encoreJobs/{job['id']}/cancel")
    assert r.status_code == 200
    done = await fast.wait(job["id"], within=60)
    assert done["status"] == "CANCELLED" and done["completedDate"]
    listing = (await fast.request("GET", "/usercontent/out/")).json()
    assert listing["files"] == []


async def test_priority_decides_the_order_within_an_instance(
    factory: Any, client: httpx.AsyncClient, runtime: Any, media_server: str
) -> None:
    runtime.jobs.start_workers(3)
    encore = await make_encore(
        factory, client, runtime, name="one", profilesUrl=f"{media_server}/media/profiles.yml", concurrency="1"
    )
    blocker = await encore.enqueue(job_body(media_server))
    await encore.wait(blocker["id"], ("IN_PROGRESS", "SUCCESSFUL"))
    ids = {p: (await encore.enqueue(job_body(media_server, priority=p)))["id"] for p in (10, 90, 50)}
    jobs = {p: await encore.wait(job_id) for p, job_id in ids.items()}
    assert all(j["status"] == "SUCCESSFUL" for j in jobs.values())
    started = sorted(ids, key=lambda p: jobs[p]["startedDate"])
    assert started == [90, 50, 10]
    # Concurrency 1: no two jobs of the instance overlapped.
    spans = sorted((j["startedDate"], j["completedDate"]) for j in [*jobs.values(), await encore.job(blocker["id"])])
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))


async def test_callbacks_are_signed_sent_per_state_and_retried(
    factory: Any, client: httpx.AsyncClient, runtime: Any, media_server: str, received: Received
) -> None:
    runtime.jobs.start_workers(2)
    secret = "callback-secret-123"
    encore = await make_encore(
        factory,
        client,
        runtime,
        name="calls",
        profilesUrl=f"{media_server}/media/profiles.yml",
        callbackSecret=secret,
    )
    received.bodies.clear()
    received.headers.clear()
    received.fail_first = 1  # the first delivery (QUEUED) is refused and must come again
    job = await encore.enqueue(job_body(media_server, progressCallbackUri=f"{media_server}/callback", externalId="e1"))
    done = await encore.wait(job["id"])
    assert done["status"] == "SUCCESSFUL"
    for _ in range(100):
        if {b["status"] for b in received.bodies} >= {"QUEUED", "IN_PROGRESS", "SUCCESSFUL"}:
            break
        await asyncio.sleep(0.1)
    statuses = [b["status"] for b in received.bodies]
    assert {"QUEUED", "IN_PROGRESS", "SUCCESSFUL"} <= set(statuses), statuses
    final = next(b for b in received.bodies if b["status"] == "SUCCESSFUL")
    assert final == {"jobId": job["id"], "externalId": "e1", "progress": 100, "status": "SUCCESSFUL"}
    for body, headers in zip(received.bodies, received.headers, strict=True):
        raw = json.dumps(body, separators=(",", ":")).encode()
        assert verify_webhook(secret, raw, headers["x-mediaplane-signature"])


async def test_s3_input_and_output_with_the_instance_s3_options(
    factory: Any, client: httpx.AsyncClient, runtime: Any, media_server: str, media_dir: Any, s3_server: str
) -> None:
    runtime.jobs.start_workers(2)
    bucket = f"media-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name=S3_REGION,
        aws_access_key_id=S3_ACCESS_KEY_ID,
        aws_secret_access_key=S3_SECRET_ACCESS_KEY,
    )
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(media_dir / "clip.mp4"), bucket, "in/clip.mp4")
    encore = await make_encore(
        factory,
        client,
        runtime,
        name="s3",
        profilesUrl=f"{media_server}/media/profiles.yml",
        s3AccessKeyId=S3_ACCESS_KEY_ID,
        s3SecretAccessKey=S3_SECRET_ACCESS_KEY,
        s3Region=S3_REGION,
        s3Endpoint=s3_server,
    )
    body = job_body(
        media_server,
        inputs=[{"uri": f"s3://{bucket}/in/clip.mp4", "type": "AudioVideo"}],
        outputFolder=f"s3://{bucket}/out/",
    )
    job = await encore.wait((await encore.enqueue(body))["id"])
    assert job["status"] == "SUCCESSFUL", job["message"]
    assert job["inputs"][0]["accessUri"].startswith(s3_server)
    files = sorted(o["file"] for o in job["output"])
    assert f"s3://{bucket}/out/clip__x264_400.mp4" in files
    keys = sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix="out/")["Contents"])
    assert keys == sorted(f.removeprefix(f"s3://{bucket}/") for f in files)


async def test_segmented_encoding_joins_without_gaps(fast: Encore, media_server: str) -> None:
    job = await fast.wait((await fast.enqueue(job_body(media_server, segmentLength=1)))["id"])
    assert job["status"] == "SUCCESSFUL", job["message"]
    info = job["segmentedEncodingInfo"]
    assert (info["numSegments"], info["segmentLength"], info["audioEncodingMode"]) == (
        3,
        1.0,
        "ENCODE_SEPARATELY_FULL",
    )
    files = {o["file"]: o for o in job["output"]}
    video = files["/usercontent/out/clip__x264_400.mp4"]
    assert video["videoStreams"][0]["numFrames"] == 75
    assert video["videoStreams"][0]["duration"] == pytest.approx(3.0, abs=0.04)
    assert video["audioStreams"][0]["duration"] == pytest.approx(3.0, abs=0.05)
    assert files["/usercontent/out/clip__STEREO.mp4"]["duration"] == pytest.approx(3.0, abs=0.05)
    assert not any(name.endswith(".jpg") for name in files)  # as upstream: no thumbnails in segmented mode
    async with fast.runtime.db.session() as session:
        helpers = (
            (await session.execute(select(JobRecord.state).where(JobRecord.name == "encore.segment"))).scalars().all()
        )
    assert helpers == ["succeeded", "succeeded"]
