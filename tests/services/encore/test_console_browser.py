"""encore's dashboard in a real headless Chromium against a live server with a worker: sign in, create an
instance from the catalog's encore form and open its dashboard from the instance's page, enqueue a job of a short
lavfi-made clip in one tab while another watches the jobs table fill in and its progress bar reach 100 % by
server-sent events (never reloaded), open the job, play the HLS package, an MP4 and the DASH package. Screenshots
of each page go to the `screenshots` fixture's folder; the phone-sized pages are checked for sideways
scrolling.

The browser is the system's Chromium (Debian's `chromium`), driven by Playwright; none is downloaded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from mediaplane.app import create_app
from mediaplane.core.catalog import Registry
from mediaplane.services.encore import spec as encore_spec
from tests.conftest import make_settings
from tests.console.conftest import PASSWORD
from tests.console.test_browser import Visit
from tests.fixtures.browser import NO_SIDEWAYS_SCROLL, chromium, seed_tenants
from tests.fixtures.servers import free_port, serve_in_thread

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
PLAYING = "() => { const v = document.getElementById('player'); return v.readyState >= 2 && v.currentTime > 0.3; }"
MARK = "() => window.stillTheSamePage === true"
DASH_ATTACHED = "() => { const v = document.getElementById('player'); return v.dash && v.src.startsWith('blob:'); }"


@contextlib.contextmanager
def live_encore(tmp_path: Path) -> Iterator[str]:
    """`serve` with encore and one worker on a free port; tenant acme with a password and no instance yet."""
    port = free_port()
    settings = make_settings(
        tmp_path / "data", f"sqlite+aiosqlite:///{tmp_path / 'console.db'}", port=port, run_workers=True, workers=1
    )
    registry = Registry([encore_spec])

    seed_tenants(settings, registry, PASSWORD)
    with serve_in_thread(create_app(settings, registry=registry), port) as url:
        yield url


def test_the_encore_dashboard_in_chromium(tmp_path: Path, screenshots: Path, media_server: str) -> None:
    shots = screenshots
    with live_encore(tmp_path) as url, chromium() as browser:
        context = browser.new_context(viewport={"width": 1100, "height": 800})
        watcher = Visit(context, shots, "desktop")
        page = watcher.page
        page.goto(f"{url}/console/catalog")
        watcher.sign_in(PASSWORD)
        page.wait_for_url(f"{url}/console/catalog")

        # The instance from the encore card's form, then its dashboard from the instance's page.
        page.get_by_role("link", name="Create queue of SVT Encore").click()
        page.get_by_label("Name").fill("demo")
        page.get_by_label("Profiles URL").fill(f"{media_server}/media/profiles.yml")
        page.get_by_label("Concurrency").fill("1")
        watcher.shot("create")
        page.get_by_role("button", name="Create queue").click()
        assert "created" in page.inner_text("h1")
        page.get_by_role("link", name="Open the instance").click()
        assert page.inner_text("#health") == "running"
        assert page.inner_text("#instance-url") == f"{url}/encore/acme-demo/"
        watcher.shot("instance")
        page.get_by_role("link", name="Jobs", exact=True).click()
        page.wait_for_url(f"{url}/console/encore/demo/")
        assert "No jobs yet" in page.inner_text("main")
        watcher.shot("jobs-empty")
        page.evaluate("() => { window.stillTheSamePage = true; }")

        # Enqueued in another tab; the first one sees the job arrive and finish.
        enqueuer = Visit(context, shots, "desktop-form")
        form = enqueuer.page
        form.goto(f"{url}/console/encore/demo/")
        form.get_by_role("link", name="Enqueue a job").first.click()
        form.get_by_label("Input URI").fill(f"{media_server}/media/clip.mp4")
        form.get_by_label("Profile").fill("fast")
        form.get_by_label("Output folder").fill("/usercontent/web")
        form.get_by_label("Base name").fill("clip")
        form.get_by_label("HLS", exact=True).check()
        form.get_by_label("DASH", exact=True).check()
        enqueuer.shot("enqueue")
        form.get_by_role("button", name="Enqueue").click()
        assert "The job is queued" in form.inner_text("main")
        enqueuer.shot("job-queued")

        progress = page.locator("tr[data-job] progress")
        page.wait_for_function("() => document.querySelector('tr[data-job] progress')?.value === 100")
        assert progress.get_attribute("aria-label") == "Progress of clip"
        assert page.inner_text("tr[data-job] [data-field=status]") == "successful"
        assert page.inner_text("tr[data-job] [data-field=percent]") == "100 %"
        assert page.evaluate(MARK), "the jobs page was reloaded"
        assert page.locator("#no-jobs").is_hidden()
        watcher.shot("jobs-done")

        # The job: inputs, outputs, packages, and the player.
        page.get_by_role("link", name="clip", exact=True).click()
        assert "160x120" in page.inner_text("#outputs")
        video = page.locator("#player")
        assert video.get_attribute("data-kind") == "hls"
        page.evaluate("() => { const v = document.getElementById('player'); v.muted = true; return v.play(); }")
        page.wait_for_function(PLAYING)
        watcher.shot("job-hls")
        page.get_by_role("button", name="Play clip_x264_400.mp4").click()
        page.wait_for_function("() => document.getElementById('player').src.endsWith('clip_x264_400.mp4')")
        page.wait_for_function(PLAYING)
        assert page.evaluate("() => document.getElementById('player').videoWidth") == 160
        watcher.shot("job-mp4")
        # dash.js gives the <video> a MediaSource (a blob: URL), which starts it again from 0.
        page.get_by_role("button", name="Play DASH package").click()
        page.wait_for_function(DASH_ATTACHED)
        page.wait_for_function(PLAYING)
        watcher.shot("job-dash")
        assert watcher.problems == [] and enqueuer.problems == []

        # A phone: the dashboard's pages fit its width.
        phone_context = browser.new_context(
            viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
        )
        phone = Visit(phone_context, shots, "phone")
        phone.page.goto(f"{url}/console/encore/demo/")
        phone.sign_in(PASSWORD)
        job = f"jobs/{page.url.rsplit('/', 1)[-1]}"
        pages = (("jobs", ""), ("enqueue", "new"), ("job", job), ("profiles", "profiles"), ("files", "files/web/"))
        for name, path in pages:
            phone.page.goto(f"{url}/console/encore/demo/{path}")
            assert phone.page.evaluate(NO_SIDEWAYS_SCROLL), path
            phone.shot(name)
        assert phone.problems == []
        phone_context.close()
        context.close()
