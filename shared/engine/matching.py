"""Comparing templates: distances, Azure's confidence, and the same-person decision.

Every embedder's templates are compared by Euclidean distance on the stored vectors (dlib's
raw descriptors, or L2-normalised ArcFace vectors), so the same code and an HNSW 'l2' index
serve all of them. Azure answers a *confidence* in [0, 1] with ``isIdentical`` when it is at
least 0.5; we get there with one logistic map per embedder::

    confidence = 1 / (1 + exp((distance - threshold) / scale))

with ``scale = scale_same`` below the threshold and ``scale_different`` above it: continuous,
monotonically decreasing in distance, and exactly 0.5 at the same-person distance threshold.
For dlib the threshold and scales were calibrated on every pair of the dev photos
(benchmarks/calibrate.py, docs/recognition.md); ArcFace models get an uncalibrated default
that the owner may override per model in FACE_ARCFACE_MODELS (see embedders.py).
"""
from __future__ import annotations

import numpy as np

from shared.engine.calibration import Calibration
from shared.engine.embedders import get_embedder
from shared.engine.types import Template
from shared.errors import BadArgument

SAME_PERSON_CONFIDENCE = 0.5


def check_compatible(a: Template, b: Template) -> None:
    """Templates from different networks (or Azure model names) live in different spaces."""
    if (a.recognition_model, a.embedder, a.embedder_version) != (b.recognition_model, b.embedder, b.embedder_version):
        raise BadArgument(
            "comparing templates of different models is refused: "
            f"{a.recognition_model} ({a.embedder} v{a.embedder_version}) vs "
            f"{b.recognition_model} ({b.embedder} v{b.embedder_version})."
        )


def distances(query: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """Euclidean distances: (d,) x (n, d) -> (n,); (m, d) x (n, d) -> (m, n)."""
    query = np.asarray(query, dtype=np.float64)
    gallery = np.atleast_2d(np.asarray(gallery, dtype=np.float64))
    if query.ndim == 1:
        return np.linalg.norm(gallery - query[None, :], axis=1)
    return np.linalg.norm(query[:, None, :] - gallery[None, :, :], axis=2)


def logistic_confidence(distance, calibration: Calibration):
    offset = np.asarray(distance, dtype=np.float64) - calibration.threshold
    z = offset / np.where(offset < 0, calibration.scale_same, calibration.scale_different)
    result = 0.5 * (1.0 - np.tanh(z / 2.0))  # = 1 / (1 + e^z), without overflow for large |z|
    return float(result) if np.ndim(result) == 0 else result


def confidence(distance, embedder_name: str):
    """Azure's confidence for a distance (float or array) between two templates of one embedder."""
    return logistic_confidence(distance, get_embedder(embedder_name).calibration)


def is_identical(confidence_value: float) -> bool:
    return bool(confidence_value >= SAME_PERSON_CONFIDENCE)


def compare(a: Template, b: Template) -> dict:
    """Azure's verify answer for two templates: {"isIdentical", "confidence"}."""
    check_compatible(a, b)
    value = confidence(float(np.linalg.norm(a.vector - b.vector)), a.embedder)
    return {"isIdentical": is_identical(value), "confidence": value}
