"""realface / spoofface / uncertain from an attempt's frames.

Passive: the decision is made on the best frame, i.e. a frame showing exactly one face at
least MIN_FACE_SIDE px wide (sharp and well exposed frames first, then the largest face).
MiniFASNet's fused live probability p decides: p >= REALFACE_MIN and a sharp, well exposed
face -> realface; p <= SPOOFFACE_MAX -> spoofface; anything else -> uncertain. The thresholds
were set from the measurements in docs/liveness.md (benchmarks/bench_liveness.py).

PassiveActive first checks the challenge across all frames (challenge.py) and that every
frame shows the same person (template confidence against the first frame): a different
person or a face that never moves -> spoofface; turns missing, extra or out of order ->
uncertain. Only then does the passive rule decide, on the best centred frame.

A frame set that has no usable face at all is not a decision but an attempt error
(FaceNotFound, MultipleFaces, FaceTooSmall).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.engine.engine import embedder_for
from shared.engine.matching import confidence, distances, is_identical
from shared.liveness import challenge
from shared.liveness.frames import FrameView
from shared.liveness.verify import RECOGNITION_MODEL

REALFACE, SPOOFFACE, UNCERTAIN = "realface", "spoofface", "uncertain"
REALFACE_MIN = 0.60
SPOOFFACE_MAX = 0.35
MIN_FACE_SIDE = 80


class AttemptError(Exception):
    """The frames hold no face a decision could be made on (the attempt fails with ``code``)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Decision:
    decision: str
    frame: FrameView  # the frame the decision (and a verify match) was made on


def classify(view: FrameView) -> str:
    probability = view.real_probability
    if probability <= SPOOFFACE_MAX:
        return SPOOFFACE
    if probability >= REALFACE_MIN and view.well_exposed_and_sharp:
        return REALFACE
    return UNCERTAIN


def passive(views: Sequence[FrameView]) -> Decision:
    best = best_frame(usable(views))
    return Decision(classify(best), best)


def active(views: Sequence[FrameView], steps: Sequence[str]) -> Decision:
    if any(len(view.faces) > 1 for view in views):
        raise AttemptError("MultipleFaces", "More than one face was seen during the challenge.")
    seen = usable(views)
    yaws = [view.yaw for view in seen]
    if challenge.is_still(yaws) or not _same_person(seen):
        return Decision(SPOOFFACE, best_frame(seen))
    centred = [seen[index] for index in challenge.centred(yaws)]
    best = best_frame(centred)
    if not challenge.follows(yaws, steps):
        return Decision(UNCERTAIN, best)
    return Decision(classify(best), best)


def usable(views: Sequence[FrameView]) -> list[FrameView]:
    """Frames with exactly one large enough face; AttemptError when there are none."""
    found = [view for view in views if view.face is not None and view.face_side >= MIN_FACE_SIDE]
    if found:
        return found
    if any(len(view.faces) > 1 for view in views):
        raise AttemptError("MultipleFaces", "More than one face is in the frame.")
    if any(view.faces for view in views):
        raise AttemptError("FaceTooSmall", f"The face is too small: come closer (at least {MIN_FACE_SIDE} px).")
    raise AttemptError("FaceNotFound", "No face was found in the frames.")


def best_frame(views: Sequence[FrameView]) -> FrameView:
    return max(views, key=lambda view: (view.well_exposed_and_sharp, view.face_side))


def _same_person(views: Sequence[FrameView]) -> bool:
    if len(views) < 2:
        return True
    embedder = embedder_for(RECOGNITION_MODEL)
    vectors = [view.template(embedder, RECOGNITION_MODEL).vector for view in views]
    scores = confidence(distances(vectors[0], vectors[1:]), embedder)
    return all(is_identical(float(score)) for score in scores)
