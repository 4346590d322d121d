// The liveness capture page. Reads the session token from the URL fragment (never sent to a
// server), removes it from the address bar, and uses it only as the Authorization header of
// the two client-route calls: GET (what to do) and POST (the captured frames).
"use strict";

(function () {
  const API_VERSION = "v1.2";
  const KINDS = { detectLiveness: "detectLiveness", detectLivenessWithVerify: "detectLivenessWithVerify" };
  const TURNS = { turnLeft: "Turn your head to your left", turnRight: "Turn your head to your right" };
  const DECISIONS = { realface: "A live face was confirmed.", spoofface: "The check did not see a live face.",
                      uncertain: "The check could not decide. Please try again in good light." };

  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const token = fragment.get("authToken");
  const kind = KINDS[fragment.get("kind")] || KINDS.detectLiveness;
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  const route = `/face/${API_VERSION}/${kind}/singleModal`;

  const $ = (id) => document.getElementById(id);
  const video = $("preview");
  let session = null;
  let stream = null;

  function say(text) { $("instruction").textContent = text; }
  function setState(state) { document.body.dataset.state = state; }
  function progress(done, total) { $("progress").value = Math.round((100 * done) / total); }
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function call(method, body, contentType) {
    const headers = { Authorization: `Bearer ${token}` };
    if (contentType) headers["Content-Type"] = contentType;
    const response = await fetch(route, { method, headers, body, cache: "no-store", credentials: "omit",
                                          referrerPolicy: "no-referrer" });
    let json = null;
    try { json = await response.json(); } catch (error) { json = null; }
    return { response, json };
  }

  function fail(text) {
    setState("error");
    say(text);
    stopCamera();
  }

  async function load() {
    if (!token) { fail("This page needs a link with a session token."); return; }
    const { response, json } = await call("GET");
    if (!response.ok) { fail((json && json.error && json.error.message) || "This check is no longer available."); return; }
    session = json;
    if (session.attemptsRemaining < 1) { fail("This check has no attempts left."); return; }
    setState("ready");
    say("Press “Start the camera”, then keep your face inside the oval.");
    $("start").disabled = false;
    $("start").focus();
  }

  async function startCamera() {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: false, video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } } });
    video.srcObject = stream;
    $("camera").hidden = false;
    await new Promise((resolve) => {
      if (video.readyState >= 2) resolve(); else video.onloadeddata = () => resolve();
    });
  }

  function stopCamera() {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    $("camera").hidden = true;
  }

  function grab() {
    // The camera's own (unmirrored) picture; the preview is only mirrored on screen.
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
  }

  // What to capture: [instruction, wait before capturing (ms), frames, ms between frames].
  function plan() {
    const steps = [["Look straight at the camera.", 1500, session.livenessOperationMode === "PassiveActive" ? 2 : 3, 300]];
    for (const turn of session.challenge || []) {
      steps.push([`${TURNS[turn]}.`, 900, 2, 250]);
      steps.push(["Look straight at the camera again.", 800, 1, 0]);
    }
    return steps;
  }

  async function capture() {
    const steps = plan();
    const total = steps.reduce((sum, step) => sum + step[2], 0);
    const frames = [];
    const started = performance.now();
    for (const [text, wait, count, gap] of steps) {
      say(text);
      await pause(wait);
      for (let i = 0; i < count; i += 1) {
        frames.push({ blob: await grab(), offset: Math.round(performance.now() - started) });
        progress(frames.length, total);
        if (gap) await pause(gap);
      }
    }
    return frames;
  }

  function deviceId() {
    const key = "face-liveness-device";
    let id = window.localStorage.getItem(key);
    if (!id) { id = crypto.randomUUID(); window.localStorage.setItem(key, id); }
    return id;
  }

  async function multipart(frames) {
    const boundary = "----liveness" + crypto.randomUUID().replace(/-/g, "");
    const metadata = { frames: frames.map((frame) => ({ timeOffsetMs: frame.offset })) };
    if (session.deviceCorrelationIdSetInClient) metadata.deviceCorrelationId = deviceId();
    const pieces = [`--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n` +
                    `Content-Type: application/json\r\n\r\n${JSON.stringify(metadata)}\r\n`];
    frames.forEach((frame, index) => {
      pieces.push(`--${boundary}\r\nContent-Disposition: form-data; name="frame"; filename="frame-${index}.jpg"\r\n` +
                  "Content-Type: image/jpeg\r\n\r\n", frame.blob, "\r\n");
    });
    pieces.push(`--${boundary}--\r\n`);
    const body = new Uint8Array(await new Blob(pieces).arrayBuffer());
    return { body, contentType: `multipart/form-data; boundary=${boundary}` };
  }

  async function sha256Hex(bytes) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
  }

  function showOutcome(json, sentDigest) {
    const outcome = $("outcome");
    outcome.hidden = false;
    let text;
    if (json.attemptStatus === "Failed") {
      text = (json.error && json.error.message) || "The check failed.";
    } else if (json.livenessDecision) {
      document.body.dataset.decision = json.livenessDecision;
      text = DECISIONS[json.livenessDecision] || json.livenessDecision;
    } else {
      text = "Done: your check was sent. You can close this page.";
    }
    $("outcome-text").textContent = text;
    const intact = json.digest === sentDigest;
    $("integrity").textContent = intact ? "The service received exactly what this page sent."
      : "Warning: the service received something other than what this page sent.";
    $("integrity").dataset.intact = String(intact);
    $("outcome-title").focus();
    const canRetry = json.attemptStatus === "Failed" || json.livenessDecision === "uncertain";
    $("retry").hidden = !(canRetry && json.attemptsRemaining > 0);
    setState("done");
  }

  async function run() {
    $("start").disabled = true;
    $("start").hidden = true;
    $("retry").hidden = true;
    $("outcome").hidden = true;
    delete document.body.dataset.decision;
    progress(0, 1);
    try {
      if (!stream) await startCamera();
      setState("capturing");
      const frames = await capture();
      say("Checking…");
      setState("sending");
      const { body, contentType } = await multipart(frames);
      const sentDigest = await sha256Hex(body);
      const { response, json } = await call("POST", body, contentType);
      stopCamera();
      if (!response.ok) { fail((json && json.error && json.error.message) || "The check could not be completed."); return; }
      say("Finished.");
      showOutcome(json, sentDigest);
    } catch (error) {
      fail(error && error.name === "NotAllowedError" ? "The camera is needed for this check: please allow it."
        : "The camera could not be started on this device.");
    }
  }

  $("start").addEventListener("click", run);
  $("retry").addEventListener("click", run);
  load().catch(() => fail("The service could not be reached."));
})();
