"""Pair statistics shared by the calibration and accuracy scripts: thresholds and accuracies
over (distance, same-person) pairs, LFW-style cross-validation, and the pair ranking error."""
from __future__ import annotations

import numpy as np

GRID_STEP = 0.001
FOLDS = 10


def accuracy_at(threshold: float, distances: np.ndarray, same: np.ndarray) -> float:
    return float(((distances < threshold) == same).mean())


def balanced_accuracy_at(threshold: float, distances: np.ndarray, same: np.ndarray) -> float:
    return float(((distances[same] < threshold).mean() + (distances[~same] >= threshold).mean()) / 2)


def best_threshold(distances: np.ndarray, same: np.ndarray, score=accuracy_at) -> tuple[float, float]:
    """Midpoint of the first (lowest, so fewer false accepts) run of best-scoring thresholds
    on a GRID_STEP grid, and that score. Infinite distances (no face) are never below it."""
    finite = distances[np.isfinite(distances)]
    grid = np.arange(finite.min(), finite.max() + GRID_STEP, GRID_STEP)
    scores = np.array([score(t, distances, same) for t in grid])
    best = np.flatnonzero(scores == scores.max())
    breaks = np.flatnonzero(np.diff(best) > 1)
    last = best[breaks[0]] if len(breaks) else best[-1]
    # Grid points are GRID_STEP apart, so the midpoint is a multiple of GRID_STEP / 2: rounding
    # to 3 decimals could move it off a one-step run (e.g. just below the largest same-person
    # distance), where it no longer scores the best.
    return round(float((grid[best[0]] + grid[last]) / 2), 4), float(scores.max())


def folds(same: np.ndarray) -> np.ndarray:
    """Fold number of each pair: the k-th tenth of the same-person pairs and of the
    different-person pairs (in their order) make fold k, as LFW's ten sets do."""
    assignment = np.empty(len(same), dtype=int)
    for kind in (True, False):
        members = np.flatnonzero(same == kind)
        assignment[members] = np.arange(len(members)) * FOLDS // len(members)
    return assignment


def cross_validated_accuracy(distances: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of the ten held-out fold accuracies, each at the threshold
    that is best on the other nine folds."""
    assignment = folds(same)
    scores = []
    for fold in range(FOLDS):
        train, test = assignment != fold, assignment == fold
        threshold, _ = best_threshold(distances[train], same[train])
        scores.append(accuracy_at(threshold, distances[test], same[test]))
    return float(np.mean(scores)), float(np.std(scores))


def ranking_error(distances: np.ndarray, same: np.ndarray) -> float:
    """1 - ROC AUC: the share of (same, different) pair couples ranked the wrong way round
    (ties count half); threshold-free, so it resolves differences accuracy cannot."""
    ours, theirs = distances[same], distances[~same]
    wrong = (ours[:, None] > theirs[None, :]).mean() + 0.5 * (ours[:, None] == theirs[None, :]).mean()
    return float(wrong)
