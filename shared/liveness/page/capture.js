// The liveness capture page. Reads the session token (and the client-assets access token,
// when the app gave one) from the URL fragment (never sent to a server), removes them from the
// address bar, and uses the session token only as the Authorization header of the two
// client-route calls: GET (what to do) and POST (the captured frames). With the assets token
// it loads the in-browser face detector and guides the person frame by frame; without it (or
// if the detector cannot load) it captures on a timer as the instructions say.
import { closeCamera, jpeg, openCamera, still } from "./camera.js";
import { loadDetector } from "./detector.js";
import { CUES, cueFor, plan, yawRatio } from "./guidance.js";

const API_VERSION = "v1.2";
const KINDS = { detectLiveness: "detectLiveness", detectLivenessWithVerify: "detectLivenessWithVerify" };
const DECISIONS = { realface: "A live face was confirmed.", spoofface: "The check did not see a live face.",
                    uncertain: "The check could not decide. Please try again in good light." };
const LOOK_MS = 150; // at most about 6 looks a second: enough to guide, light on a phone
const TIMER_TICK_MS = 50;

const fragment = new URLSearchParams(window.location.hash.slice(1));
const token = fragment.get("authToken");
const assetsToken = fragment.get("assetsToken");
const kind = KINDS[fragment.get("kind")] || KINDS.detectLiveness;
window.history.replaceState(null, "", window.location.pathname + window.location.search);
const route = `/face/${API_VERSION}/${kind}/singleModal`;

const $ = (id) => document.getElementById(id);
const video = $("preview");
let session = null;
let stream = null;
let detector = null;
let stopping = false;

// Thrown inside the capture when the person presses Stop (nothing is sent).
class Stopped extends Error {}

function say(text) { $("instruction").textContent = text; }
function setState(state) { document.body.dataset.state = state; }
function progress(done, total) { $("progress").value = Math.round((100 * done) / total); }
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

// The live region is rewritten only when the cue changes, so a screen reader announces
// each change once instead of every look.
function showCue(cue) {
  if (document.body.dataset.cue === cue) return;
  document.body.dataset.cue = cue;
  $("cue").textContent = CUES[cue];
}

function clearCue() {
  delete document.body.dataset.cue;
  $("cue").textContent = "";
}

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
  clearCue();
  stopCamera();
}

async function prepareDetector() {
  if (!assetsToken) return null;
  try {
    return await loadDetector(assetsToken);
  } catch (error) {
    return null;
  }
}

async function load() {
  if (!token) { fail("This page needs a link with a session token."); return; }
  say("Loading…");
  const [{ response, json }, loaded] = await Promise.all([call("GET"), prepareDetector()]);
  if (!response.ok) { fail((json && json.error && json.error.message) || "This check is no longer available."); return; }
  session = json;
  detector = loaded;
  document.body.dataset.guidance = detector ? "on" : "off";
  if (session.attemptsRemaining < 1) { fail("This check has no attempts left."); return; }
  setState("ready");
  say(detector ? "Press “Start the camera”, then follow the hints to bring your face into the oval."
    : "Press “Start the camera”, then keep your face inside the oval.");
  $("start").disabled = false;
  $("start").focus();
}

async function startCamera() {
  stream = await openCamera(video);
  $("camera").hidden = false;
}

function stopCamera() {
  closeCamera(stream);
  stream = null;
  $("camera").hidden = true;
}

// A look at a still; if the detector fails (a device out of memory, say), the page goes on
// without guidance, on the timer, rather than stopping the check.
async function lookOrGiveUp(canvas) {
  try {
    return await detector.look(canvas);
  } catch (error) {
    detector = null;
    document.body.dataset.guidance = "off";
    clearCue();
    return null;
  }
}

// One step of the plan: looks at the camera until the step's pose is held (with the detector)
// or its time has come (without), and takes step.frames stills.
async function captureStep(step, frames, context) {
  const stepStarted = performance.now();
  let goodLooks = 0;
  let taken = 0;
  while (taken < step.frames) {
    if (stopping) throw new Stopped();
    const lookStarted = performance.now();
    const canvas = still(video);
    const look = detector ? await lookOrGiveUp(canvas) : null;
    let ready;
    if (look) {
      const cue = cueFor(look, step, context.previous, context.baseline);
      context.previous = look.faces.length === 1 ? look.faces[0] : null;
      showCue(cue);
      goodLooks = cue === "ok" ? goodLooks + 1 : 0;
      const overdue = step.patience !== undefined && lookStarted - stepStarted > step.patience;
      ready = goodLooks >= (taken ? 1 : step.settle) || overdue;
    } else {
      ready = lookStarted - stepStarted >= step.wait;
    }
    if (ready) {
      if (frames.length === 0 && look && look.faces.length === 1) context.baseline = yawRatio(look.faces[0]);
      frames.push({ blob: await jpeg(canvas), offset: Math.round(lookStarted - context.started) });
      taken += 1;
      progress(frames.length, context.total);
    }
    const rest = detector ? LOOK_MS : TIMER_TICK_MS;
    await pause(Math.max(ready ? step.gap : 0, rest - (performance.now() - lookStarted)));
  }
}

async function capture() {
  const steps = plan(session);
  const context = { started: performance.now(), total: steps.reduce((sum, step) => sum + step.frames, 0),
                    baseline: 0, previous: null };
  const frames = [];
  for (const step of steps) {
    say(step.text);
    await captureStep(step, frames, context);
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

// Stop: back to the start, camera off, nothing sent, no attempt used.
function stopped() {
  stopCamera();
  clearCue();
  progress(0, 1);
  setState("ready");
  say("Stopped. Nothing was sent. Press “Start the camera” when you are ready.");
  $("start").hidden = false;
  $("start").disabled = false;
  $("start").focus();
}

async function run() {
  stopping = false;
  $("start").disabled = true;
  $("start").hidden = true;
  $("retry").hidden = true;
  $("stop").hidden = false;
  $("outcome").hidden = true;
  delete document.body.dataset.decision;
  progress(0, 1);
  try {
    if (!stream) await startCamera();
    setState("capturing");
    const frames = await capture();
    $("stop").hidden = true;
    clearCue();
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
    if (error instanceof Stopped) { stopped(); return; }
    fail(error && error.name === "NotAllowedError" ? "The camera is needed for this check: please allow it."
      : "The camera could not be started on this device.");
  } finally {
    $("stop").hidden = true;
  }
}

$("start").addEventListener("click", run);
$("retry").addEventListener("click", run);
$("stop").addEventListener("click", () => { stopping = true; });
document.addEventListener("keydown", (event) => { if (event.key === "Escape" && !$("stop").hidden) stopping = true; });
load().catch(() => fail("The service could not be reached."));
