// rig dashboard: live state from server-sent events, and the HLS preview while a stream is live.
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
  const badge = (el, state) => {
    if (el) el.className = `rig-state rig-${state}`;
  };
  const since = (iso) => (iso ? new Date(iso).toISOString().slice(0, 16).replace("T", " ") + " UTC" : "not live");

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
    const active = stream.destinations.filter((d) => d.status !== "off").length;
    const live = stream.destinations.filter((d) => d.status === "live").length;
    set(scope, "summary", stream.state === "live" ? `${live} of ${active} live` : String(stream.destinations.length));
    for (const d of stream.destinations) {
      const row = scope.querySelector(`[data-destination-id="${d.id}"]`);
      if (!row) continue;
      badge(set(row, "status", d.status), d.status);
      set(row, "bitrate", d.bitrateKbps.toFixed(1));
      set(row, "reconnects", String(d.reconnects));
      set(row, "lastError", d.lastError || "");
    }
  }

  function update(state) {
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
