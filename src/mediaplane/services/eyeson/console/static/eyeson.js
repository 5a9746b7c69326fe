// eyeson dashboard: rooms, participants and recordings kept current from server-sent events.
"use strict";

(() => {
  const box = document.querySelector("[data-eyeson-events]");
  if (!box) return;

  const set = (scope, field, text) => {
    const el = scope.querySelector(`[data-field="${field}"]`);
    if (el && el.textContent !== text) el.textContent = text;
    return el;
  };
  const badge = (el, state) => {
    if (el) el.className = `ey-state ey-${state}`;
  };

  function showPeople(list, users) {
    list.replaceChildren(...users.map((u) => {
      const li = document.createElement("li");
      li.className = u.online ? "online" : "offline";
      li.textContent = `${u.name}${u.guest ? " (guest)" : ""} — ${u.online ? "connected" : "not connected"}`;
      return li;
    }));
  }

  function showRoom(scope, room) {
    badge(set(scope, "state", room.state), room.state);
    const online = room.users.filter((u) => u.online).map((u) => u.name);
    set(scope, "people", online.length ? online.join(", ") : "nobody connected");
    const list = scope.querySelector('[data-field="users"]');
    if (list) showPeople(list, room.users);
    const nobody = scope.querySelector('[data-field="nobody"]');
    if (nobody) nobody.hidden = room.users.length > 0;
    const recording = scope.querySelector('[data-field="recording"]');
    if (recording && recording.tagName === "TD") recording.textContent = room.recording ? "recording" : "no";
    else if (recording) recording.textContent = room.recording ? "Recording now." : "Not recording.";
    for (const [action, shown] of [["record", !room.recording], ["unrecord", !!room.recording]]) {
      const button = scope.querySelector(`[data-action="${action}"]`);
      if (button) button.hidden = !shown;
    }
  }

  function showRecording(item, recording) {
    set(item, "status", recording.status);
    const player = item.querySelector('[data-field="player"]');
    if (!player || recording.status !== "ready" || !player.hidden) return;
    const video = player.querySelector("video");
    video.src = `${box.dataset.files}/${recording.id}/file`;
    player.hidden = false;
  }

  function update(state) {
    for (const room of state.rooms) {
      for (const scope of document.querySelectorAll(`[data-room-id="${room.id}"]`)) showRoom(scope, room);
    }
    for (const recording of state.recordings) {
      const item = document.querySelector(`[data-recording-id="${recording.id}"]`);
      if (item) showRecording(item, recording);
    }
  }

  const events = new EventSource(box.dataset.eyesonEvents);
  events.addEventListener("state", (event) => update(JSON.parse(event.data)));
})();
