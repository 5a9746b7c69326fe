"""The recordings running in this process: each reads its room's tap into a WebM writer until it is stopped or the
room closes (the meeting ended: nobody left, or DELETE /rooms), then finishes the file, stores it and reports
each state — stopped (duration), ready (download) or failed — as a `recording_update` event, and the ready one
as a `recording_update` webhook.

A recording lives in the process of its room. A server that stops during a recording loses the file; on start
such recordings are marked failed (`fail_unfinished`) rather than left "recording" for ever."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from av import AudioFrame, Packet
from sqlalchemy import update

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.mcu import McuRoom, McuTap
from mediaplane.services.eyeson import events, webhooks
from mediaplane.services.eyeson.models import EyesonRecording
from mediaplane.services.eyeson.recording.links import instance_base, storage_key, work_path
from mediaplane.services.eyeson.recording.repository import RecordingRepository
from mediaplane.services.eyeson.recording.views import describe_recording
from mediaplane.services.eyeson.recording.webm import RecordingError, WebmResult, WebmWriter

log = logging.getLogger(__name__)
EXTRAS_KEY = "eyeson.recorders"
ROW_WAIT = 5.0
"""Seconds a finished recording waits for its row (the starting request's transaction may still be open)."""
UNFINISHED = ("recording", "stopped")


@dataclass
class Recorder:
    instance_id: str
    meeting_id: str
    recording_id: str
    tap: McuTap
    writer: WebmWriter
    discard: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Recorders:
    """This process's recorders, at most one running per meeting."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._running: dict[str, Recorder] = {}  # by meeting id
        self._tasks: set[asyncio.Task[None]] = set()  # running and finishing ones

    def running(self, meeting_id: str) -> str | None:
        """The id of the meeting's running recording here, if any."""
        recorder = self._running.get(meeting_id)
        return None if recorder is None else recorder.recording_id

    def start(self, room: McuRoom, *, instance_id: str, meeting_id: str, recording_id: str) -> bool:
        """Starts recording the room (False when one runs already); it ends with stop() or when the room closes."""
        if meeting_id in self._running:
            return False
        c = room.config
        writer = WebmWriter(work_path(self.runtime, recording_id), c.width, c.height, c.fps)
        recorder = Recorder(instance_id, meeting_id, recording_id, room.tap(), writer)
        self._running[meeting_id] = recorder
        recorder.task = asyncio.ensure_future(self._run(recorder))
        self._tasks.add(recorder.task)
        recorder.task.add_done_callback(self._tasks.discard)
        return True

    def stop(self, meeting_id: str, recording_id: str | None = None, *, discard: bool = False) -> bool:
        """Ends the meeting's running recording (that one, when `recording_id` is given); False when none runs
        here. It is finished and stored in the background; `discard` drops the file instead."""
        recorder = self._running.get(meeting_id)
        if recorder is None or recording_id not in (None, recorder.recording_id):
            return False
        del self._running[meeting_id]
        recorder.discard = recorder.discard or discard
        recorder.tap.close()
        return True

    async def close(self) -> None:
        """Stops every recording and waits until each is stored (the process is going)."""
        for meeting_id in list(self._running):
            self.stop(meeting_id)
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _run(self, recorder: Recorder) -> None:
        recorder.writer.start()
        try:
            async for item in recorder.tap:
                if isinstance(item, Packet):
                    assert item.pts is not None
                    recorder.writer.put_video(bytes(item), item.pts, item.is_keyframe)
                elif isinstance(item, AudioFrame):
                    recorder.writer.put_audio(item)
        except Exception:
            log.exception("eyeson: reading the room for recording %s failed", recorder.recording_id)
        finally:
            if self._running.get(recorder.meeting_id) is recorder:  # the room closed: the recording ends with it
                del self._running[recorder.meeting_id]
            recorder.tap.close()
        outcome: WebmResult | RecordingError
        try:
            outcome = await recorder.writer.finish()
        except RecordingError as exc:
            outcome = exc
        try:
            await Finisher(self.runtime, recorder).finish(outcome)
        except Exception:
            log.exception("eyeson: recording %s could not be finished", recorder.recording_id)
        finally:
            with contextlib.suppress(OSError):
                recorder.writer.path.unlink()


class Finisher:
    """A recording's last steps: stopped (or failed), stored, ready."""

    def __init__(self, runtime: Runtime, recorder: Recorder) -> None:
        self.runtime, self.recorder = runtime, recorder

    async def finish(self, outcome: WebmResult | RecordingError) -> None:
        recorder = self.recorder
        if recorder.discard:
            return
        if isinstance(outcome, RecordingError):
            await self._change(status="failed", error=str(outcome))
            return
        if not await self._change(status="stopped", duration=outcome.duration):
            return  # deleted meanwhile
        key = storage_key(recorder.instance_id, "recordings", recorder.recording_id)
        try:
            info = await self.runtime.storage.put_file(key, outcome.path)
        except Exception as exc:
            log.exception("eyeson: storing recording %s failed", recorder.recording_id)
            await self._change(status="failed", error=f"storing the file failed: {exc}")
            return
        if not await self._change(status="ready", storage_key=key, size=info.size):
            await self.runtime.storage.delete(key)

    async def _change(self, **values: Any) -> bool:
        """Writes the new state, tells observers (and the webhook once ready); False when the row is gone."""
        recorder, runtime = self.recorder, self.runtime
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ROW_WAIT
        while True:
            async with runtime.db.session() as session:
                recording = await RecordingRepository(session, recorder.instance_id).recording(recorder.recording_id)
                instance = await session.get(Instance, recorder.instance_id)
                if recording is not None and instance is not None:
                    body = await self._apply(session, instance, recording, values)
                    break
            if loop.time() > deadline:
                log.warning("eyeson: recording %s is gone; its file is dropped", recorder.recording_id)
                return False
            await asyncio.sleep(0.2)
        await events.publish(runtime, recorder.meeting_id, {"type": "recording_update", "recording": body})
        return True

    async def _apply(
        self, session: Any, instance: Instance, recording: EyesonRecording, values: dict[str, Any]
    ) -> dict[str, Any]:
        runtime = self.runtime
        for name, value in values.items():
            setattr(recording, name, value)
        if recording.stopped_at is None:
            recording.stopped_at = runtime.clock.now()
        await session.flush()
        repo = RecordingRepository(session, instance.id)
        body = await describe_recording(repo, runtime, recording, instance_base(runtime, instance))
        if recording.status == "ready":
            await webhooks.emit(session, runtime, instance, "recording_update", recording=body)
        return body


def recorders(runtime: Runtime) -> Recorders:
    found = runtime.extras.get(EXTRAS_KEY)
    if not isinstance(found, Recorders):
        found = Recorders(runtime)
        runtime.extras[EXTRAS_KEY] = found
    return found


async def fail_unfinished(runtime: Runtime) -> None:
    """At start, in a single serving process (no Redis): recordings cut off by a stop of the server are failed."""
    if runtime.settings.redis_url:
        return
    async with runtime.db.session() as session:
        await session.execute(
            update(EyesonRecording)
            .where(EyesonRecording.status.in_(UNFINISHED))
            .values(status="failed", error="the server stopped during the recording")
        )
