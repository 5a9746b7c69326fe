"""`mediaplane encore ...` against a real `mediaplane serve` (its workers run the jobs), with a fast profile served
over HTTP from the test, and a local input that `enqueue` uploads."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest

from mediaplane.cli.errors import CliError
from mediaplane.services.encore.cli import InputType, PackageFormat, input_stem, job_body, parse_params
from mediaplane.services.encore.cli_api import EncoreApi, storage_path
from mediaplane.services.encore.schemas.job import AudioInput, AudioVideoInput, EncoreJob, VideoInput
from tests.cli.processes import EXPORTED_TOKEN, Cli, ServerProcess, clean_env
from tests.fixtures.media import make_test_video

INDEX = "fast: fast.yml\n"
FAST = """\
name: fast
description: One small H.264 rendition
encodes:
  - type: X264Encode
    suffix: _x264_400
    height: 120
    params:
      b:v: 400k
      preset: ultrafast
    audioEncode:
      type: AudioEncode
      bitrate: 64k
"""
NO_JOB = "00000000-0000-4000-8000-000000000000"
HOLD_SECONDS = 60


class Handler(SimpleHTTPRequestHandler):
    """Serves a folder; `/hold.mp4` answers 404 only once the test releases it (a job stuck reading its input)."""

    release: threading.Event

    def do_GET(self) -> None:
        if self.path == "/hold.mp4":
            self.release.wait(HOLD_SECONDS)
            self.send_error(404)
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@dataclass
class Site:
    url: str
    release: threading.Event


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("site")
    (folder / "profiles.yml").write_text(INDEX)
    (folder / "fast.yml").write_text(FAST)
    release = threading.Event()
    handler = type("SiteHandler", (Handler,), {"release": release})

    def make(*args: Any) -> Handler:
        return handler(*args, directory=str(folder))

    server = ThreadingHTTPServer(("127.0.0.1", 0), make)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_address[1]}", release)
    finally:
        release.set()
        server.shutdown()
        server.server_close()


@dataclass
class Encore:
    cli: Cli
    clip: Path  # a local file: `enqueue` uploads it
    site: Site


@pytest.fixture(scope="module")
def encore(tmp_path_factory: pytest.TempPathFactory, site: Site) -> Iterator[Encore]:
    base = tmp_path_factory.mktemp("encore-cli")
    env = clean_env(base / "home")
    args = [sys.executable, "-m", "mediaplane", "serve", "--host", "127.0.0.1", "--port", "0"]
    server = ServerProcess([*args, "--data", str(base / "data"), "--workers", "2"], env, base, base / "server.log")
    server.start()
    try:
        url = server.wait_listening()
        exported = EXPORTED_TOKEN.search(server.output)
        assert exported, server.output
        cli = Cli({**env, "MEDIAPLANE_URL": url, "MEDIAPLANE_ACCESS_TOKEN": exported.group(1)}, base)
        profiles = f"profilesUrl={site.url}/profiles.yml"
        cli.ok("create", "encore", "fast", "-o", profiles)
        cli.ok("create", "encore", "hold", "-o", profiles, "-o", "concurrency=1")
        clip = make_test_video(base / "clip.mp4", seconds=2, size="320x240")
        yield Encore(cli, clip, site)
    finally:
        site.release.set()
        server.stop()
    assert "Traceback" not in server.output, server.output


@pytest.fixture(scope="module")
def finished(encore: Encore) -> dict[str, Any]:
    """One job run to the end with --wait --json, its progress bar drawn as on a terminal."""
    terminal = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"}
    args = ["encore", "enqueue", "fast", "--profile", "fast", "--input", str(encore.clip), "--base-name", "demo_"]
    result = encore.cli.ok(*args, "--wait", "--json", env=terminal)
    assert "Uploaded" in result.stderr and "100%" in result.stderr, result.stderr
    job: dict[str, Any] = result.json()
    return job


def output_file(job: dict[str, Any]) -> dict[str, Any]:
    files = [o for o in job["output"] if o["file"].endswith("_x264_400.mp4")]
    assert len(files) == 1, job["output"]
    return files[0]


class TestEnqueue:
    def test_wait_with_json_prints_the_successful_job(self, finished: dict[str, Any]) -> None:
        assert (finished["status"], finished["progress"]) == ("SUCCESSFUL", 100)
        assert finished["outputFolder"] == "/usercontent/demo"
        assert finished["inputs"][0]["uri"] == "/usercontent/uploads/clip.mp4"
        video = output_file(finished)
        assert video["file"] == "/usercontent/demo/demo__x264_400.mp4"
        assert video["videoStreams"][0]["height"] == 120

    def test_wait_shows_the_outputs(self, encore: Encore) -> None:
        result = encore.cli.ok("encore", "enqueue", "fast", "-p", "fast", "-i", str(encore.clip), "--wait")
        assert "/usercontent/clip/clip__x264_400.mp4" in result.stdout
        assert "160x120" in result.stdout and "SUCCESSFUL" in result.stdout
        assert "SUCCESSFUL (100 %)" in result.stderr

    def test_a_failed_job_exits_1_with_its_message(self, encore: Encore) -> None:
        missing = f"{encore.site.url}/missing.mp4"
        result = encore.cli.fails("encore", "enqueue", "fast", "-p", "fast", "-i", missing, "--wait", message="FAILED")
        job_id = result.stderr.split("Job ", 1)[1].split()[0]
        assert f"Error: Job {job_id} FAILED: " in " ".join(result.stderr.split()), result.stderr


class TestJobs:
    def test_list(self, encore: Encore, finished: dict[str, Any]) -> None:
        assert finished["id"] in encore.cli.ok("encore", "list", "fast").stdout
        page = encore.cli.ok("encore", "list", "fast", "--json").json()
        assert finished["id"] in [job["id"] for job in page["_embedded"]["encoreJobs"]]
        done = encore.cli.ok("encore", "list", "fast", "--status", "successful", "--size", "50", "--json").json()
        assert {job["status"] for job in done["_embedded"]["encoreJobs"]} == {"SUCCESSFUL"}
        assert done["page"]["size"] == 50

    def test_get(self, encore: Encore, finished: dict[str, Any]) -> None:
        shown = encore.cli.ok("encore", "get", "fast", finished["id"]).stdout
        assert "demo__x264_400.mp4" in shown and "/usercontent/uploads/clip.mp4" in shown and "Outputs" in shown
        assert encore.cli.ok("encore", "get", "fast", finished["id"], "--json").json()["id"] == finished["id"]

    def test_profiles(self, encore: Encore) -> None:
        assert "One small H.264 rendition" in encore.cli.ok("encore", "profiles", "fast").stdout
        listed = encore.cli.ok("encore", "profiles", "fast", "--json").json()
        assert [(p["name"], p["valid"]) for p in listed] == [("fast", True)]

    def test_files_and_download(self, encore: Encore, finished: dict[str, Any], tmp_path: Path) -> None:
        video = output_file(finished)
        listed = encore.cli.ok("encore", "files", "fast", "/usercontent/demo", "--json").json()
        assert video["file"] in [f["name"] for f in listed["files"]]
        target = tmp_path / "out.mp4"
        saved = encore.cli.ok("encore", "download", "fast", video["file"], "-o", str(target), "--json").json()
        assert saved == {"path": video["file"], "file": str(target), "size": video["fileSize"]}
        data = target.read_bytes()
        assert len(data) == video["fileSize"] and data[4:8] == b"ftyp"
        encore.cli.fails("encore", "download", "fast", "/usercontent/demo/none.mp4", message="(HTTP 404)")

    def test_cancel_and_watch(self, encore: Encore) -> None:
        cli = encore.cli
        # The instance runs one job at a time: the first waits for its input, so the second stays queued.
        stuck = cli.ok("encore", "enqueue", "hold", "-p", "fast", "-i", f"{encore.site.url}/hold.mp4", "--json")
        queued = cli.ok("encore", "enqueue", "hold", "-p", "fast", "-i", f"{encore.site.url}/fast.yml", "--json")
        first, second = stuck.json()["id"], queued.json()["id"]
        try:
            assert "Cancelled job" in cli.ok("encore", "cancel", "hold", second).stderr
            cli.fails("encore", "cancel", "hold", second, message="Cannot cancel job with status CANCELLED")
            watched = cli("encore", "watch", "hold", second, "--json")
            assert watched.code == 1 and watched.json()["status"] == "CANCELLED"
            cancelled = cli.ok("encore", "cancel", "hold", first, "--json").json()
            assert cancelled["status"] in ("QUEUED", "IN_PROGRESS", "CANCELLED")
        finally:
            encore.site.release.set()
        ended = cli("encore", "watch", "hold", first, "--json")
        assert ended.code == 1 and ended.json()["status"] in ("CANCELLED", "FAILED"), ended.output


class TestErrors:
    def test_unknown_instance(self, encore: Encore) -> None:
        encore.cli.fails("encore", "get", "nope", NO_JOB, message="No instance named nope (HTTP 404)")

    def test_unknown_job(self, encore: Encore) -> None:
        encore.cli.fails("encore", "get", "fast", NO_JOB, message=f"Job with id {NO_JOB} not found (HTTP 404)")

    def test_a_bad_job_is_refused_with_the_reason(self, encore: Encore) -> None:
        args = ["encore", "enqueue", "fast", "-i", "/usercontent/uploads/clip.mp4", "--priority", "500"]
        refused = encore.cli.fails(*args, "--json", message="less than or equal to 100")
        assert refused.json()["status"] == 400 and "priority" in refused.json()["error"]

    def test_no_input_or_a_missing_file(self, encore: Encore) -> None:
        encore.cli.fails("encore", "enqueue", "fast", "--param", "oops", message="Give at least one --input")
        encore.cli.fails("encore", "enqueue", "fast", "-i", "gone.mp4", message="No such file: gone.mp4")


class TestJobBody:
    def test_defaults_come_from_the_first_input(self) -> None:
        body = job_body(profile="program", inputs=["https://cdn.example/v/My Film.final.mp4?x=1", "/usercontent/b.wav"])
        assert body == {
            "profile": "program",
            "outputFolder": "/usercontent/My_Film.final",
            "baseName": "My_Film.final_",
            "inputs": [
                {"uri": "https://cdn.example/v/My Film.final.mp4?x=1", "type": "AudioVideo"},
                {"uri": "/usercontent/b.wav", "type": "AudioVideo"},
            ],
        }

    def test_every_option(self) -> None:
        body = job_body(
            profile="fast",
            inputs=["s3://bucket/in.mov"],
            input_type=InputType.VIDEO,
            output_folder="/usercontent/out",
            base_name="demo_",
            priority=50,
            external_id="ref-1",
            callback="http://127.0.0.1:9/cb",
            params=parse_params(["keyframes=expr:gte(t,n_forced*2)", "empty="]),
            seek_to=1.5,
            duration=10,
            segment_length=4,
            packages=[PackageFormat.HLS, PackageFormat.DASH],
        )
        assert body["inputs"] == [{"uri": "s3://bucket/in.mov", "type": "Video"}]
        assert (body["outputFolder"], body["baseName"], body["priority"]) == ("/usercontent/out", "demo_", 50)
        assert body["profileParams"] == {"keyframes": "expr:gte(t,n_forced*2)", "empty": ""}
        assert (body["seekTo"], body["duration"], body["segmentLength"]) == (1.5, 10, 4)
        assert (body["externalId"], body["progressCallbackUri"]) == ("ref-1", "http://127.0.0.1:9/cb")
        assert body["packageFormats"] == ["hls", "dash"]

    def test_base_name_sets_the_default_folder(self) -> None:
        assert job_body(profile="p", inputs=["/x/a.mp4"], base_name="show_")["outputFolder"] == "/usercontent/show"

    def test_mistakes(self) -> None:
        with pytest.raises(CliError, match="at least one --input"):
            job_body(profile="p", inputs=[])
        with pytest.raises(CliError, match="expected key=value"):
            parse_params(["novalue"])

    @pytest.mark.parametrize(
        ("uri", "stem"),
        [("clip.mp4", "clip"), ("C:\\media\\take 2.mov", "take_2"), ("https://h/a/", "a"), ("...", "job")],
    )
    def test_input_stem(self, uri: str, stem: str) -> None:
        assert input_stem(uri) == stem


@pytest.mark.parametrize(
    ("path", "api_path"),
    [
        ("/usercontent/demo/a b.mp4", "usercontent/demo/a%20b.mp4"),
        ("usercontent/demo/a.mp4", "usercontent/demo/a.mp4"),
        ("demo/a.mp4", "usercontent/demo/a.mp4"),
        ("file:///usercontent/demo/a.mp4", "usercontent/demo/a.mp4"),
        ("/usercontent/demo/", "usercontent/demo/"),
    ],
)
def test_storage_path(path: str, api_path: str) -> None:
    assert storage_path(path) == api_path


def test_the_choices_match_the_job_schema() -> None:
    inputs = (AudioVideoInput, VideoInput, AudioInput)
    assert {t.value for t in InputType} == {get_args(i.model_fields["type"].annotation)[0] for i in inputs}
    packages = get_args(get_args(EncoreJob.model_fields["package_formats"].annotation)[0])
    assert {p.value for p in PackageFormat} == set(packages)


def test_an_expired_sat_is_renewed_once(tmp_path: Path) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["x-jwt"])
        if request.headers["x-jwt"] != "Bearer new":
            return httpx.Response(401, json={"title": "Unauthorized", "status": 401, "detail": "SAT expired"})
        return httpx.Response(200, json={"id": NO_JOB, "status": "QUEUED"})

    renewed: list[str] = []

    def renew() -> str:
        renewed.append("new")
        return "new"

    with EncoreApi(
        "http://encore.test/encore/acme-q/", "old", renew=renew, transport=httpx.MockTransport(answer)
    ) as api:
        assert api.job(NO_JOB)["status"] == "QUEUED"
        assert (seen, renewed) == (["Bearer old", "Bearer new"], ["new"])
    with EncoreApi("http://encore.test/", "old", renew=renew, transport=httpx.MockTransport(answer)) as api:
        upload = tmp_path / "a.mp4"
        upload.write_bytes(b"data")
        with pytest.raises(CliError, match="SAT expired"):
            api.upload(upload, "/usercontent/uploads/a.mp4")  # a streamed body is not sent twice
