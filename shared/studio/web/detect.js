// Detect: a photo (drop, paste, file or URL), the models and attributes to ask for; every face
// boxed with its 27 landmarks drawn, attributes and quality listed, each faceId with a live
// countdown to its expiry. Verify: two photos compared, with the confidence.
import { request } from "./api.js";
import { el, field, photoBody, photoPicker, runTask, select, showInfo, statusLine } from "./ui.js";

const API = "/face/v1.2";
const DETECTION_MODELS = ["detection_01", "detection_02", "detection_03"];
const RECOGNITION_MODELS = ["recognition_01", "recognition_02", "recognition_03", "recognition_04"];
// The attributes this service computes, per detection model (the others answer BadArgument);
// qualityForRecognition needs recognition_03 or recognition_04.
const ATTRIBUTES = {
  detection_01: ["headPose", "blur", "exposure", "noise", "qualityForRecognition"],
  detection_02: [],
  detection_03: ["headPose", "blur", "qualityForRecognition"],
};
const QUALITY_MODELS = ["recognition_03", "recognition_04"];
export const BOX_COLOUR = "#ffd400";
export const LANDMARK_COLOUR = "#00ff00";
const MAX_WIDTH = 640;
let countdowns = [];

export function detectQuery({ detectionModel, recognitionModel, landmarks, attributes, ttl }) {
  const query = new URLSearchParams({ detectionModel, recognitionModel, returnFaceId: "true",
    returnFaceLandmarks: String(landmarks), returnRecognitionModel: "true", faceIdTimeToLive: String(ttl) });
  if (attributes.length) query.set("returnFaceAttributes", attributes.join(","));
  return `${API}/detect?${query}`;
}

// Draw the photo scaled to fit, each face's box and landmark points; returns the scale.
async function draw(canvas, photo, faces) {
  const context = canvas.getContext("2d");
  if (!photo.blob) {
    canvas.width = 0;
    canvas.height = 0;
    return 0;
  }
  const bitmap = await createImageBitmap(photo.blob);
  const scale = Math.min(1, MAX_WIDTH / bitmap.width);
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  context.lineWidth = 2;
  context.strokeStyle = BOX_COLOUR;
  context.fillStyle = LANDMARK_COLOUR;
  faces.forEach((face, index) => {
    const box = face.faceRectangle;
    context.strokeRect(box.left * scale, box.top * scale, box.width * scale, box.height * scale);
    context.font = "bold 14px sans-serif";
    context.fillText(String(index + 1), box.left * scale + 3, box.top * scale - 4);
    for (const point of Object.values(face.faceLandmarks || {})) {
      context.beginPath();
      context.arc(point.x * scale, point.y * scale, 2.5, 0, 2 * Math.PI);
      context.fill();
    }
  });
  canvas.dataset.scale = String(scale);
  return scale;
}

function countdown(expires) {
  const output = el("output", { class: "countdown" });
  const tick = () => {
    const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    output.textContent = left ? `expires in ${left} s` : "expired";
    output.dataset.expired = String(!left);
    return left;
  };
  tick();
  const timer = setInterval(() => { if (!tick()) clearInterval(timer); }, 1000);
  countdowns.push(timer);
  return output;
}

function describe(value) {
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return value.map(describe).join(", ") || "none";
  return Object.entries(value).map(([name, item]) => `${name}: ${typeof item === "number" ? Number(item.toFixed(3)) : describe(item)}`).join("; ");
}

function faceCard(face, index, expires) {
  const attributes = Object.entries(face.faceAttributes || {});
  return el("article", { class: "face", "aria-label": `Face ${index + 1}` },
    el("h4", { text: `Face ${index + 1}` }),
    el("dl", {},
      el("dt", { text: "faceId" }), el("dd", {}, el("code", { text: face.faceId || "-" }), " ", face.faceId ? countdown(expires) : ""),
      el("dt", { text: "Rectangle" }), el("dd", { text: describe(face.faceRectangle) }),
      el("dt", { text: "Landmarks" }), el("dd", { text: `${Object.keys(face.faceLandmarks || {}).length} drawn` }),
      attributes.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: describe(value) })])));
}

function detectPanel() {
  const status = statusLine();
  const canvas = el("canvas", { id: "detect-canvas", role: "img", "aria-label": "The photo with the faces found" });
  const faces = el("div", { class: "faces", id: "detect-faces" });
  const detection = select(DETECTION_MODELS, "detection_03");
  const recognition = select(RECOGNITION_MODELS, "recognition_04");
  const landmarks = el("input", { type: "checkbox", checked: true });
  const ttl = el("input", { type: "number", min: "60", max: "86400", value: "600" });
  const boxes = ATTRIBUTES.detection_01.map((name) => el("input", { type: "checkbox", value: name, checked: true }));
  const offered = () => boxes.forEach((box) => {
    box.disabled = !ATTRIBUTES[detection.value].includes(box.value)
      || (box.value === "qualityForRecognition" && !QUALITY_MODELS.includes(recognition.value));
  });
  landmarks.disabled = detection.value === "detection_02";
  detection.addEventListener("change", () => { offered(); landmarks.disabled = detection.value === "detection_02"; });
  recognition.addEventListener("change", offered);
  offered();
  let photo = null;
  const run = el("button", { type: "button", id: "detect-run", text: "Detect faces", disabled: true });
  const picker = photoPicker("Photo to detect", ([picked]) => {
    photo = picked;
    run.disabled = false;
    showInfo(status, `Ready: ${picked.name}`);
  });
  run.addEventListener("click", () => runTask(run, status, async (signal) => {
    countdowns.forEach(clearInterval);
    countdowns = [];
    showInfo(status, "Detecting…");
    const options = { detectionModel: detection.value, recognitionModel: recognition.value,
      landmarks: landmarks.checked && !landmarks.disabled,
      attributes: boxes.filter((box) => box.checked && !box.disabled).map((box) => box.value),
      ttl: Number(ttl.value) || 600 };
    const found = await request("POST", detectQuery(options), { ...photoBody(photo), signal });
    const expires = Date.now() + options.ttl * 1000;
    await draw(canvas, photo, found);
    canvas.dataset.result = JSON.stringify(found);
    faces.replaceChildren(...found.map((face, index) => faceCard(face, index, expires)));
    showInfo(status, `${found.length} face${found.length === 1 ? "" : "s"} found.`);
    document.body.dataset.detected = String(found.length);
  }));
  return el("section", { "aria-labelledby": "detect-title" },
    el("h2", { id: "detect-title", text: "Detect" }),
    picker,
    el("fieldset", {}, el("legend", { text: "Models" }),
      field("Detection model", detection), field("Recognition model", recognition),
      field("faceId time to live (s)", ttl)),
    el("fieldset", {}, el("legend", { text: "Return" }),
      el("div", { class: "checks" }, field("27 landmarks", landmarks), boxes.map((box) => field(box.value, box)))),
    el("div", { class: "row" }, run), status, el("div", { class: "result" }, canvas, faces));
}

function verifyPanel() {
  const status = statusLine();
  const photos = [null, null];
  const run = el("button", { type: "button", id: "verify-run", text: "Compare", disabled: true });
  const pickers = [0, 1].map((index) => photoPicker(`Photo ${index + 1}`, ([picked]) => {
    photos[index] = picked;
    run.disabled = !(photos[0] && photos[1]);
  }, { url: true }));
  const answer = el("p", { id: "verify-answer", class: "answer" });
  run.addEventListener("click", () => runTask(run, status, async (signal) => {
    showInfo(status, "Comparing…");
    answer.textContent = "";
    const query = detectQuery({ detectionModel: "detection_03", recognitionModel: "recognition_04", landmarks: false, attributes: [], ttl: 120 });
    const ids = [];
    for (const photo of photos) {
      const found = await request("POST", query, { ...photoBody(photo), signal });
      if (!found.length) throw Object.assign(new Error(`No face found in ${photo.name}.`), { code: "InvalidImage", advice: "Use a photo with a face." });
      ids.push(found[0].faceId);
    }
    const result = await request("POST", `${API}/verify`, { json: { faceId1: ids[0], faceId2: ids[1] }, signal });
    answer.textContent = `${result.isIdentical ? "Same person" : "Different people"}, confidence ${result.confidence.toFixed(3)}`;
    answer.dataset.confidence = String(result.confidence);
    showInfo(status, "Compared the largest face of each photo.");
  }));
  return el("section", { "aria-labelledby": "verify-title" },
    el("h2", { id: "verify-title", text: "Compare two photos (verify)" }),
    el("div", { class: "pair" }, pickers), el("div", { class: "row" }, run), status, answer);
}

export function build(panel) {
  panel.append(detectPanel(), verifyPanel());
}
