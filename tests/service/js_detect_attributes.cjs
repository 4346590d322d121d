// detect's glasses / occlusion / accessories (detection_01) and mask (detection_03) through the
// official JS REST clients: @azure-rest/ai-vision-face 1.0.0-beta.3 (v1.2, npm alias
// face-rest-v1-2) and 1.0.0-beta.1 (v1.1-preview.1, alias face-rest-v1-1-preview).
// Run by test_detect_attributes.py under node. Input (environment): FACE_ENDPOINT, FACE_KEY,
// GLASSES_PATH, MASK_PATH. Output: one JSON object on stdout, per client what each call returned.
"use strict";

const fs = require("node:fs");

const CLIENTS = { "v1.2": require("face-rest-v1-2").default, "v1.1-preview.1": require("face-rest-v1-1-preview").default };
const glasses = fs.readFileSync(process.env.GLASSES_PATH);
const mask = fs.readFileSync(process.env.MASK_PATH);

async function detect(client, image, detectionModel, attributes) {
  const response = await client.path("/detect").post({
    contentType: "application/octet-stream",
    body: image,
    queryParameters: { detectionModel, recognitionModel: "recognition_04", returnFaceId: false, returnFaceAttributes: attributes },
  });
  return { status: Number(response.status), body: response.body };
}

async function main() {
  const out = {};
  for (const [version, createClient] of Object.entries(CLIENTS)) {
    const client = createClient(process.env.FACE_ENDPOINT, { key: process.env.FACE_KEY }, { allowInsecureConnection: true });
    out[version] = {
      detection01: await detect(client, glasses, "detection_01", ["glasses", "occlusion", "accessories"]),
      detection03: await detect(client, mask, "detection_03", ["mask"]),
      maskOnDetection01: await detect(client, mask, "detection_01", ["mask"]),
      glassesOnDetection03: await detect(client, glasses, "detection_03", ["glasses"]),
    };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack || error) + "\n");
  process.exit(1);
});
