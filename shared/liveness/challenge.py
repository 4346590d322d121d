"""The active part of PassiveActive: a random sequence of head turns the user must perform.

A session draws CHALLENGE_LENGTH turns, each "turnLeft" or "turnRight" (the user's own left
and right), with both directions present. The capture page shows them one at a time and
sends the frames in capture order. The check reads each frame's yaw relative to the first
frame (which the page captures looking straight ahead): a frame is a turn to the user's left
when yaw rose by at least TURN_DEGREES (Azure's yaw is positive toward the image right, the
subject's left, in an unmirrored camera frame), to the right when it fell by that much,
centred within CENTER_DEGREES; frames in between are ignored. Consecutive frames of one state
merge, and the turns must be exactly the challenge, in order: a missing, extra or swapped
turn fails. A still picture has one yaw in every frame and can never produce a turn.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence

TURN_LEFT, TURN_RIGHT = "turnLeft", "turnRight"
CHALLENGE_LENGTH = 3
TURN_DEGREES = 15.0
CENTER_DEGREES = 8.0
# Yaw spread below this across all frames: the face never moved (a photo or a replayed still).
STILL_DEGREES = 4.0
_CENTER = "center"


def new_challenge() -> tuple[str, ...]:
    while True:
        steps = tuple(secrets.choice((TURN_LEFT, TURN_RIGHT)) for _ in range(CHALLENGE_LENGTH))
        if len(set(steps)) == 2:
            return steps


def states(yaws: Sequence[float]) -> list[str]:
    """Each frame's state relative to the first: turnLeft, turnRight, center, or "" (between)."""
    baseline = yaws[0]
    labelled = []
    for yaw in yaws:
        delta = yaw - baseline
        if delta >= TURN_DEGREES:
            labelled.append(TURN_LEFT)
        elif delta <= -TURN_DEGREES:
            labelled.append(TURN_RIGHT)
        elif abs(delta) <= CENTER_DEGREES:
            labelled.append(_CENTER)
        else:
            labelled.append("")
    return labelled


def turns(yaws: Sequence[float]) -> list[str]:
    """The turns performed, in order: runs of one state merge, centre frames separate turns."""
    performed: list[str] = []
    previous = _CENTER
    for state in states(yaws):
        if not state or state == previous:
            continue
        if state != _CENTER:
            performed.append(state)
        previous = state
    return performed


def is_still(yaws: Sequence[float]) -> bool:
    return max(yaws) - min(yaws) < STILL_DEGREES


def centred(yaws: Sequence[float]) -> list[int]:
    """Indices of the frames looking straight ahead (as the first one does)."""
    return [index for index, state in enumerate(states(yaws)) if state == _CENTER]


def follows(yaws: Sequence[float], challenge: Sequence[str]) -> bool:
    return turns(yaws) == list(challenge)
