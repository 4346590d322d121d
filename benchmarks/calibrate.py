"""Calibrate distance -> confidence for an embedder, and choose the fused embedder's weight.

    .venv/bin/python benchmarks/calibrate.py [EMBEDDER] [--on lfw-dev|persons]
    .venv/bin/python benchmarks/calibrate.py --fusion     # dlib's weight in dlib_sface

Data: ``lfw-dev`` (default): LFW's 2,000 development pairs, 1,000 same-person and 1,000
different-person (lfw.py runs the service's detector, alignment and network on every photo);
``persons``: every pair of the 62 dev photos (137 same-person, 1,754 different), on which
dlib's shipped calibration was made. Every template comes from the embedder's own ``align``
and ``embed``, exactly what the service runs.

Threshold: the distance that maximises verification accuracy over all pairs (when a range
ties, the midpoint of the lowest such run), unless the embedder has a published reference
threshold (dlib: 0.6, validated by dlib on LFW) whose accuracy here is within
REFERENCE_TOLERANCE of that best. Balanced accuracy (mean of the same- and different-person
rates) is printed as a cross-check. Scales: the logistic slopes that put the median
same-person pair at 0.90 and the median different-person pair at 0.10 confidence
(matching.py applies them on either side of the threshold). Prints the Calibration constant.

Fusion weight: for dlib's share w of the fused cosine (SFace gets 1 - w) on a 0.05 grid, from
the two embedders' lfw-dev templates: 10-fold cross-validated verification, pair ranking
error (1 - ROC AUC) and 1:N rank-1 errors. Rule: the fewest rank-1 errors, then the best
cross-validated accuracy, then the lowest ranking error (accuracy differences of one or two
pairs in 2,000 are noise; rank-1 errors over 1,087 probes and the ranking error resolve more).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared")
os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))

import lfw  # noqa: E402
from verification import (  # noqa: E402
    accuracy_at,
    balanced_accuracy_at,
    best_threshold,
    cross_validated_accuracy,
    ranking_error,
)

from shared.engine.detector import YuNetDetector  # noqa: E402
from shared.engine.calibration import Calibration  # noqa: E402
from shared.engine.embedders import DLIB_EMBEDDER, SFACE_EMBEDDER, get_embedder, unit_rows  # noqa: E402
from shared.engine.imaging import decode_image  # noqa: E402

PERSONS_DIR = SHARED_DIR / "data" / "faces" / "persons"
TYPICAL_SAME, TYPICAL_DIFFERENT = 0.90, 0.10
REFERENCE_THRESHOLDS = {DLIB_EMBEDDER: 0.6}
REFERENCE_TOLERANCE = 0.005  # accuracy (fraction of pairs)
FUSION_GRID = np.round(np.arange(0.0, 1.0001, 0.05), 2)


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


def lfw_pairs(embedder_name: str) -> tuple[np.ndarray, np.ndarray]:
    pairs = lfw.pair_set(lfw.templates(embedder_name, lfw.photos()), lfw.photos())
    return pairs.distances, pairs.same


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


def report_calibration(embedder_name: str, data: str) -> None:
    from shared.engine.matching import logistic_confidence

    if data == "persons":
        distances, same = pair_distances(*person_embeddings(embedder_name))
    else:
        distances, same = lfw_pairs(embedder_name)
    print(f"embedder {embedder_name} on {data}: {len(distances)} pairs ({same.sum()} same person, {(~same).sum()} different)")
    print(describe("same", distances[same]))
    print(describe("different", distances[~same]))
    best, best_accuracy = best_threshold(distances, same)
    best_balanced, best_balanced_accuracy = best_threshold(distances, same, balanced_accuracy_at)
    print(f"best accuracy {best_accuracy:.4f} at {best:.4f}; best balanced accuracy "
          f"{best_balanced_accuracy:.4f} at {best_balanced:.4f}")
    calibration = calibrate(embedder_name, distances, same)
    shipped = get_embedder(embedder_name).calibration.threshold
    for t in sorted({best, best_balanced, calibration.threshold, shipped}):
        errors_fn = int((same & (distances >= t)).sum())
        errors_fp = int((~same & (distances < t)).sum())
        marks = ("  <- chosen" if t == calibration.threshold else "") + ("  <- shipped" if t == shipped else "")
        print(f"  at {t:.4f}: accuracy {accuracy_at(t, distances, same):.4f}, balanced "
              f"{balanced_accuracy_at(t, distances, same):.4f} (false rejects {errors_fn}, false accepts {errors_fp}){marks}")
    print(f"scales: same {calibration.scale_same}, different {calibration.scale_different}")
    conf = logistic_confidence(distances, calibration)
    print(describe("conf same", conf[same]))
    print(describe("conf diff", conf[~same]))
    print(f"Calibration(threshold={calibration.threshold}, scale_same={calibration.scale_same}, "
          f"scale_different={calibration.scale_different}, calibrated=True)")


def fusion_sweep() -> float:
    """Print the weight table; return the weight the rule picks."""
    photos = lfw.photos()
    dlib = unit_rows(lfw.templates(DLIB_EMBEDDER, photos))
    sface = unit_rows(lfw.templates(SFACE_EMBEDDER, photos))
    print("dlib weight | 10-fold CV verify | pair ranking error | rank-1 errors (of probes) | rank-1")
    rows = []
    for weight in FUSION_GRID:
        fused = np.hstack([np.sqrt(weight) * dlib, np.sqrt(1 - weight) * sface]).astype(np.float32)
        pairs = lfw.pair_set(fused, photos)
        cv, cv_sd = cross_validated_accuracy(pairs.distances, pairs.same)
        ranking = ranking_error(pairs.distances, pairs.same)
        rank1 = lfw.rank_one(fused, photos)
        errors = round((1 - rank1.accuracy) * rank1.probes)
        rows.append((errors, -cv, ranking, weight))
        print(f"{weight:11.2f} | {cv:.4f} ± {cv_sd:.4f}   | {ranking:.5f}            | "
              f"{errors:4d} ({rank1.probes})               | {rank1.accuracy:.4f}")
    chosen = min(rows)[3]
    print(f"chosen dlib weight {chosen:.2f} (fewest rank-1 errors, then CV accuracy, then ranking error)")
    return float(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("embedder", nargs="?", default=DLIB_EMBEDDER)
    parser.add_argument("--on", choices=("lfw-dev", "persons"), default="lfw-dev", dest="data")
    parser.add_argument("--fusion", action="store_true", help="choose dlib's weight in the fused embedder")
    args = parser.parse_args()
    if args.fusion:
        fusion_sweep()
    else:
        report_calibration(args.embedder, args.data)


if __name__ == "__main__":
    main()
