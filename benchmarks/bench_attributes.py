"""Per-face cost of the face attributes, by request and by model.

    .venv/bin/python benchmarks/bench_attributes.py [--repeats 7] [--photos 20]

One onnxruntime thread (FACE_ORT_THREADS, default 1). For each of the first PHOTOS dev
portraits, each case runs REPEATS times and keeps its fastest run; the figure printed is the
median over photos, in ms per face, of wall-clock time and of this process's CPU time. On a
shared, loaded machine the CPU time is the cost (a run preempted by other work keeps its CPU
time but not its wall-clock time); on an idle one the two agree. compute_attributes is timed as detect runs it: without a face mesh handed in
(the attributes pay for the mesh) and with one (a request that also wants landmarks or a dlib
template has run it already).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared").resolve()
os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))

from shared.engine import occlusion  # noqa: E402
from shared.engine.attributes import compute_attributes  # noqa: E402
from shared.engine.detector import YuNetDetector  # noqa: E402
from shared.engine.face_mask import FaceMaskDetector  # noqa: E402
from shared.engine.glasses import GlassesClassifier, eye_band  # noqa: E402
from shared.engine.imaging import decode_image  # noqa: E402
from shared.engine.landmarks import FaceMeshLandmarker  # noqa: E402

REQUESTS = {
    "detection_01": [("headPose", "blur", "exposure", "noise"), ("glasses",), ("occlusion",), ("accessories",),
                     ("glasses", "occlusion", "accessories")],
    "detection_03": [("mask",), ("headPose", "mask", "blur")],
}


def fastest(function, repeats: int) -> tuple[float, float]:
    """(wall-clock, CPU) ms of the fastest of ``repeats`` runs."""
    function()  # warm: sessions, caches
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall) * 1000, min(cpu) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--photos", type=int, default=20)
    args = parser.parse_args()
    detector, landmarker = YuNetDetector(), FaceMeshLandmarker()
    mask_detector, glasses = FaceMaskDetector(), GlassesClassifier()
    faces = []
    for path in sorted((SHARED_DIR / "data" / "faces" / "persons").glob("*/*.jpg"))[: args.photos]:
        image = decode_image(path.read_bytes())
        found = detector.detect(image, max_faces=1)
        if found:
            faces.append((image, found[0], landmarker.mesh(image, found[0].points5)))
    rows: dict[str, list[tuple[float, float]]] = {}

    def add(name: str, function) -> None:
        rows.setdefault(name, []).append(fastest(function, args.repeats))

    for image, face, mesh in faces:
        add("model: face mesh (shared with headPose, landmarks)", lambda: landmarker.mesh(image, face.points5))
        add("model: mask detector", lambda: mask_detector.scores(image, face.rectangle))
        add("model: glasses classifier (with its crop)", lambda: glasses.logit(eye_band(image, mesh)))
        add("occlusion measures (given the mesh)", lambda: occlusion.covered(occlusion.region_features(image, mesh)))
        for model, requests in REQUESTS.items():
            for names in requests:
                label = f"{model} {','.join(names)}"
                add(f"{label} (runs the mesh)", lambda: compute_attributes(image, face, names, model, None))
                add(f"{label} (mesh given)", lambda: compute_attributes(image, face, names, model, None, mesh))
    print(f"attribute cost, ms per face: median over {len(faces)} faces of the fastest of {args.repeats} runs, "
          f"FACE_ORT_THREADS={os.environ.get('FACE_ORT_THREADS', '1')}")
    print(f"  {'':<72} {'wall':>6} {'cpu':>6}")
    for name, values in rows.items():
        wall, cpu = np.median(np.array(values), axis=0)
        print(f"  {name:<72} {wall:6.2f} {cpu:6.2f}")


if __name__ == "__main__":
    main()
