// The v1.2 liveness flow through the official JS REST client (@azure-rest/ai-vision-face
// 1.0.0-beta.3, npm alias face-rest-v1-2), run by test_sdk_clients.py under node.
// Input (environment): FACE_ENDPOINT, FACE_KEY, FRAME_PATH (a live JPEG), VERIFY_PATH.
// Output: one JSON object on stdout describing what each call returned.
const fs = require("fs");
const crypto = require("crypto");
const createClient = require("face-rest-v1-2").default;

const endpoint = process.env.FACE_ENDPOINT;
const client = createClient(endpoint, { key: process.env.FACE_KEY }, { allowInsecureConnection: true });
const frame = fs.readFileSync(process.env.FRAME_PATH);
const verifyImage = fs.readFileSync(process.env.VERIFY_PATH);

async function attempt(route, token) {
  const form = new FormData();
  form.append("metadata", new Blob([JSON.stringify({ frames: [{ timeOffsetMs: 0 }] })], { type: "application/json" }));
  form.append("frame", new Blob([frame], { type: "image/jpeg" }), "frame-0.jpg");
  const response = await fetch(`${endpoint}/face/v1.2/${route}`, {
    method: "POST", headers: { Authorization: `Bearer ${token}` }, body: form });
  return { status: response.status, body: await response.json() };
}

async function bytesOf(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function main() {
  const out = {};
  const created = await client.path("/detectLiveness-sessions").post({ body: {
    livenessOperationMode: "Passive", deviceCorrelationId: crypto.randomUUID(), enableSessionImage: true } });
  out.create = { status: created.status, body: created.body };
  const sessionId = created.body.sessionId;
  out.attempt = await attempt("detectLiveness/singleModal", created.body.authToken);

  const read = await client.path("/detectLiveness-sessions/{sessionId}", sessionId).get();
  out.get = { status: read.status, body: read.body };
  const imageId = read.body.results.attempts[0].result.sessionImageId;
  const image = await client.path("/sessionImages/{sessionImageId}", imageId).get().asNodeStream();
  const imageBytes = await bytesOf(image.body);
  out.sessionImage = { status: image.status, equalsFrame: imageBytes.equals(frame) };
  const detected = await client.path("/detect").post({ body: { sessionImageId: imageId },
    queryParameters: { returnFaceId: false, detectionModel: "detection_03" } });
  out.detect = { status: detected.status, faces: detected.body.length };

  const withVerify = await client.path("/detectLivenessWithVerify-sessions").post({
    contentType: "multipart/form-data",
    body: [{ name: "livenessOperationMode", body: "Passive" },
           { name: "deviceCorrelationId", body: crypto.randomUUID() },
           { name: "returnVerifyImageHash", body: true },
           { name: "verifyImage", body: verifyImage, filename: "verify.jpg", contentType: "application/octet-stream" }] });
  out.createWithVerify = { status: withVerify.status, body: withVerify.body };
  out.attemptWithVerify = await attempt("detectLivenessWithVerify/singleModal", withVerify.body.authToken);
  const verifyRead = await client.path("/detectLivenessWithVerify-sessions/{sessionId}", withVerify.body.sessionId).get();
  out.getWithVerify = { status: verifyRead.status, body: verifyRead.body };

  const deleted = await client.path("/detectLiveness-sessions/{sessionId}", sessionId).delete();
  const deletedVerify = await client.path("/detectLivenessWithVerify-sessions/{sessionId}", withVerify.body.sessionId).delete();
  const after = await client.path("/detectLiveness-sessions/{sessionId}", sessionId).get();
  const imageAfter = await client.path("/sessionImages/{sessionImageId}", imageId).get();
  out.delete = { status: deleted.status, verifyStatus: deletedVerify.status, after: after.status,
                 afterCode: after.body.error.code, imageAfter: imageAfter.status };
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => { console.error(error); process.exit(1); });
