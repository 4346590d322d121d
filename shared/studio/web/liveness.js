// Liveness: create a session (either mode, with or without verify), open the capture page on
// this device or on a phone through a QR code, and watch the result arrive. The session's
// token goes only into the capture link's fragment (which no browser sends to a server) and
// the QR code made from it.
import { pause, request } from "./api.js";
import { el, field, photoPicker, runTask, select, showInfo, statusLine, table, when } from "./ui.js";

const GA = "/face/v1.2";
const KINDS = { detectLiveness: "detectLiveness-sessions", detectLivenessWithVerify: "detectLivenessWithVerify-sessions" };
const FINISHED = ["Succeeded", "Failed"];

// A random UUID; crypto.randomUUID exists only in secure contexts (not plain http on a LAN).
function randomUuid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function createSession(kind, mode, sessionImage, verifyPhoto, signal) {
  const fields = { livenessOperationMode: mode, deviceCorrelationId: randomUuid(), enableSessionImage: sessionImage };
  if (kind === "detectLiveness") return request("POST", `${GA}/${KINDS[kind]}`, { json: fields, signal });
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, String(value));
  form.append("verifyImage", verifyPhoto.blob, verifyPhoto.name || "verify.jpg");
  return request("POST", `${GA}/${KINDS[kind]}`, { body: form, signal });
}

async function qrCode(text, signal) {
  const response = await request("POST", "/studio/qr", { json: { text }, signal, raw: true });
  const svg = await response.blob();
  return el("img", { src: URL.createObjectURL(svg), alt: "QR code of the capture page link", class: "qr", id: "liveness-qr" });
}

function resultView(session) {
  const attempts = (session.results && session.results.attempts) || [];
  return table([
    { label: "Attempt", value: (a) => a.attemptId },
    { label: "Status", value: (a) => a.attemptStatus },
    { label: "Decision", value: (a) => (a.result ? a.result.livenessDecision : a.error ? `${a.error.code}: ${a.error.message}` : "-") },
    { label: "Verify", value: (a) => (a.result && a.result.verifyResult ? `${a.result.verifyResult.isIdentical ? "match" : "no match"} (${a.result.verifyResult.matchConfidence.toFixed(3)})` : "-") },
  ], attempts, `Session ${session.sessionId}: ${session.status}`);
}

export function build(panel) {
  const status = statusLine();
  const kind = select(Object.keys(KINDS), "detectLiveness");
  kind.id = "liveness-kind";
  const mode = select(["Passive", "PassiveActive"], "Passive");
  mode.id = "liveness-mode";
  const sessionImage = el("input", { type: "checkbox" });
  let verifyPhoto = null;
  const verifyPicker = photoPicker("Verify image (with verify only)", ([picked]) => { verifyPhoto = picked; }, { url: false });
  const create = el("button", { type: "button", id: "liveness-create", text: "Create session" });
  const handoff = el("div", { id: "liveness-handoff" });
  const result = el("div", { id: "liveness-result" });

  create.addEventListener("click", () => runTask(create, status, async (signal) => {
    if (kind.value === "detectLivenessWithVerify" && !verifyPhoto) {
      throw Object.assign(new Error("A session with verify needs a verify image."), { code: "BadArgument", advice: "Choose the reference photo first." });
    }
    const session = await createSession(kind.value, mode.value, sessionImage.checked, verifyPhoto, signal);
    const link = `${window.location.origin}/liveness#authToken=${encodeURIComponent(session.authToken)}&kind=${kind.value}`;
    const sessionPath = `${GA}/${KINDS[kind.value]}/${session.sessionId}`;
    handoff.replaceChildren(
      el("p", {}, "Session ", el("code", { text: session.sessionId }), ` (${session.status}), deleted with all its data 48 hours after creation.`),
      el("p", {}, el("a", { href: link, target: "_blank", rel: "noopener noreferrer", id: "liveness-open", text: "Open the capture page on this device" })),
      el("figure", {}, await qrCode(link, signal), el("figcaption", { text: "Or scan this on a phone." })),
      el("button", { type: "button", class: "danger", text: "Delete the session now",
        onclick: (event) => runTask(event.target, status, async (s) => {
          await request("DELETE", sessionPath, { signal: s });
          showInfo(status, "Session deleted.");
        }) }));
    showInfo(status, "Waiting for the device…");
    document.body.dataset.liveness = "waiting";
    for (;;) {
      const read = await request("GET", sessionPath, { signal });
      result.replaceChildren(resultView(read));
      const attempts = (read.results && read.results.attempts) || [];
      const last = attempts[attempts.length - 1];
      if (last && FINISHED.includes(last.attemptStatus)) {
        const decision = last.result ? last.result.livenessDecision : "error";
        result.dataset.decision = decision;
        document.body.dataset.liveness = decision;
        showInfo(status, `Result: ${decision} at ${when(new Date())}.`);
        return;
      }
      await pause(1000, signal);
    }
  }));

  panel.append(el("section", { "aria-labelledby": "liveness-title" },
    el("h2", { id: "liveness-title", text: "Liveness" }),
    el("div", { class: "row" }, field("Kind", kind), field("Mode", mode), field("Keep the session image", sessionImage)),
    verifyPicker, el("div", { class: "row" }, create), status, handoff, result));
}
