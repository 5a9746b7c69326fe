// rig dashboard: live state from server-sent events (streams made or deleted elsewhere come and go from the list;
// enable/disable buttons follow the state), and the HLS preview while a stream is live. Pages work without it.
"use strict";

(() => {
  const box = document.querySelector("[data-rig-events]");
  if (!box) return;
  const preview = document.querySelector("[data-preview]");
  let hls = null;
  let retry = null;

  const set = (scope, field, text) => {
    const el = scope.querySelector(`[data-field="${field}"]`);
    if (el && el.textContent !== text) el.textContent = text;
    return el;
  };
  const show = (scope, field, visible) => {
    const el = scope.querySelector(`[data-field="${field}"]`);
    if (el) el.hidden = !visible;
  };
  const badge = (el, state) => {
    if (el) el.className = `rig-state rig-${state}`;
  };
  // As the server writes times (the console's `when`).
  const when = (iso) => new Date(iso).toISOString().slice(0, 16).replace("T", " ") + " UTC";
  const since = (iso) => (iso ? when(iso) : "not live");
  const list = box.dataset.rigStreams ? box.querySelector("tbody") : null;

  function say(text) {
    if (preview) set(preview, "preview", text);
  }

  function stopPreview(text) {
    clearTimeout(retry);
    retry = null;
    if (hls) { hls.destroy(); hls = null; }
    const video = preview.querySelector("video");
    video.removeAttribute("src");
    video.load();
    say(text);
  }

  function startPreview() {
    if (hls || retry) return;
    const video = preview.querySelector("video");
    const source = preview.dataset.preview;
    if (!(window.Hls && Hls.isSupported())) {
      if (video.canPlayType("application/vnd.apple.mpegurl")) { video.src = source; video.play().catch(() => {}); }
      else say("This browser cannot play HLS.");
      return;
    }
    say("Connecting…");
    hls = new Hls({ enableWorker: false, liveSyncDurationCount: 2 });
    // The playlist appears a few seconds after a publish is admitted: a fatal error starts over after a pause.
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (!data.fatal) return;
      hls.destroy();
      hls = null;
      say("Waiting for the preview…");
      retry = setTimeout(() => { retry = null; if (box.dataset.state === "live") startPreview(); }, 2000);
    });
    hls.loadSource(source);
    hls.attachMedia(video);
    video.play().catch(() => {});
  }

  function showStream(scope, stream) {
    badge(set(scope, "state", stream.state), stream.state);
    set(scope, "liveSince", since(stream.liveSince));
    show(scope, "inactive", !stream.active);
    show(scope, "streamEnable", !stream.active);
    show(scope, "streamDisable", stream.active);
    const on = stream.destinations.filter((d) => d.active).length;
    const live = stream.destinations.filter((d) => d.status === "live").length;
    set(scope, "summary", stream.state === "live" ? `${live} of ${on} live` : String(stream.destinations.length));
    for (const d of stream.destinations) {
      const row = scope.querySelector(`[data-destination-id="${d.id}"]`);
      if (!row) continue;
      badge(set(row, "status", d.status), d.status);
      set(row, "bitrate", d.bitrateKbps.toFixed(1));
      set(row, "reconnects", String(d.reconnects));
      set(row, "lastError", d.lastError || "");
      show(row, "enable", !d.active);
      show(row, "disable", d.active);
    }
    // A destination added or removed elsewhere: its forms need the page, so say so rather than guess.
    const changed = scope.querySelector('[data-field="destinationsChanged"]');
    if (changed) {
      const shown = [...scope.querySelectorAll("[data-destination-id]")].map((row) => row.dataset.destinationId);
      changed.hidden = shown.join() === stream.destinations.map((d) => String(d.id)).join();
    }
  }

  function newRow(stream) {
    const row = document.getElementById("rig-stream-row").content.firstElementChild.cloneNode(true);
    row.dataset.streamId = stream.id;
    const link = row.querySelector('[data-field="link"]');
    link.href = box.dataset.rigStreams + stream.id;
    link.textContent = stream.id.slice(0, 8);
    set(row, "account", stream.account);
    set(row, "created", when(stream.created));
    return row;
  }

  // The list holds exactly the streams of the state, in its order (oldest first).
  function syncList(streams) {
    const ids = new Set(streams.map((stream) => stream.id));
    for (const row of [...list.rows]) if (!ids.has(row.dataset.streamId)) row.remove();
    let previous = null;
    for (const stream of streams) {
      let row = list.querySelector(`tr[data-stream-id="${stream.id}"]`);
      if (!row) {
        row = newRow(stream);
        if (previous) previous.after(row);
        else list.prepend(row);
      }
      previous = row;
    }
    list.closest("table").hidden = list.rows.length === 0;
    document.getElementById("no-streams").hidden = list.rows.length > 0;
  }

  function update(state) {
    if (list) syncList(state.streams);
    else if (state.streams.length === 0) {  // this stream's page, and the stream was deleted
      events.close();
      if (hls || retry) stopPreview("The stream was deleted.");
      show(box, "gone", true);
      return;
    }
    for (const stream of state.streams) {
      for (const scope of document.querySelectorAll(`[data-stream-id="${stream.id}"]`)) showStream(scope, stream);
      if (preview && box.dataset.streamId === stream.id) {
        box.dataset.state = stream.state;
        if (stream.state === "live") startPreview();
        else if (hls || retry) stopPreview("The stream is not live: the preview plays here while it is.");
      }
    }
  }

  if (preview) {
    const video = preview.querySelector("video");
    video.addEventListener("playing", () => say("Playing the live preview."));
  }
  const events = new EventSource(box.dataset.rigEvents);
  events.addEventListener("state", (event) => update(JSON.parse(event.data)));
})();
