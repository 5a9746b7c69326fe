// gosd dashboard: presence, status and job states from server-sent events; nodes added or deleted elsewhere; a
// job's log once it ends; the HLS video of live points.
"use strict";

(() => {
  const box = document.querySelector("[data-gosd-events]");
  if (!box) return;
  const players = new Map(); // point id -> {hls, retry}

  const set = (scope, field, text) => {
    const el = scope.querySelector(`[data-field="${field}"]`);
    if (el && el.textContent !== text) el.textContent = text;
    return el;
  };
  const badge = (el, state) => { if (el) el.className = `gosd-state gosd-${state}`; };
  const when = (iso, none) => (iso ? new Date(iso).toISOString().slice(0, 16).replace("T", " ") + " UTC" : none);
  const telemetry = (t) => Object.entries(t).map(([k, v]) => `${k} ${v}`).join(" · ") || "none yet";

  function say(point, text) {
    const el = document.querySelector(`[data-point="${point}"] [data-field="video"]`);
    if (el) el.textContent = text;
  }

  function stopVideo(id) {
    const p = players.get(id);
    if (!p) return;
    clearTimeout(p.retry);
    if (p.hls) p.hls.destroy();
    players.delete(id);
    const video = document.querySelector(`[data-point="${id}"] video`);
    video.removeAttribute("src");
    video.load();
    say(id, "The point is not live: the video plays here while the node publishes it.");
  }

  function startVideo(id) {
    if (players.has(id)) return;
    const scope = document.querySelector(`[data-point="${id}"] [data-video]`);
    if (!scope) return;
    const video = scope.querySelector("video");
    const source = scope.dataset.video;
    const p = { hls: null, retry: null };
    players.set(id, p);
    if (!(window.Hls && Hls.isSupported())) {
      if (video.canPlayType("application/vnd.apple.mpegurl")) { video.src = source; video.play().catch(() => {}); }
      else say(id, "This browser cannot play HLS.");
      return;
    }
    say(id, "Connecting…");
    const open = () => {
      p.hls = new Hls({ enableWorker: false, liveSyncDurationCount: 2 });
      // The playlist appears a few seconds after the node starts publishing: a fatal error starts over.
      p.hls.on(Hls.Events.ERROR, (_, data) => {
        if (!data.fatal) return;
        p.hls.destroy();
        p.hls = null;
        say(id, "Waiting for the video…");
        p.retry = setTimeout(open, 2000);
      });
      p.hls.loadSource(source);
      p.hls.attachMedia(video);
      video.play().catch(() => {});
    };
    video.addEventListener("playing", () => say(id, "Playing the live video."));
    open();
  }

  // The board's rows and the plan form's choice of node follow the fleet: every event carries all its nodes.
  function syncNodes(nodes) {
    const ids = new Set(nodes.map((node) => String(node.id)));
    const body = document.querySelector("tbody[data-nodes]");
    const template = document.querySelector('template[data-field="node-row"]');
    if (body && template) {
      for (const row of body.querySelectorAll("tr[data-node]")) if (!ids.has(row.dataset.node)) row.remove();
      for (const node of nodes) {
        if (body.querySelector(`tr[data-node="${node.id}"]`)) continue;
        const row = template.content.firstElementChild.cloneNode(true);
        row.dataset.node = node.id;
        row.querySelector('[data-field="name"]').href = body.dataset.nodes + node.id;
        set(row, "number", `#${node.id}`);
        const after = [...body.children].find((other) => Number(other.dataset.node) > node.id);
        body.insertBefore(row, after || null);
      }
    }
    const select = document.querySelector('select[data-field="plan-nodes"]');
    if (select) {
      for (const option of [...select.options]) if (!ids.has(option.value)) option.remove();
      for (const node of nodes) {
        const text = `${node.name} (#${node.id}, ${node.typeName})`;
        const option = [...select.options].find((o) => o.value === String(node.id)) || select.appendChild(new Option());
        option.value = node.id;
        if (option.textContent !== text) option.textContent = text;
      }
    }
    const some = nodes.length > 0;
    for (const [field, shown] of [["nodes-table", some], ["no-nodes", !some], ["plan-form", some], ["no-plan-form", !some]]) {
      const el = document.querySelector(`[data-field="${field}"]`);
      if (el) el.hidden = !shown;
    }
    const page = document.querySelector("[data-gosd-events][data-node]");
    const gone = page && page.querySelector('[data-field="gone"]');
    if (gone) gone.hidden = ids.has(page.dataset.node);
  }

  function showNode(node) {
    for (const scope of document.querySelectorAll(`[data-node="${node.id}"]`)) {
      set(scope, "name", node.name);
      set(scope, "typeName", node.typeName);
      set(scope, "points", String(node.points.length));
      const presence = node.online ? "online" : "offline";
      badge(set(scope, "presence", presence), presence);
      set(scope, "telemetry", telemetry(node.telemetry));
      set(scope, "seenAt", when(node.seenAt, "never"));
      const list = scope.querySelector('[data-field="telemetry-list"]');
      if (list && Object.keys(node.telemetry).length) {
        list.replaceChildren(...Object.entries(node.telemetry).flatMap(([k, v]) => {
          const dt = document.createElement("dt"); dt.textContent = k;
          const dd = document.createElement("dd"); dd.textContent = String(v);
          return [dt, dd];
        }));
      }
    }
    for (const point of node.points) {
      const scope = document.querySelector(`[data-point="${point.id}"]`);
      if (!scope || !point.video) continue;
      const state = point.live ? "live" : "offline";
      badge(set(scope, "live", state === "live" ? "live" : "not live"), state);
      if (point.live) startVideo(point.id);
      else stopVideo(point.id);
    }
  }

  async function loadLog(scope) {
    const answer = await fetch(scope.dataset.log, { credentials: "same-origin" });
    if (answer.ok) set(scope, "log", await answer.text());
  }

  function showJob(job) {
    for (const scope of document.querySelectorAll(`[data-job="${job.id}"]`)) {
      const before = scope.querySelector('[data-field="state"]')?.textContent;
      badge(set(scope, "state", job.state), job.state);
      set(scope, "startedAt", when(job.startedAt, "not yet"));
      set(scope, "finishedAt", when(job.finishedAt, "not yet"));
      set(scope, "error", job.error || "none");
      const cancel = scope.querySelector('[data-field="cancel"]');
      if (cancel) cancel.hidden = job.ended;
      if (scope.dataset.log && job.hasLog && (before !== job.state || !scope.dataset.logLoaded)) {
        scope.dataset.logLoaded = "1";
        loadLog(scope).catch(() => {});
      }
    }
  }

  const events = new EventSource(box.dataset.gosdEvents);
  events.addEventListener("state", (event) => {
    const state = JSON.parse(event.data);
    syncNodes(state.nodes);
    for (const node of state.nodes) showNode(node);
    for (const job of state.jobs) showJob(job);
  });
})();
