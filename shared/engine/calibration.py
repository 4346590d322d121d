"""What the measurements chose: each embedder's distance -> confidence map, the fused weights.

One ``Calibration`` per embedder maps a template distance to Azure's confidence (matching.py).
The constants come from benchmarks/calibrate.py; docs/recognition.md gives the data and the
command for each. Kept apart from the embedders' code so that a recalibration is one edit here
(the fused weight does change fused templates: it is part of that embedder's version).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Calibration:
    """Distance -> confidence: logistic, 0.5 exactly at ``threshold`` (see matching.py).

    The slope may differ on the two sides of the threshold (``scale_same`` below it,
    ``scale_different`` above), because same-person distances bunch closer to the
    threshold than different-person ones; the map stays continuous and monotonic.
    """

    threshold: float
    scale_same: float
    scale_different: float
    calibrated: bool  # False: a generic default, not measured for this model


# Measured on all pairs of the dev persons by benchmarks/calibrate.py (docs/recognition.md).
DLIB_CALIBRATION = Calibration(threshold=0.6, scale_same=0.0987, scale_different=0.1328, calibrated=True)
# Measured on the LFW development split by benchmarks/calibrate.py (docs/recognition.md).
SFACE_CALIBRATION = Calibration(threshold=1.1339, scale_same=0.153, scale_different=0.0962, calibrated=True)
FUSED_CALIBRATION = Calibration(threshold=0.7142, scale_same=0.0953, scale_different=0.0765, calibrated=True)
# dlib's share of the fused cosine, chosen on the LFW development split (docs/recognition.md).
FUSED_DLIB_WEIGHT = 0.7
# Generic ArcFace default on L2-normalised vectors, d = sqrt(2 - 2 cos): threshold cos 0.36
# (d 1.13); typical same-person cos 0.6 (d 0.89) -> 0.9, different cos 0.05 (d 1.38) -> 0.1.
ARCFACE_DEFAULT_CALIBRATION = Calibration(threshold=1.13, scale_same=0.11, scale_different=0.11, calibrated=False)
