"""Calibrate distance -> confidence for an embedder on every pair of the dev persons.

Pipeline per photo: the engine's decoder and YuNet detector, the embedder's own alignment
and network (exactly what the service runs). All pairs of faces/persons/*/*.jpg are split
into same-person and different-person pairs.

Threshold: the distance that maximises verification accuracy over all pairs (when a range
ties, the midpoint of the lowest such run), unless the embedder has a published reference
threshold (dlib: 0.6, validated by dlib on LFW) whose accuracy here is within
REFERENCE_TOLERANCE of that best: 62 photos cannot resolve differences of a few pairs, and the
reference was chosen on far more data. Balanced accuracy (mean of the same- and
different-person rates, blind to the 1:13 pair imbalance) is printed as a cross-check. Scales: the logistic slopes that put the median same-person pair at 0.90 and
the median different-person pair at 0.10 confidence (matching.py applies them on either side
of the threshold). Prints everything needed for docs/recognition.md and the constants.

Run: .venv/bin/python benchmarks/calibrate.py [embedder_name]   (default dlib_resnet_v1)
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared")
os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))

from shared.engine.detector import YuNetDetector  # noqa: E402
from shared.engine.embedders import Calibration, get_embedder  # noqa: E402
from shared.engine.imaging import decode_image  # noqa: E402

PERSONS_DIR = SHARED_DIR / "data" / "faces" / "persons"
TYPICAL_SAME, TYPICAL_DIFFERENT = 0.90, 0.10
GRID_STEP = 0.001
REFERENCE_THRESHOLDS = {"dlib_resnet_v1": 0.6}
REFERENCE_TOLERANCE = 0.005  # accuracy (fraction of pairs)


def person_embeddings(embedder_name: str) -> tuple[np.ndarray, list[str]]:
    """One vector per dev photo (its only face) and the photo's person label."""
    detector, embedder = YuNetDetector(), get_embedder(embedder_name)
    vectors, labels = [], []
    for photo in sorted(PERSONS_DIR.glob("*/*.jpg")):
        image = decode_image(photo.read_bytes())
        face = detector.detect(image)[0]
        vectors.append(embedder.embed([embedder.align(image, face.points5)])[0])
        labels.append(photo.parent.name)
    return np.stack(vectors), labels


def pair_distances(vectors: np.ndarray, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Distances of all unordered pairs and whether each pair is the same person."""
    rows, cols = np.triu_indices(len(vectors), k=1)
    distances = np.linalg.norm(vectors[rows] - vectors[cols], axis=1)
    same = np.array([labels[i] == labels[j] for i, j in zip(rows, cols)])
    return distances, same


def accuracy_at(threshold: float, distances: np.ndarray, same: np.ndarray) -> float:
    return float(((distances < threshold) == same).mean())


def balanced_accuracy_at(threshold: float, distances: np.ndarray, same: np.ndarray) -> float:
    return float(((distances[same] < threshold).mean() + (distances[~same] >= threshold).mean()) / 2)


def best_threshold(distances: np.ndarray, same: np.ndarray, score=accuracy_at) -> tuple[float, float]:
    """Midpoint of the first (lowest, so fewer false accepts) run of best-scoring thresholds."""
    grid = np.arange(distances.min(), distances.max() + GRID_STEP, GRID_STEP)
    scores = np.array([score(t, distances, same) for t in grid])
    best = np.flatnonzero(scores == scores.max())
    breaks = np.flatnonzero(np.diff(best) > 1)
    last = best[breaks[0]] if len(breaks) else best[-1]
    # Grid points are GRID_STEP apart, so the midpoint is a multiple of GRID_STEP / 2: rounding
    # to 3 decimals could move it off a one-step run (e.g. just below the largest same-person
    # distance), where it no longer scores the best.
    return round(float((grid[best[0]] + grid[last]) / 2), 4), float(scores.max())


def choose_threshold(embedder_name: str, distances: np.ndarray, same: np.ndarray) -> float:
    best, best_accuracy = best_threshold(distances, same)
    reference = REFERENCE_THRESHOLDS.get(embedder_name)
    if reference is not None and accuracy_at(reference, distances, same) >= best_accuracy - REFERENCE_TOLERANCE:
        return reference
    return best


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def calibrate(embedder_name: str, distances: np.ndarray, same: np.ndarray) -> Calibration:
    threshold = choose_threshold(embedder_name, distances, same)
    scale_same = (threshold - float(np.median(distances[same]))) / logit(TYPICAL_SAME)
    scale_different = (float(np.median(distances[~same])) - threshold) / -logit(TYPICAL_DIFFERENT)
    return Calibration(threshold, round(scale_same, 4), round(scale_different, 4), calibrated=True)


def describe(name: str, values: np.ndarray) -> str:
    pct = np.percentile(values, [0, 5, 25, 50, 75, 95, 100])
    return f"{name:9s} n={len(values):5d}  " + "  ".join(
        f"{label}={v:.3f}" for label, v in zip(("min", "p5", "p25", "median", "p75", "p95", "max"), pct)
    )


def main() -> None:
    from shared.engine.matching import logistic_confidence

    embedder_name = sys.argv[1] if len(sys.argv) > 1 else "dlib_resnet_v1"
    vectors, labels = person_embeddings(embedder_name)
    distances, same = pair_distances(vectors, labels)
    print(f"embedder {embedder_name}: {len(vectors)} photos, {len(set(labels))} persons")
    print(f"pairs: {len(distances)} ({same.sum()} same person, {(~same).sum()} different)")
    print(describe("same", distances[same]))
    print(describe("different", distances[~same]))
    best, best_accuracy = best_threshold(distances, same)
    best_balanced, best_balanced_accuracy = best_threshold(distances, same, balanced_accuracy_at)
    print(f"best accuracy {best_accuracy:.4f} at {best:.4f}; best balanced accuracy "
          f"{best_balanced_accuracy:.4f} at {best_balanced:.4f}")
    calibration = calibrate(embedder_name, distances, same)
    for t in sorted({0.5, 0.55, 0.6, 0.65, best, best_balanced, calibration.threshold}):
        errors_fn = int((same & (distances >= t)).sum())
        errors_fp = int((~same & (distances < t)).sum())
        chosen = "  <- chosen" if t == calibration.threshold else ""
        print(f"  at {t:.4f}: accuracy {accuracy_at(t, distances, same):.4f}, balanced "
              f"{balanced_accuracy_at(t, distances, same):.4f} (false rejects {errors_fn}, false accepts {errors_fp}){chosen}")
    print(f"scales: same {calibration.scale_same}, different {calibration.scale_different}")
    conf = logistic_confidence(distances, calibration)
    print(describe("conf same", conf[same]))
    print(describe("conf diff", conf[~same]))
    print(f"Calibration(threshold={calibration.threshold}, scale_same={calibration.scale_same}, "
          f"scale_different={calibration.scale_different}, calibrated=True)")


if __name__ == "__main__":
    main()
