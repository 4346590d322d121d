"""Face-mesh consistency under mirroring, for each way of framing the mesh's crops.

    .venv/bin/python benchmarks/mesh_mirror.py

For every dev photo (faces/persons) and its mirror image: the 25 mesh-based Azure points
(landmarks.MESH_POINTS, no iris refinement), the mirror's mapped back and its left/right names
swapped. Printed: the mean distance between a point and its mirrored counterpart, as a share
of the outer eye-corner span, for the first pass framed by the detector's box (the
landmarker's first crop before it used dlib alignment's pass), the first pass framed by
``alignment.mesh_crop`` (YuNet's five points: what the engine runs) and the second pass
MediaPipe's tracker would run after each. Lower is better:
an ideal landmarker gives the same points for a face and its mirror.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared")
os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))

from mesh_framing import box_roi, mesh_roi  # noqa: E402

from shared.engine.alignment import mesh_crop  # noqa: E402
from shared.engine.detector import YuNetDetector  # noqa: E402
from shared.engine.imaging import decode_image  # noqa: E402
from shared.engine.landmarks import MESH_POINTS, FaceMeshModel  # noqa: E402

def named(mesh: np.ndarray) -> dict[str, np.ndarray]:
    return {name: mesh[list(indices), :2].mean(axis=0) for name, indices in MESH_POINTS.items()}


def partner(name: str) -> str:
    """The Azure name of a point's mirror image: Left <-> Right."""
    return name.replace("Left", "\0").replace("Right", "Left").replace("\0", "Right")


def meshes(image: np.ndarray, detector: YuNetDetector, model: FaceMeshModel) -> dict[str, np.ndarray]:
    face = detector.detect(image)[0]
    points5 = face.points5.astype(np.float64)
    box = model.mesh(image, box_roi(points5, face.rectangle))
    crop = model.mesh(image, mesh_crop(points5))
    return {
        "first pass, detector box": box,
        "first pass, mesh_crop (shipped)": crop,
        "second pass after the box": model.mesh(image, mesh_roi(box)),
        "second pass after mesh_crop": model.mesh(image, mesh_roi(crop)),
    }


def main() -> None:
    detector, model = YuNetDetector(), FaceMeshModel()
    errors: dict[str, list[float]] = {}
    for path in sorted((SHARED_DIR / "data" / "faces" / "persons").glob("*/*.jpg")):
        image = decode_image(path.read_bytes())
        mirror = np.ascontiguousarray(image[:, ::-1])
        width = image.shape[1]
        of_mirror = meshes(mirror, detector, model)
        for label, mesh in meshes(image, detector, model).items():
            points = named(mesh)
            mirrored = of_mirror[label].copy()
            mirrored[:, 0] = width - mirrored[:, 0]
            back = named(mirrored)
            span = np.linalg.norm(points["eyeLeftOuter"] - points["eyeRightOuter"])
            gaps = [np.linalg.norm(points[name] - back[partner(name)]) / span for name in points]
            errors.setdefault(label, []).append(float(np.mean(gaps)))
    for label, values in errors.items():
        print(f"{label:40s} mean {100 * np.mean(values):.2f}% of the eye-corner span (n={len(values)})")


if __name__ == "__main__":
    main()
