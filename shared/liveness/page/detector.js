// YuNet, the server's face detector (shared/engine/detector.py), run in the browser by
// onnxruntime-web's single-threaded wasm build. Its runtime and model are the page's client
// assets: fetched from /liveness/assets/ with the client-assets access token as a bearer token,
// never from a CDN. Pre- and post-processing are the server's: BGR planes of 0-255 floats,
// zero-padded to multiples of 32; per stride, score = sqrt(cls * obj), boxes and landmarks
// decoded around the anchor; greedy NMS at IoU 0.3.

export const INPUT_SIDE = 320; // the longer side of what the model sees (a modest cost per look)
const STRIDES = [8, 16, 32];
const SCORE = 0.7; // a little more permissive than the server's 0.8: a missed face gives a wrong cue
const NMS_IOU = 0.3;

// The model input for a frame: scale (at most 1) and padded size.
export function inputGeometry(width, height) {
  const scale = Math.min(1, INPUT_SIDE / Math.max(width, height));
  const inputWidth = Math.max(1, Math.round(width * scale));
  const inputHeight = Math.max(1, Math.round(height * scale));
  const pad = (side) => Math.ceil(side / 32) * 32;
  return { scale, inputWidth, inputHeight, paddedWidth: pad(inputWidth), paddedHeight: pad(inputHeight) };
}

// RGBA pixels (ImageData.data, inputWidth x inputHeight) -> a 1x3xHxW BGR float tensor's data,
// zero-padded, and the mean luma of the picture (for the "too dark" cue).
export function toInput(rgba, geometry) {
  const { inputWidth, inputHeight, paddedWidth, paddedHeight } = geometry;
  const plane = paddedWidth * paddedHeight;
  const data = new Float32Array(3 * plane);
  let luma = 0;
  for (let y = 0; y < inputHeight; y += 1) {
    for (let x = 0; x < inputWidth; x += 1) {
      const source = 4 * (y * inputWidth + x);
      const target = y * paddedWidth + x;
      const [r, g, b] = [rgba[source], rgba[source + 1], rgba[source + 2]];
      data[target] = b;
      data[plane + target] = g;
      data[2 * plane + target] = r;
      luma += 0.299 * r + 0.587 * g + 0.114 * b;
    }
  }
  return { data, luma: luma / (inputWidth * inputHeight) };
}

// The model's outputs ({name: Float32Array}) -> faces in input pixels, best score first.
export function decode(outputs, paddedWidth, threshold = SCORE) {
  const faces = [];
  for (const stride of STRIDES) {
    const cols = paddedWidth / stride;
    const cls = outputs[`cls_${stride}`];
    const obj = outputs[`obj_${stride}`];
    const bbox = outputs[`bbox_${stride}`];
    const kps = outputs[`kps_${stride}`];
    for (let i = 0; i < cls.length; i += 1) {
      const score = Math.sqrt(Math.min(Math.max(cls[i], 0), 1) * Math.min(Math.max(obj[i], 0), 1));
      if (score < threshold) continue;
      const ax = i % cols;
      const ay = Math.floor(i / cols);
      const cx = (ax + bbox[4 * i]) * stride;
      const cy = (ay + bbox[4 * i + 1]) * stride;
      const w = Math.exp(bbox[4 * i + 2]) * stride;
      const h = Math.exp(bbox[4 * i + 3]) * stride;
      const landmarks = [];
      for (let k = 0; k < 5; k += 1) {
        landmarks.push([(kps[10 * i + 2 * k] + ax) * stride, (kps[10 * i + 2 * k + 1] + ay) * stride]);
      }
      faces.push({ x: cx - w / 2, y: cy - h / 2, width: w, height: h, landmarks, score });
    }
  }
  return faces.sort((a, b) => b.score - a.score);
}

function iou(a, b) {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

// Greedy non-maximum suppression over faces sorted best first.
export function nms(faces, threshold = NMS_IOU) {
  const kept = [];
  for (const face of faces) {
    if (kept.every((other) => iou(face, other) <= threshold)) kept.push(face);
  }
  return kept;
}

function toFrame(face, scale) {
  return { x: face.x / scale, y: face.y / scale, width: face.width / scale, height: face.height / scale,
           landmarks: face.landmarks.map(([x, y]) => [x / scale, y / scale]), score: face.score };
}

async function fetchAsset(name, accessToken) {
  const response = await fetch(`/liveness/assets/${name}`, {
    headers: { Authorization: `Bearer ${accessToken}` }, credentials: "omit", referrerPolicy: "no-referrer" });
  if (!response.ok) throw new Error(`client asset ${name}: HTTP ${response.status}`);
  return response;
}

// Loads the runtime and the model; resolves to a detector whose look(canvas) gives
// {width, height, luma, faces} in the canvas's pixels.
export async function loadDetector(accessToken) {
  // The runtime is a module fetched with the token, so it is imported from a blob: URL.
  const runtime = await (await fetchAsset("ort.wasm.bundle.min.mjs", accessToken)).blob();
  const runtimeUrl = URL.createObjectURL(new Blob([runtime], { type: "text/javascript" }));
  const [ort, wasm, model] = await Promise.all([
    import(runtimeUrl),
    fetchAsset("ort-wasm-simd-threaded.wasm", accessToken).then((response) => response.arrayBuffer()),
    fetchAsset("face-detector.onnx", accessToken).then((response) => response.arrayBuffer()),
  ]);
  URL.revokeObjectURL(runtimeUrl);
  ort.env.wasm.numThreads = 1; // no SharedArrayBuffer, no cross-origin isolation needed
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmBinary = wasm;
  const session = await ort.InferenceSession.create(new Uint8Array(model), { executionProviders: ["wasm"] });
  const scratch = document.createElement("canvas");
  const context = scratch.getContext("2d", { willReadFrequently: true });

  async function look(canvas) {
    const geometry = inputGeometry(canvas.width, canvas.height);
    scratch.width = geometry.inputWidth;
    scratch.height = geometry.inputHeight;
    context.drawImage(canvas, 0, 0, geometry.inputWidth, geometry.inputHeight);
    const pixels = context.getImageData(0, 0, geometry.inputWidth, geometry.inputHeight).data;
    const { data, luma } = toInput(pixels, geometry);
    const tensor = new ort.Tensor("float32", data, [1, 3, geometry.paddedHeight, geometry.paddedWidth]);
    const results = await session.run({ [session.inputNames[0]]: tensor });
    const outputs = Object.fromEntries(Object.entries(results).map(([name, value]) => [name, value.data]));
    const faces = nms(decode(outputs, geometry.paddedWidth)).map((face) => toFrame(face, geometry.scale));
    return { width: canvas.width, height: canvas.height, luma, faces };
  }
  return { look };
}
