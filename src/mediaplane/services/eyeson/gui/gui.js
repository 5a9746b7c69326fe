/* The eyeson room GUI: one page, no build step, nothing from elsewhere.
 *
 * ?<access_key>        a user's link: check camera and microphone, join, meet, leave.
 * ?guest=<guest_token> the quick-join link: ask a name, become a guest user, then as above (a permalink's
 *                      guest link waits until a host has started the meeting).
 * ?permalink=<token>   a permalink host's link: start the meeting, or join the running one.
 *
 * The API is this instance's (relative to the page: the page lives at <instance>/gui/). Media is one WebRTC
 * offer/answer exchange (POST the complete offer, get the answer); the room's realtime events come over the
 * ActionCable websocket. <body data-state> says where the page is: loading, guest, prejoin, connecting,
 * connected, reconnecting, failed, left, ended, error.
 *
 * In the meeting: Share screen sends the screen on a second connection (`webrtc?source=screen`, video only,
 * nothing comes back on it); Start/Stop recording (where the room allows recordings) calls the recording API
 * and follows the recording's state from the room response and the `recording_update` events.
 * <body data-screen> is off, starting or on; <body data-recording> is off or on.
 */
(function () {
  "use strict";

  var API = new URL("../", document.baseURI);
  var ROOM_CHANNEL = JSON.stringify({ channel: "RoomChannel" });
  var ICE_GATHERING_LIMIT_MS = 5000;
  var SOCKET_SILENCE_MS = 12000;
  var VIDEO = { width: { ideal: 640 }, height: { ideal: 480 } };

  var $ = function (id) { return document.getElementById(id); };
  var ui = {
    body: document.body,
    title: $("room-name"),
    status: $("status"),
    guest: $("guest"),
    guestForm: $("guest-form"),
    guestName: $("guest-name"),
    call: $("call"),
    remote: $("remote"),
    preview: $("preview"),
    selfCaption: $("self-caption"),
    join: $("join"),
    mic: $("mic"),
    cam: $("cam"),
    leave: $("leave"),
    screen: $("screen"),
    record: $("record"),
    recording: $("recording"),
    cameraSelect: $("camera-select"),
    micSelect: $("mic-select"),
    side: $("side"),
    people: $("people"),
    peopleTitle: $("people-title"),
    chat: $("chat"),
    chatLog: $("chat-log"),
    chatForm: $("chat-form"),
    chatInput: $("chat-input"),
    end: $("end"),
    endText: $("end-text"),
    rejoin: $("rejoin")
  };

  var state = {
    accessKey: null,
    room: null,          // the room response
    local: null,         // MediaStream of the own camera and microphone
    micOn: true,
    camOn: true,
    pc: null,
    senders: { audio: null, video: null },
    remote: null,
    socket: null,
    socketTimer: null,
    reconnectDelay: 1000,
    participants: {},    // user id -> {id, name, online, guest}
    screen: null,        // the screen share: {pc, stream}
    recording: null,     // the meeting's running recording (as the API shows it), or null
    recordBusy: false,   // a start or stop request is on its way
    finished: false      // left or ended: nothing reconnects any more
  };

  // ---------------------------------------------------------------- page state

  var ACTIVE = { connecting: true, connected: true, reconnecting: true };

  function setState(name, message) {
    ui.body.setAttribute("data-state", name);
    if (message !== undefined) { say(message); }
    var inCall = name === "prejoin" || ACTIVE[name] === true;
    ui.guest.hidden = name !== "guest";
    ui.call.hidden = !inCall;
    ui.end.hidden = inCall || name === "guest" || name === "loading";
    ui.join.hidden = name !== "prejoin";
    ui.leave.hidden = !ACTIVE[name];
    ui.screen.hidden = !ACTIVE[name] || !canShareScreen();
    ui.record.hidden = !ACTIVE[name] || !recordingAvailable();
    showRecording();
    ui.remote.hidden = !ACTIVE[name];
    ui.side.hidden = !ACTIVE[name];
    ui.chat.hidden = hideChat();
    ui.rejoin.hidden = !(name === "left" || name === "failed");
    ui.selfCaption.textContent = name === "prejoin" ? "Your camera" : "You";
    if (!inCall && name !== "guest") { ui.endText.textContent = ui.status.textContent; }
  }

  function currentState() { return ui.body.getAttribute("data-state"); }

  function say(message) { ui.status.textContent = message; }

  function hideChat() {
    var options = (state.room && state.room.options) || {};
    var custom = options.custom_fields || {};
    return custom.hide_chat === true || custom.hide_chat === "true";
  }

  // ---------------------------------------------------------------- the API

  function apiUrl(path) { return new URL(path, API).toString(); }

  function request(method, url, body) {
    var init = { method: method, headers: {}, credentials: "same-origin" };
    if (body instanceof URLSearchParams) {
      init.body = body;
    } else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { status: response.status, ok: response.ok, data: data };
      });
    });
  }

  function errorText(result) {
    return (result.data && typeof result.data.error === "string") ? result.data.error : "HTTP " + result.status;
  }

  function roomPath(suffix) {
    return "rooms/" + encodeURIComponent(state.accessKey) + (suffix || "");
  }

  // The room response's links, where they point at this page's origin; else the same path next to the page
  // (a server behind a TLS proxy without its public URL set answers http:// links, which an https page may
  // not use).
  function sameOrigin(link, fallback) {
    if (typeof link !== "string" || !link) { return apiUrl(fallback); }
    try {
      var url = new URL(link, API);
      if (url.origin === location.origin) { return url.toString(); }
    } catch (e) { /* no link */ }
    return apiUrl(fallback);
  }

  function webrtcEndpoint() {
    var signaling = state.room && state.room.signaling;
    return sameOrigin(signaling && signaling.options && signaling.options.endpoint, roomPath("/webrtc"));
  }

  function socketUrl() {
    var link = state.room && state.room.links && state.room.links.websocket;
    var url = new URL(sameOrigin(link, "rt?access_key=" + encodeURIComponent(state.accessKey)));
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    return url.toString();
  }

  // ---------------------------------------------------------------- start: which link is this

  function start() {
    var query = location.search.replace(/^\?/, "");
    var params = new URLSearchParams(query);
    var guest = params.get("guest");
    if (guest) {
      askGuestName(guest);
      return;
    }
    var host = params.get("permalink");
    if (host) {
      startPermalink(host);
      return;
    }
    var first = query.split("&")[0].split("=")[0];
    var key = "";
    try { key = decodeURIComponent(first); } catch (e) { key = ""; }
    if (!key) {
      setState("error", "This link has no access key. Open the link you were given for the meeting.");
      return;
    }
    state.accessKey = key;
    request("GET", apiUrl(roomPath())).then(function (result) {
      if (result.status === 200) { roomLoaded(result.data); return; }
      failLoad(result);
    }, function () {
      setState("error", "The server cannot be reached. Check your connection and reload the page.");
    });
  }

  // A permalink host's link: starts the meeting, or joins the running one (the link stays the same).
  function startPermalink(token) {
    request("POST", apiUrl("permalink/" + encodeURIComponent(token))).then(function (result) {
      if (result.status === 201 && result.data && result.data.access_key) {
        state.accessKey = result.data.access_key;
        roomLoaded(result.data);
      } else if (result.status === 410) {
        setState("ended", "This meeting link has expired.");
      } else {
        failLoad(result);
      }
    }, function () {
      setState("error", "The server cannot be reached. Check your connection and reload the page.");
    });
  }

  function failLoad(result) {
    if (result.status === 410) {
      setState("ended", "The meeting has ended.");
    } else if (result.status === 404) {
      setState("error", "This meeting link is not valid.");
    } else {
      setState("error", "The room could not be loaded: " + errorText(result) + ".");
    }
  }

  function askGuestName(token) {
    var remembered = "";
    try { remembered = localStorage.getItem("eyeson.name") || ""; } catch (e) { remembered = ""; }
    ui.guestName.value = remembered;
    setState("guest", "Enter your name to join the meeting.");
    ui.guestName.focus();
    ui.guestForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var name = ui.guestName.value.trim();
      if (!name) { say("Please enter your name."); ui.guestName.focus(); return; }
      var button = ui.guestForm.querySelector("button");
      button.disabled = true;
      say("Joining as " + name + "…");
      var send = function () {
        request("POST", apiUrl("guests/" + encodeURIComponent(token)), new URLSearchParams({ name: name }))
          .then(function (result) {
            if (result.status === 423 && /not started/.test(errorText(result))) {
              // A permalink's guest link before a host started the meeting: wait, and try again.
              say("Waiting for a host to start the meeting…");
              setTimeout(send, 5000);
              return;
            }
            button.disabled = false;
            if (result.status === 201 && result.data && result.data.access_key) {
              try { localStorage.setItem("eyeson.name", name); } catch (e) { /* private mode */ }
              state.accessKey = result.data.access_key;
              // From now on this page is the guest's own link (a reload keeps the same user).
              history.replaceState(null, "", "?" + encodeURIComponent(state.accessKey));
              roomLoaded(result.data);
            } else if (result.status === 410) {
              setState("ended", "The meeting has ended.");
            } else if (result.status === 423) {
              say("The meeting is locked: no one else can join.");
            } else if (result.status === 401) {
              setState("error", "This guest link is not valid.");
            } else {
              say("Could not join: " + errorText(result) + ". Try again.");
            }
          }, function () {
            button.disabled = false;
            say("The server cannot be reached. Try again.");
          });
      };
      send();
    });
  }

  // ---------------------------------------------------------------- before joining

  function roomLoaded(room) {
    state.room = room;
    state.recording = running(room.recording);
    var name = (room.room && room.room.name) || "eyeson room";
    ui.title.textContent = name;
    document.title = name + " – eyeson";
    setState("prejoin", "Getting your camera and microphone…");
    openSocket();
    startLocalMedia().then(function () {
      ui.join.disabled = false;
      if (state.local && state.local.getTracks().length) {
        say("Check your camera and microphone, then join.");
      } else {
        say("No camera or microphone: you can still join to watch and listen.");
      }
      ui.join.focus();
    });
  }

  function getUserMedia(constraints) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.reject(new Error("this browser cannot use cameras here (HTTPS is needed)"));
    }
    return navigator.mediaDevices.getUserMedia(constraints);
  }

  function videoConstraint(deviceId) {
    var c = { width: VIDEO.width, height: VIDEO.height };
    if (deviceId) { c.deviceId = { exact: deviceId }; }
    return c;
  }

  function audioConstraint(deviceId) {
    return deviceId ? { deviceId: { exact: deviceId } } : true;
  }

  function startLocalMedia() {
    var tries = [
      { audio: true, video: videoConstraint() },
      { video: videoConstraint() },
      { audio: true }
    ];
    var attempt = function (i, lastError) {
      if (i >= tries.length) { return Promise.resolve({ stream: null, error: lastError }); }
      return getUserMedia(tries[i]).then(function (stream) {
        return { stream: stream, error: null };
      }, function (error) { return attempt(i + 1, error); });
    };
    return attempt(0, null).then(function (got) {
      state.local = got.stream || new MediaStream();
      ui.preview.srcObject = state.local;
      playQuietly(ui.preview);
      if (got.error) { console.warn("eyeson: no camera or microphone:", got.error); }
      updateToggles();
      return listDevices();
    });
  }

  function track(kind) {
    if (!state.local) { return null; }
    var tracks = kind === "audio" ? state.local.getAudioTracks() : state.local.getVideoTracks();
    return tracks.length ? tracks[0] : null;
  }

  function listDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) { return Promise.resolve(); }
    return navigator.mediaDevices.enumerateDevices().then(function (devices) {
      fillSelect(ui.cameraSelect, devices, "videoinput", track("video"), "Camera", "No camera");
      fillSelect(ui.micSelect, devices, "audioinput", track("audio"), "Microphone", "No microphone");
    }, function () { /* no list: the selects stay as they are */ });
  }

  function fillSelect(select, devices, kind, current, noun, none) {
    var currentId = current && current.getSettings ? current.getSettings().deviceId : null;
    var mine = devices.filter(function (d) { return d.kind === kind && d.deviceId; });
    select.textContent = "";
    mine.forEach(function (device, i) {
      var option = document.createElement("option");
      option.value = device.deviceId;
      option.textContent = device.label || noun + " " + (i + 1);
      if (device.deviceId === currentId) { option.selected = true; }
      select.appendChild(option);
    });
    if (!mine.length) {
      var option = document.createElement("option");
      option.value = "";
      option.textContent = none;
      select.appendChild(option);
    }
    select.disabled = !mine.length;
  }

  function switchDevice(kind) {
    var select = kind === "audio" ? ui.micSelect : ui.cameraSelect;
    var deviceId = select.value;
    if (!deviceId) { return; }
    var old = track(kind);
    var constraints = kind === "audio" ? { audio: audioConstraint(deviceId) } : { video: videoConstraint(deviceId) };
    say("Switching " + (kind === "audio" ? "microphone" : "camera") + "…");
    getUserMedia(constraints).catch(function (error) {
      // Some devices open only once: let the old one go, then try again.
      if (!old) { throw error; }
      old.stop();
      return getUserMedia(constraints);
    }).then(function (stream) {
      var fresh = stream.getTracks()[0];
      fresh.enabled = kind === "audio" ? state.micOn : state.camOn;
      if (old) { state.local.removeTrack(old); }
      state.local.addTrack(fresh);
      ui.preview.srcObject = state.local;
      playQuietly(ui.preview);
      var sender = state.senders[kind];
      var replaced = sender ? sender.replaceTrack(fresh) : Promise.resolve();
      return replaced.then(function () {
        if (old && old !== fresh) { old.stop(); }
        updateToggles();
        say((kind === "audio" ? "Microphone" : "Camera") + " switched." + connectedSuffix());
      });
    }).catch(function (error) {
      updateToggles();
      say("Could not switch the " + (kind === "audio" ? "microphone" : "camera") + ": " + describe(error) + ".");
    });
  }

  function connectedSuffix() {
    return currentState() === "connected" ? " Connected." : "";
  }

  function describe(error) {
    return (error && (error.message || error.name)) || String(error);
  }

  function playQuietly(video) {
    var played = video.play && video.play();
    if (played && played.catch) { played.catch(function () { /* autoplay refused: the user can click */ }); }
  }

  // ---------------------------------------------------------------- mute, camera

  function updateToggles() {
    var audio = track("audio");
    var video = track("video");
    ui.mic.disabled = !audio;
    ui.cam.disabled = !video;
    ui.mic.textContent = state.micOn ? "Mute microphone" : "Unmute microphone";
    ui.mic.setAttribute("aria-pressed", String(!state.micOn));
    ui.cam.textContent = state.camOn ? "Turn camera off" : "Turn camera on";
    ui.cam.setAttribute("aria-pressed", String(!state.camOn));
    if (audio) { audio.enabled = state.micOn; }
    if (video) { video.enabled = state.camOn; }
  }

  ui.mic.addEventListener("click", function () {
    state.micOn = !state.micOn;
    updateToggles();
    say((state.micOn ? "Microphone on." : "Microphone muted.") + connectedSuffix());
  });

  ui.cam.addEventListener("click", function () {
    state.camOn = !state.camOn;
    updateToggles();
    say((state.camOn ? "Camera on." : "Camera off.") + connectedSuffix());
  });

  ui.cameraSelect.addEventListener("change", function () { switchDevice("video"); });
  ui.micSelect.addEventListener("change", function () { switchDevice("audio"); });
  if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
    navigator.mediaDevices.addEventListener("devicechange", function () { listDevices(); });
  }


  // ---------------------------------------------------------------- screen sharing: a second connection

  function canShareScreen() {
    return Boolean(navigator.mediaDevices && typeof navigator.mediaDevices.getDisplayMedia === "function" &&
      window.RTCPeerConnection);
  }

  function screenEndpoint() {
    var url = new URL(webrtcEndpoint());
    url.searchParams.set("source", "screen");
    return url.toString();
  }

  function showScreen(mode) {
    ui.body.setAttribute("data-screen", mode);
    ui.screen.textContent = mode === "off" ? "Share screen" : "Stop sharing";
    ui.screen.setAttribute("aria-pressed", String(mode !== "off"));
    ui.screen.disabled = mode === "starting";
  }

  ui.screen.addEventListener("click", function () {
    if (state.screen) {
      stopScreen(true);
      say("You stopped sharing your screen." + connectedSuffix());
    } else {
      shareScreen();
    }
  });

  function shareScreen() {
    showScreen("starting");
    say("Choose what to share…");
    navigator.mediaDevices.getDisplayMedia({ video: true, audio: false }).then(function (stream) {
      var video = stream.getVideoTracks()[0];
      if (!video || state.finished || !state.pc) {
        stream.getTracks().forEach(function (t) { t.stop(); });
        showScreen("off");
        return null;
      }
      var pc = new RTCPeerConnection({ iceServers: iceServers() });
      var share = { pc: pc, stream: stream };
      state.screen = share;
      // The browser's own "Stop sharing" ends the track: stop here too.
      video.addEventListener("ended", function () {
        if (state.screen === share) { stopScreen(true); say("Screen sharing stopped." + connectedSuffix()); }
      });
      pc.addTransceiver(video, { direction: "sendonly", streams: [stream] });
      pc.addEventListener("connectionstatechange", function () {
        if (state.screen === share && pc.connectionState === "failed") {
          stopScreen(true);
          say("Screen sharing failed: the connection broke.");
        }
      });
      say("Sharing your screen…");
      return pc.createOffer()
        .then(function (offer) { return pc.setLocalDescription(offer); })
        .then(function () { return gatheringComplete(pc); })
        .then(function () {
          return request("POST", screenEndpoint(), { type: "offer", sdp: pc.localDescription.sdp });
        })
        .then(function (result) {
          if (state.screen !== share) { return null; }
          if (result.status !== 201 || !result.data || !result.data.sdp) {
            if (result.status === 410) { meetingEnded(); return null; }
            throw new Error(errorText(result));
          }
          return pc.setRemoteDescription({ type: "answer", sdp: result.data.sdp }).then(function () {
            showScreen("on");
            say("You are sharing your screen." + connectedSuffix());
          });
        });
    }).catch(function (error) {
      stopScreen(false);
      var refused = error && (error.name === "NotAllowedError" || error.name === "AbortError");
      say(refused ? "Screen sharing was cancelled." : "Could not share your screen: " + describe(error) + ".");
    });
  }

  // Ends the screen share here; `tell`: also ask the server to drop it (leaving drops it there anyway).
  function stopScreen(tell) {
    var share = state.screen;
    state.screen = null;
    showScreen("off");
    if (!share) { return; }
    share.pc.close();
    share.stream.getTracks().forEach(function (t) { t.stop(); });
    if (tell && state.accessKey) { request("DELETE", screenEndpoint()).catch(function () { return null; }); }
  }

  // ---------------------------------------------------------------- recording

  function recordingAvailable() {
    var options = (state.room && state.room.options) || {};
    return options.recording_available !== false && options.recording_available !== "false";
  }

  function running(recording) {
    return recording && typeof recording === "object" && recording.status === "recording" ? recording : null;
  }

  function showRecording() {
    var on = Boolean(state.recording);
    ui.body.setAttribute("data-recording", on ? "on" : "off");
    ui.record.textContent = on ? "Stop recording" : "Start recording";
    ui.record.disabled = state.recordBusy;
    ui.recording.hidden = !on || !ACTIVE[currentState()];
  }

  // What the server says about the meeting's recording (a response, an event): says so when it changes.
  function recordingChanged(recording) {
    if (!recording || typeof recording !== "object") { return; }
    var now = running(recording);
    var was = state.recording;
    if (now) {
      state.recording = now;
      if (!was) {
        var who = now.user && now.user.id !== me().id && now.user.name ? now.user.name + " started" : "Started";
        say(who + " recording the meeting.");
      }
    } else if (!was || !recording.id || !was.id || was.id === recording.id) {
      state.recording = null;
      if (recording.status === "ready") {
        say("The recording is ready.");
      } else if (recording.status === "failed") {
        say("The recording failed.");
      } else if (was) {
        say("Recording stopped; the file is being finished.");
      }
    }
    showRecording();
  }

  ui.record.addEventListener("click", function () {
    if (state.recordBusy) { return; }
    state.recordBusy = true;
    var stopping = Boolean(state.recording);
    showRecording();
    say(stopping ? "Stopping the recording…" : "Starting the recording…");
    request(stopping ? "DELETE" : "POST", apiUrl(roomPath("/recording"))).then(function (result) {
      state.recordBusy = false;
      if (result.status === 201 && result.data) {
        recordingChanged(result.data);
      } else if (result.status === 200 && stopping) {
        recordingChanged({ id: result.data && result.data.id, status: "stopped" });
      } else if (result.status === 404 && stopping) {
        state.recording = null;
        say("No recording is running.");
      } else if (result.status === 406) {
        state.recording = state.recording || { status: "recording" };
        say("A recording is running already.");
      } else if (result.status === 405) {
        if (state.room.options) { state.room.options.recording_available = false; }
        ui.record.hidden = true;
        say("Recording is not available in this room.");
      } else if (result.status === 410) {
        meetingEnded();
      } else {
        say("The recording could not be " + (stopping ? "stopped" : "started") + ": " + errorText(result) + ".");
      }
      showRecording();
    }, function () {
      state.recordBusy = false;
      showRecording();
      say("The server cannot be reached. Try again.");
    });
  });

  // ---------------------------------------------------------------- joining: one offer, one answer

  ui.join.addEventListener("click", join);

  function join() {
    if (state.pc) { return; }
    ui.join.disabled = true;
    setState("connecting", "Connecting…");
    var pc = new RTCPeerConnection({ iceServers: iceServers() });
    state.pc = pc;
    state.remote = new MediaStream();
    ui.remote.srcObject = state.remote;
    var streams = state.local ? [state.local] : [];
    ["audio", "video"].forEach(function (kind) {
      var own = track(kind);
      var transceiver = pc.addTransceiver(own || kind, { direction: "sendrecv", streams: streams });
      state.senders[kind] = transceiver.sender;
    });
    pc.addEventListener("track", function (event) {
      if (state.remote.getTracks().indexOf(event.track) < 0) { state.remote.addTrack(event.track); }
      ui.remote.srcObject = state.remote;
      playQuietly(ui.remote);
    });
    pc.addEventListener("connectionstatechange", function () { connectionChanged(pc); });
    pc.addEventListener("iceconnectionstatechange", function () { connectionChanged(pc); });

    pc.createOffer()
      .then(function (offer) { return pc.setLocalDescription(offer); })
      .then(function () { return gatheringComplete(pc); })
      .then(function () {
        return request("POST", webrtcEndpoint(), { type: "offer", sdp: pc.localDescription.sdp });
      })
      .then(function (result) {
        if (pc !== state.pc) { return null; }
        if (result.status !== 201 || !result.data || !result.data.sdp) {
          if (result.status === 410) { meetingEnded(); return null; }
          throw new Error(errorText(result));
        }
        return pc.setRemoteDescription({ type: "answer", sdp: result.data.sdp });
      })
      .catch(function (error) {
        if (pc !== state.pc) { return; }
        closeMedia(false);
        setState("failed", "Could not connect: " + describe(error) + ".");
      });
  }

  function iceServers() {
    var stun = (state.room.signaling && state.room.signaling.options &&
      state.room.signaling.options.stun_servers) || [];
    return stun.length ? [{ urls: stun }] : [];
  }

  function gatheringComplete(pc) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === "complete") { resolve(); return; }
      var timer = setTimeout(done, ICE_GATHERING_LIMIT_MS);
      function done() {
        clearTimeout(timer);
        pc.removeEventListener("icegatheringstatechange", check);
        pc.removeEventListener("icecandidate", last);
        resolve();
      }
      function check() { if (pc.iceGatheringState === "complete") { done(); } }
      function last(event) { if (!event.candidate) { done(); } }
      pc.addEventListener("icegatheringstatechange", check);
      pc.addEventListener("icecandidate", last);
    });
  }

  function connectionChanged(pc) {
    if (pc !== state.pc || state.finished) { return; }
    // Firefox before 113 has no connectionState: its ICE state says the same.
    var s = pc.connectionState || { checking: "connecting", completed: "connected" }[pc.iceConnectionState] ||
      pc.iceConnectionState;
    if (s === "connected") {
      if (currentState() !== "connected") { setState("connected", "Connected."); }
    } else if (s === "disconnected") {
      setState("reconnecting", "The connection is interrupted; reconnecting…");
    } else if (s === "failed") {
      closeMedia(false);
      setState("failed", "The media connection failed. Check your network and join again.");
    }
  }

  // ---------------------------------------------------------------- leaving

  ui.leave.addEventListener("click", leave);
  ui.rejoin.addEventListener("click", function () { location.reload(); });

  function leave() {
    state.finished = true;
    var hadMedia = closeMedia(true);
    closeSocket();
    var told = hadMedia ? request("DELETE", webrtcEndpoint()).catch(function () { return null; }) : Promise.resolve();
    told.then(function () {
      var exit = exitUrl();
      stopLocal();
      setState("left", "You left the meeting.");
      if (exit) {
        location.assign(exit);
      } else {
        ui.rejoin.focus();
      }
    });
  }

  function exitUrl() {
    var options = (state.room && state.room.options) || {};
    if (!options.exit_url) { return null; }
    try {
      var url = new URL(options.exit_url, location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.toString() : null;
    } catch (e) {
      return null;
    }
  }

  function closeMedia(keepLocal) {
    stopScreen(false);  // the server drops the screen with its user's media
    var pc = state.pc;
    state.pc = null;
    state.senders = { audio: null, video: null };
    if (pc) { pc.close(); }
    if (state.remote) { state.remote.getTracks().forEach(function (t) { t.stop(); }); }
    ui.remote.srcObject = null;
    if (!keepLocal) { ui.join.disabled = false; }
    return Boolean(pc);
  }

  function stopLocal() {
    if (state.local) { state.local.getTracks().forEach(function (t) { t.stop(); }); }
    ui.preview.srcObject = null;
  }

  function meetingEnded() {
    if (currentState() === "ended") { return; }
    state.finished = true;
    closeMedia(true);
    stopLocal();
    closeSocket();
    setState("ended", "The meeting has ended.");
  }

  window.addEventListener("pagehide", function () {
    if (state.pc) {
      // Going away without Leave: tell the server now rather than after the ICE timeout.
      try { fetch(webrtcEndpoint(), { method: "DELETE", keepalive: true }); } catch (e) { /* best effort */ }
    }
  });

  // ---------------------------------------------------------------- realtime: ActionCable

  function openSocket() {
    if (state.finished || state.socket) { return; }
    var socket;
    try {
      socket = new WebSocket(socketUrl(), ["actioncable-v1-json", "actioncable-unsupported"]);
    } catch (e) {
      console.warn("eyeson: realtime not available:", e);
      return;
    }
    state.socket = socket;
    watchSocket(socket);
    socket.addEventListener("message", function (event) {
      watchSocket(socket);
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      onFrame(socket, frame);
    });
    socket.addEventListener("close", function () {
      if (state.socket !== socket) { return; }
      state.socket = null;
      clearTimeout(state.socketTimer);
      if (!state.finished) { afterSocketLoss(); }
    });
  }

  function watchSocket(socket) {
    clearTimeout(state.socketTimer);
    // The server pings every 3 s: silence this long means the connection is gone.
    state.socketTimer = setTimeout(function () { socket.close(); }, SOCKET_SILENCE_MS);
  }

  function closeSocket() {
    clearTimeout(state.socketTimer);
    var socket = state.socket;
    state.socket = null;
    if (socket) { socket.close(); }
  }

  function afterSocketLoss() {
    // Was it the meeting that ended? Otherwise try again, a little later each time.
    request("GET", apiUrl(roomPath())).then(function (result) {
      if (result.status === 410) { meetingEnded(); return; }
      retrySocket();
    }, retrySocket);
  }

  function retrySocket() {
    var delay = state.reconnectDelay;
    state.reconnectDelay = Math.min(delay * 2, 15000);
    setTimeout(openSocket, delay);
  }

  function onFrame(socket, frame) {
    if (frame.type === "welcome") {
      socket.send(JSON.stringify({ command: "subscribe", identifier: ROOM_CHANNEL }));
    } else if (frame.type === "confirm_subscription") {
      state.reconnectDelay = 1000;
    } else if (frame.type === "disconnect") {
      closeSocket();
      if (!state.finished) { afterSocketLoss(); }
    } else if (frame.identifier === ROOM_CHANNEL && frame.message && typeof frame.message === "object") {
      onEvent(frame.message);
    }
  }

  function onEvent(event) {
    if (event.type === "room_update" && event.content) {
      var content = event.content;
      if (content.options) { state.room.options = content.options; ui.chat.hidden = hideChat(); }
      if (Array.isArray(content.participants)) {
        state.participants = {};
        content.participants.forEach(function (p) { state.participants[p.id] = p; });
        renderPeople();
      }
      if ("recording" in content) {
        if (content.recording) { recordingChanged(content.recording); } else if (state.recording) {
          state.recording = null;
          showRecording();
        }
      }
      if (content.shutdown) { meetingEnded(); }
    } else if (event.type === "participant_update" && event.participant) {
      var p = event.participant;
      state.participants[p.id] = Object.assign(state.participants[p.id] || {}, p);
      renderPeople();
    } else if (event.type === "options_update" && event.options) {
      state.room.options = Object.assign({}, state.room.options, event.options);
      ui.chat.hidden = hideChat();
    } else if (event.type === "recording_update") {
      recordingChanged(event.recording);
    } else if (event.type === "chat") {
      addChat(event);
    }
  }

  // ---------------------------------------------------------------- people and chat

  function me() { return (state.room && state.room.user) || {}; }

  function renderPeople() {
    var everyone = Object.keys(state.participants).map(function (id) { return state.participants[id]; });
    everyone.sort(function (a, b) {
      return (b.online === true) - (a.online === true) || String(a.name).localeCompare(String(b.name));
    });
    ui.people.textContent = "";
    var online = 0;
    everyone.forEach(function (p) {
      if (p.online) { online += 1; }
      var li = document.createElement("li");
      li.className = p.online ? "online" : "offline";
      li.setAttribute("data-user-id", p.id);
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = (p.name || "Someone") + (p.id === me().id ? " (you)" : "") + (p.guest ? " · guest" : "");
      var presence = document.createElement("span");
      presence.className = "presence";
      presence.textContent = (p.online ? "online" : "offline") + (p.screen ? " · sharing screen" : "");
      li.appendChild(name);
      li.appendChild(presence);
      ui.people.appendChild(li);
    });
    ui.peopleTitle.textContent = "People (" + online + " online)";
  }

  function addChat(event) {
    var from = event.user_id || event.cid;
    var who = from === me().id ? "You" : ((state.participants[from] || {}).name || "Someone");
    var li = document.createElement("li");
    var name = document.createElement("span");
    name.className = "who";
    name.textContent = who;
    li.appendChild(name);
    var when = new Date(event.created_at);
    if (!isNaN(when.getTime())) {
      var time = document.createElement("time");
      time.dateTime = when.toISOString();
      time.textContent = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      li.appendChild(time);
    }
    var text = document.createElement("p");
    text.textContent = String(event.content);
    li.appendChild(text);
    ui.chatLog.appendChild(li);
    ui.chatLog.scrollTop = ui.chatLog.scrollHeight;
  }

  ui.chatForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var content = ui.chatInput.value;
    if (!content.trim()) { return; }
    var button = ui.chatForm.querySelector("button");
    button.disabled = true;
    request("POST", apiUrl(roomPath("/messages")), new URLSearchParams({ type: "chat", content: content }))
      .then(function (result) {
        button.disabled = false;
        if (result.status === 201) {
          ui.chatInput.value = "";
        } else if (result.status === 410) {
          meetingEnded();
        } else {
          say("The message was not sent: " + errorText(result) + ".");
        }
        ui.chatInput.focus();
      }, function () {
        button.disabled = false;
        say("The message was not sent: the server cannot be reached.");
      });
  });

  showScreen("off");
  showRecording();
  start();
})();
