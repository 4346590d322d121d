"""The capture page's pure ES modules under node: guidance.js and detector.js's pre- and
post-processing (page_modules.test.mjs under node's test runner), and the port itself:
detector.js decodes the same YuNet outputs into the same faces as the server's detector.py."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from live_support import LIVE_SAMPLE, REPO_ROOT, SHARED_DIR

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="make setup needs Node.js (Azurite)")
DECODE = """
import { readFileSync } from "node:fs";
import { decode, nms } from "./shared/liveness/page/detector.js";
const { outputs, paddedWidth } = JSON.parse(readFileSync(0, "utf8"));
const faces = nms(decode(outputs, paddedWidth, 0.8));
console.log(JSON.stringify(faces.map((f) => [f.x, f.y, f.width, f.height, ...f.landmarks.flat(), f.score])));
"""


def test_page_modules_under_node():
    run = subprocess.run([NODE, "--test", "tests/liveness/page_modules.test.mjs"], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# fail 0" in run.stdout


@pytest.mark.parametrize("photo", [LIVE_SAMPLE, SHARED_DIR / "data" / "faces" / "multi" / "face_recognition_two_people.jpg"],
                         ids=lambda path: path.stem)
def test_detector_js_decodes_like_the_server(monkeypatch, photo):
    """The page's input (the longer side at 320 px, padded) through the server's YuNet: the
    faces detector.js finds in the raw outputs are the server's, to float precision."""
    monkeypatch.setenv("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))
    from shared.engine.detector import YuNetDetector, decode_outputs, nms, to_input_tensor
    from shared.engine.imaging import decode_image

    image = decode_image(photo.read_bytes())
    tensor = to_input_tensor(image, 320 / max(image.shape[:2]))
    model = YuNetDetector()
    names = [output.name for output in model.session().get_outputs()]
    outputs = dict(zip(names, model.run({model.input_name: tensor})))
    expected = nms(decode_outputs(outputs, tensor.shape[2:], 0.8))
    assert len(expected) >= 1
    payload = json.dumps({"paddedWidth": tensor.shape[3],
                          "outputs": {name: value.reshape(-1).tolist() for name, value in outputs.items()}})
    run = subprocess.run([NODE, "--input-type=module", "-e", DECODE], cwd=REPO_ROOT, input=payload,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    found = np.array(json.loads(run.stdout), dtype=np.float64)
    assert found.shape == expected.shape
    np.testing.assert_allclose(found, expected, rtol=1e-4, atol=1e-3)
