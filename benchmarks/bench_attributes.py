"""Per-face cost of the face attributes, by stage and by request.

    .venv/bin/python benchmarks/bench_attributes.py [--repeats 7] [--photos 20]

One thread (FACE_ORT_THREADS, default 1, and OpenCV's). For each of the first PHOTOS dev
portraits, each case runs REPEATS times and keeps its fastest run; the figure printed is the
median over photos, in ms per face, of wall-clock time and of this process's CPU time.
Stages: each model run, and the work around it (crops, decoding, the occlusion measures:
the face crop with its reference skin, then each region on top of it). On a
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

import cv2
import numpy as np

cv2.setNumThreads(1)  # one thread, as onnxruntime's (the service leaves OpenCV's default)
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared").resolve()
os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))

from benchmarks.smoke import parse_args  # noqa: E402
from shared.engine import face_mask, occlusion  # noqa: E402
from shared.engine.attributes import compute_attributes  # noqa: E402
from shared.engine.detector import YuNetDetector  # noqa: E402
from shared.engine.glasses import GlassesClassifier, eye_band  # noqa: E402
from shared.engine.imaging import decode_image  # noqa: E402
from shared.engine.landmarks import FaceMeshLandmarker  # noqa: E402

REQUESTS = {
    "detection_01": [("headPose", "blur", "exposure", "noise"), ("glasses",), ("occlusion",), ("accessories",),
                     ("glasses", "occlusion", "accessories"),
                     ("headPose", "blur", "exposure", "noise", "glasses", "occlusion", "accessories")],
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
    args = parse_args(parser, repeats=1, photos=2)
    detector, landmarker = YuNetDetector(), FaceMeshLandmarker()
    mask_detector, glasses = face_mask.FaceMaskDetector(), GlassesClassifier()
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
        tensor = face_mask.input_tensor(image, face.rectangle)
        offsets, classes = (output[0] for output in mask_detector.run_single(tensor))
        band = eye_band(image, mesh)
        add("stage: face mesh (shared with headPose, landmarks)", lambda: landmarker.mesh(image, face.points5))
        add("stage: mask detector input crop", lambda: face_mask.input_tensor(image, face.rectangle))
        add("stage: mask detector model run", lambda: mask_detector.run_single(tensor))
        add("stage: mask detector decoding", lambda: face_mask.face_scores(offsets, classes, face.rectangle))
        add("stage: glasses eye band crop", lambda: eye_band(image, mesh))
        add("stage: glasses classifier model run", lambda: glasses.logit(band))
        add("stage: occlusion face crop and reference skin", lambda: occlusion.FaceRegions(image, mesh))
        for region in occlusion.REGIONS:
            add(f"stage: occlusion crop + {region}", lambda: occlusion.FaceRegions(image, mesh).covered(region))
        add("stage: occlusion crop + all regions", lambda: occlusion.region_features(image, mesh))
        for model, requests in REQUESTS.items():
            for names in requests:
                label = f"{model} {','.join(names)}"
                add(f"{label} (runs the mesh)", lambda: compute_attributes(image, face, names, model, None))
                add(f"{label} (mesh given)", lambda: compute_attributes(image, face, names, model, None, mesh))
    print(f"attribute cost, ms per face: median over {len(faces)} faces of the fastest of {args.repeats} runs, "
          f"FACE_ORT_THREADS={os.environ.get('FACE_ORT_THREADS', '1')}")
    print(f"  {'':<72} {'wall':>6} {'cpu':>6}")
    medians = {name: np.median(np.array(values), axis=0) for name, values in rows.items()}
    for name, (wall, cpu) in medians.items():
        print(f"  {name:<72} {wall:6.2f} {cpu:6.2f}")
    together, mask = "detection_01 glasses,occlusion,accessories", "detection_03 mask"
    print(f"attributes ms/face (wall): glasses+occlusion+accessories {medians[f'{together} (mesh given)'][0]:.2f} "
          f"mesh given, {medians[f'{together} (runs the mesh)'][0]:.2f} with the mesh; "
          f"mask {medians[f'{mask} (mesh given)'][0]:.2f} / {medians[f'{mask} (runs the mesh)'][0]:.2f}")


if __name__ == "__main__":
    main()
