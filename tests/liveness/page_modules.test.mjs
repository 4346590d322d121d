// node --test: the capture page's pure modules (guidance.js: from a look to a cue; detector.js:
// YuNet's pre- and post-processing). Run by tests/liveness/test_page_modules.py.
import assert from "node:assert/strict";
import { test } from "node:test";

import { decode, inputGeometry, nms, toInput } from "../../shared/liveness/page/detector.js";
import { CUES, cueFor, framingCue, oval, plan, yawRatio } from "../../shared/liveness/page/guidance.js";

const WIDTH = 480;
const HEIGHT = 640;
const GUIDE = oval(WIDTH, HEIGHT);

// A face of `share` of the oval's width centred at (x, y), looking sideways by `yaw` eye distances.
function face({ x = GUIDE.cx, y = GUIDE.cy, share = 0.75, yaw = 0 } = {}) {
  const width = share * 2 * GUIDE.rx;
  const eye = width / 4;
  return { x: x - width / 2, y: y - width * 0.6, width, height: width * 1.2,
           landmarks: [[x - eye / 2, y - 10], [x + eye / 2, y - 10], [x + yaw * eye, y + 10], [x - 20, y + 30], [x + 20, y + 30]] };
}

const look = (faces, luma = 120) => ({ width: WIDTH, height: HEIGHT, luma, faces });

test("a well framed face in good light is ok", () => {
  assert.equal(framingCue(look([face()])), "ok");
});

test("each framing problem has its cue, most fundamental first", () => {
  assert.equal(framingCue(look([face()], 30)), "tooDark");
  assert.equal(framingCue(look([])), "noFace");
  assert.equal(framingCue(look([face({ x: 120 }), face({ x: 360 })])), "multipleFaces");
  assert.equal(framingCue(look([face({ share: 0.3 })])), "moveCloser");
  assert.equal(framingCue(look([face({ share: 1.5 })])), "moveBack");
  assert.equal(framingCue(look([face({ x: GUIDE.cx + GUIDE.rx })])), "centre");
  assert.equal(framingCue(look([face({ y: GUIDE.cy - GUIDE.ry * 0.6 })])), "centre");
  assert.equal(framingCue(look([face({ x: GUIDE.cx + 40 })]), face()), "holdStill");
  assert.equal(framingCue(look([face({ x: GUIDE.cx + 5 })]), face()), "ok");
  for (const cue of ["tooDark", "noFace", "multipleFaces", "moveCloser", "moveBack", "centre", "holdStill", "ok"]) {
    assert.ok(CUES[cue].length > 5, cue);
  }
});

test("the oval follows the preview's 3:4 crop of a landscape camera", () => {
  const wide = oval(640, 480);
  assert.equal(wide.cx, 320);
  assert.equal(wide.rx, 0.27 * 360);
  assert.equal(wide.ry, 0.38 * 480);
});

test("yaw ratio: positive when the nose moves toward the frame's right (the person's left)", () => {
  assert.equal(yawRatio(face()), 0);
  assert.ok(yawRatio(face({ yaw: 0.2 })) > 0.19);
  assert.ok(yawRatio(face({ yaw: -0.2 })) < -0.19);
});

test("turn steps wait for the asked turn from the baseline, then for the face straight again", () => {
  const left = { pose: "turnLeft" };
  const right = { pose: "turnRight" };
  const back = { pose: "back" };
  assert.equal(cueFor(look([face({ yaw: 0.05 })]), left, null, 0), "turnLeft");
  assert.equal(cueFor(look([face({ yaw: 0.15 })]), left, null, 0), "ok");
  assert.equal(cueFor(look([face({ yaw: 0.15 })]), right, null, 0), "turnRight");
  assert.equal(cueFor(look([face({ yaw: -0.15 })]), right, null, 0), "ok");
  assert.equal(cueFor(look([face({ yaw: 0.25 })]), left, null, 0.1), "ok");
  assert.equal(cueFor(look([face({ yaw: 0.15 })]), back, null, 0), "lookStraight");
  assert.equal(cueFor(look([face({ yaw: 0.02 })]), back, null, 0), "ok");
  assert.equal(cueFor(look([face({ yaw: 0.4 })]), { pose: "straight" }, null, 0), "lookStraight");
  assert.equal(cueFor(look([face({ yaw: 0.4 })]), { pose: "any" }, null, 0), "ok");
  assert.equal(cueFor(look([]), left, null, 0), "noFace");
});

test("the plan: passive frames, or a straight look and each turn of the challenge then straight again", () => {
  assert.deepEqual(plan({ livenessOperationMode: "Passive" }).map((step) => [step.pose, step.frames]), [["any", 3]]);
  const active = plan({ livenessOperationMode: "PassiveActive", challenge: ["turnRight", "turnLeft", "turnRight"] });
  assert.deepEqual(active.map((step) => step.pose),
                   ["straight", "turnRight", "back", "turnLeft", "back", "turnRight", "back"]);
  assert.equal(active.reduce((sum, step) => sum + step.frames, 0), 11);
  assert.match(active[3].text, /2 of 3: turn your head to your left/);
  assert.ok(active.slice(1).every((step) => step.patience > 0));
});

test("input geometry: the longer side at 320, padded to multiples of 32", () => {
  assert.deepEqual(inputGeometry(480, 640), { scale: 0.5, inputWidth: 240, inputHeight: 320, paddedWidth: 256, paddedHeight: 320 });
  assert.deepEqual(inputGeometry(200, 100), { scale: 1, inputWidth: 200, inputHeight: 100, paddedWidth: 224, paddedHeight: 128 });
});

test("toInput: BGR planes, zero padding, mean luma", () => {
  const geometry = { inputWidth: 1, inputHeight: 1, paddedWidth: 2, paddedHeight: 1 };
  const { data, luma } = toInput(new Uint8ClampedArray([10, 20, 30, 255]), geometry);
  assert.deepEqual(Array.from(data), [30, 0, 20, 0, 10, 0]);
  assert.ok(Math.abs(luma - (0.299 * 10 + 0.587 * 20 + 0.114 * 30)) < 1e-9);
});

test("decode and NMS: anchors, strides, scores and overlap", () => {
  // A 32x32 input: stride 8 has 16 anchors, 16 has 4, 32 has 1. One strong face at stride-8
  // anchor 5 (x 1, y 1), a duplicate at stride 16, a weak one elsewhere.
  const outputs = {};
  for (const [stride, count] of [[8, 16], [16, 4], [32, 1]]) {
    outputs[`cls_${stride}`] = new Float32Array(count);
    outputs[`obj_${stride}`] = new Float32Array(count);
    outputs[`bbox_${stride}`] = new Float32Array(4 * count);
    outputs[`kps_${stride}`] = new Float32Array(10 * count);
  }
  outputs.cls_8[5] = 0.9; outputs.obj_8[5] = 1;
  outputs.bbox_8.set([0.5, 0.5, Math.log(2), Math.log(2)], 20);
  outputs.kps_8.set([0, 0, 1, 0, 0.5, 0.5, 0, 1, 1, 1], 50);
  outputs.cls_16[0] = 0.81; outputs.obj_16[0] = 1;
  outputs.bbox_16.set([0.75, 0.75, 0, 0], 0);
  outputs.cls_8[0] = 0.3; outputs.obj_8[0] = 1;
  const faces = decode(outputs, 32, 0.7);
  assert.equal(faces.length, 2);
  const [best] = faces;
  assert.ok(Math.abs(best.score - Math.sqrt(0.9)) < 1e-6);
  assert.deepEqual([best.x, best.y, best.width, best.height].map((v) => Math.round(v * 1e4) / 1e4), [4, 4, 16, 16]);
  assert.deepEqual(best.landmarks[2], [12, 12]);
  assert.equal(nms(faces).length, 1);
});
