// encore's dashboard: live job state from server-sent events, and the player. Pages work without it.
"use strict";

function setField(root, name, apply) {
  for (const element of root.querySelectorAll(`[data-field="${name}"]`)) apply(element);
}

function showJob(root, job) {
  setField(root, "status", (el) => { el.textContent = job.statusLabel; el.className = `status status-${job.status.toLowerCase()}`; });
  setField(root, "progress", (el) => { el.value = job.progress; el.textContent = `${job.progress} %`; });
  setField(root, "percent", (el) => { el.textContent = `${job.progress} %`; });
  setField(root, "speed", (el) => { el.textContent = job.speed || (root.tagName === "TR" ? "" : "—"); });
  setField(root, "message", (el) => { el.textContent = job.message || "—"; });
  setField(root, "cancel", (el) => { el.hidden = job.done; });
}

function newRow(board, job) {
  const row = board.querySelector("#job-row").content.firstElementChild.cloneNode(true);
  row.dataset.job = job.id;
  setField(row, "link", (el) => { el.href = job.href; el.textContent = job.name; });
  setField(row, "profile", (el) => { el.textContent = job.profile; });
  setField(row, "created", (el) => { el.textContent = job.created; });
  setField(row, "progress", (el) => { el.setAttribute("aria-label", `Progress of ${job.name}`); });
  setField(row, "cancel", (el) => { el.href = `${job.href}/cancel`; });
  return row;
}

function follow(board) {
  const status = document.getElementById("live-status");
  const events = new EventSource(board.dataset.live);
  const table = board.querySelector("table.jobs");
  events.onopen = () => { if (status) status.textContent = ""; };
  events.onerror = () => { if (status) status.textContent = "Live updates paused; reconnecting…"; };
  events.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (board.dataset.job) {  // a job's page: when it ends, show the outputs it made
      const job = data.jobs[0];
      if (!job) return;
      showJob(board, job);
      if (job.done && board.dataset.done === "false") {
        board.dataset.done = "true";
        events.close();
        setField(board, "finished-note", (el) => { el.hidden = false; });
        window.location.reload();
      }
      return;
    }
    const body = table.tBodies[0];
    let previous = null;
    for (const job of data.jobs) {
      let row = body.querySelector(`tr[data-job="${job.id}"]`);
      if (!row) {
        row = newRow(board, job);
        if (previous) previous.after(row); else body.prepend(row);
      }
      showJob(row, job);
      previous = row;
    }
    table.hidden = body.rows.length === 0;
    const empty = document.getElementById("no-jobs");
    if (empty) empty.hidden = body.rows.length > 0;
  };
  window.addEventListener("pagehide", () => events.close());
}

function stopPlayer(video) {
  if (video.hls) { video.hls.destroy(); video.hls = null; }
  if (video.dash) { video.dash.destroy(); video.dash = null; }
}

function play(video, url, kind) {
  stopPlayer(video);
  const status = document.getElementById("player-status");
  if (kind === "hls" && window.Hls && Hls.isSupported()) {
    const hls = new Hls({ enableWorker: false });  // the console's policy allows no blob: workers
    hls.loadSource(url);
    hls.attachMedia(video);
    video.hls = hls;
  } else if (kind === "hls" && !video.canPlayType("application/vnd.apple.mpegurl")) {
    status.textContent = "This browser cannot play HLS.";
  } else if (kind === "dash" && window.dashjs && (window.MediaSource || window.ManagedMediaSource)) {
    video.removeAttribute("src");
    const dash = dashjs.MediaPlayer().create();
    dash.initialize(video, url, false);
    video.dash = dash;
  } else if (kind === "dash") {
    status.textContent = "This browser cannot play DASH.";
  } else {
    video.src = url;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const board = document.querySelector("[data-live]");
  if (board && window.EventSource) follow(board);
  const video = document.getElementById("player");
  if (!video) return;
  if (video.dataset.kind !== "mp4") play(video, video.dataset.src, video.dataset.kind);
  for (const button of document.querySelectorAll("button[data-play]")) {
    button.addEventListener("click", () => {
      play(video, button.dataset.play, button.dataset.kind);
      document.getElementById("player-status").textContent = `Selected: ${button.dataset.label}`;
      // dash.js sets the <video>'s source only once it has read the manifest, which would stop a play() now.
      const start = () => video.play().catch(() => {});
      if (video.dash) video.addEventListener("canplay", start, { once: true }); else start();
    });
  }
});
