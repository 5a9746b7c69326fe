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

  // The "Send as" choices: the page's own user first, then the users who are not guests.
  function showSenders(select, users) {
    const chosen = select.value;
    const options = users.filter((u) => !u.guest).map((u) => new Option(`${u.name} (${u.id})`, u.id));
    const texts = (list) => list.map((o) => o.text).join("\n");
    if (texts(options) === texts([...select.options].slice(1))) return; // rebuilt only when it changed
    select.replaceChildren(select.options[0], ...options);
    select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
  }

  function showRoom(scope, room) {
    badge(set(scope, "state", room.state), room.state);
    const online = room.users.filter((u) => u.online).map((u) => u.name);
    set(scope, "people", online.length ? online.join(", ") : "nobody connected");
    const list = scope.querySelector('[data-field="users"]');
    if (list) showPeople(list, room.users);
    const senders = scope.querySelector('[data-field="senders"]');
    if (senders) showSenders(senders, room.users);
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

  // The list of rooms: a room started elsewhere gets a row; a row whose meeting is no longer running is marked
  // ended (a reload drops it, as the server lists only running meetings).
  function showList(rooms) {
    const body = box.querySelector("tbody");
    const row = box.querySelector('template[data-field="row"]');
    if (!body || !row) return;
    const running = new Set(rooms.map((room) => room.id));
    for (const room of rooms) {
      if (body.querySelector(`[data-room-id="${room.id}"]`)) continue;
      const tr = row.content.firstElementChild.cloneNode(true);
      tr.dataset.roomId = room.id;
      const link = tr.querySelector("a");
      link.href = `${box.dataset.rooms}/${encodeURIComponent(room.id)}`;
      link.textContent = room.name;
      set(tr, "started", room.started);
      body.append(tr);
    }
    for (const tr of body.querySelectorAll("tr[data-room-id]")) {
      if (running.has(tr.dataset.roomId)) continue;
      badge(set(tr, "state", "ended"), "ended");
      set(tr, "people", "—");
      set(tr, "recording", "no");
    }
    box.querySelector('[data-field="table"]').hidden = body.children.length === 0;
    box.querySelector('[data-field="none"]').hidden = rooms.length > 0;
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
    if (box.dataset.rooms) showList(state.rooms);
    for (const room of state.rooms) {
      for (const scope of document.querySelectorAll(`[data-room-id="${room.id}"]`)) showRoom(scope, room);
      // A meeting that ends while its page shows the running controls: the page as it is now, once.
      if (room.state === "ended" && "running" in box.dataset && box.dataset.roomId === room.id) {
        delete box.dataset.running;
        window.location.reload();
      }
    }
    for (const recording of state.recordings) {
      const item = document.querySelector(`[data-recording-id="${recording.id}"]`);
      if (item) showRecording(item, recording);
    }
  }

  const events = new EventSource(box.dataset.eyesonEvents);
  events.addEventListener("state", (event) => update(JSON.parse(event.data)));
})();
