"""Fit occlusion.MODELS: one logistic model per region on the synthetic occlusion set.

    .venv/bin/python benchmarks/occlusion_fit.py [--count 1000]

Photos: lfw-dev people in the fitting half (people sorted by name, even positions); the
accuracy benchmark measures on the other half (attribute_accuracy.py), so no person is in
both. Each image goes through the service's own detector, face mesh and
occlusion.region_features; a region's model sees that region's measures, labelled covered
or not. Newton's method with a small L2 penalty; each model's threshold is its break-even
point on the fitting set (where precision equals recall), since Azure's flags weigh a missed
occlusion and a false one alike. Prints the MODELS constant to paste into
shared/engine/occlusion.py, and the fitting-set figures per region.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared").resolve()
os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))

from benchmarks import occlusion_set  # noqa: E402
from shared.engine import occlusion  # noqa: E402
from shared.engine.detector import YuNetDetector  # noqa: E402
from shared.engine.imaging import decode_image  # noqa: E402
from shared.engine.landmarks import FaceMeshLandmarker  # noqa: E402

LFW_DIR = SHARED_DIR / "data" / "lfw-dev"
FIT_SEED = 0
L2 = 1e-2


def lfw_half(fitting: bool) -> list[Path]:
    """Photos of every other lfw-dev person: the fitting half or the measuring half."""
    people = sorted(path for path in LFW_DIR.iterdir() if path.is_dir())
    chosen = people[0 if fitting else 1::2]
    return sorted(photo for person in chosen for photo in person.glob("*.jpg"))


def features_of(samples: list[occlusion_set.Sample]) -> list[tuple[occlusion_set.Sample, dict[str, np.ndarray]]]:
    """Each sample with its region features, measured as the service would (samples whose
    face the detector misses after occlusion are left out)."""
    detector, landmarker = YuNetDetector(), FaceMeshLandmarker()
    measured = []
    for sample in samples:
        image = decode_image(sample.path.read_bytes())
        face = occlusion_set.centred_face(detector.detect(image), image)
        if face is not None:
            measured.append((sample, occlusion.region_features(image, landmarker.mesh(image, face.points5))))
    return measured


def fit_logistic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    design = np.hstack([x, np.ones((len(x), 1))])
    weights = np.zeros(design.shape[1])
    penalty = L2 * np.eye(design.shape[1])
    penalty[-1, -1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-design @ weights))
        gradient = design.T @ (p - y) + penalty @ weights
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return weights[:-1], float(weights[-1])


def break_even(probabilities: np.ndarray, covered: np.ndarray) -> float:
    """The threshold where precision and recall are closest (the higher one on a tie)."""
    best, best_gap = 0.5, np.inf
    for threshold in np.unique(probabilities):
        flagged = probabilities >= threshold
        precision = (flagged & covered).sum() / max(1, flagged.sum())
        recall = (flagged & covered).sum() / max(1, covered.sum())
        if abs(precision - recall) <= best_gap:
            best, best_gap = float(threshold), abs(precision - recall)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="occlusion-fit-") as folder:
        measured = features_of(occlusion_set.make_set(lfw_half(fitting=True), args.count, FIT_SEED, Path(folder)))
    print(f"fitting set: {len(measured)} images with a face")
    lines = []
    for region in occlusion.REGIONS:
        x = np.array([features[region] for _, features in measured])
        y = np.array([sample.labels[region] for sample, _ in measured], dtype=np.float64)
        weights, bias = fit_logistic(x, y)
        probabilities = 1 / (1 + np.exp(-(x @ weights + bias)))
        threshold = break_even(probabilities, y.astype(bool))
        accuracy = float(((probabilities >= threshold) == y).mean())
        print(f"  {region}: {int(y.sum())} covered of {len(y)}, threshold {threshold:.3f}, "
              f"fitting-set accuracy {accuracy:.3f}")
        lines.append(f'    "{region}": Logistic(({", ".join(f"{w:.3f}" for w in weights)}), {bias:.3f}, {threshold:.3f}),')
    print("MODELS: dict[str, Logistic] = {\n" + "\n".join(lines) + "\n}")


if __name__ == "__main__":
    main()
