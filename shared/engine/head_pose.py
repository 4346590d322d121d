"""Head pose (pitch, roll, yaw in degrees) from the 3D face mesh, in Azure's conventions.

Geometric method, no fitted model: the mesh's own 3D points (image pixels, z away from the
camera) give the face's axes directly:
* across: the mean vector from image-left to image-right over symmetric point pairs;
* down: forehead (10) to chin (152), made orthogonal to "across";
* back: across x down.
On MediaPipe's canonical face these axes are the camera axes to within 1 degree, so the
rotation matrix [across down back] is the head's rotation relative to a frontal face.

Azure documents the angles as right-handed, applied in the order roll, yaw, pitch. Public
Azure responses show the signs: roll > 0 when the face is turned clockwise in the image
(its image-right eye lower), yaw > 0 when the face turns toward the image right. The
right-handed frame that gives both is x toward the subject's right (image-left), y up,
z away from the camera, in which pitch > 0 means looking up. See docs/landmarks-and-attributes.md.
"""
from __future__ import annotations

import numpy as np

# (image-left, image-right) on a frontal face: eye corners, mouth corners, cheek contour,
# brows. Many pairs so one badly placed point cannot swing the axis.
SYMMETRIC_PAIRS = ((33, 263), (133, 362), (61, 291), (234, 454), (93, 323), (132, 361), (58, 288), (70, 300), (105, 334))
FOREHEAD, CHIN = 10, 152

# Camera frame (x right, y down, z away) -> Azure's frame (x image-left, y up, z away).
_TO_AZURE = np.diag([-1.0, -1.0, 1.0])


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def face_rotation(mesh: np.ndarray) -> np.ndarray:
    """3x3 matrix whose columns are the face's across/down/back axes in camera coordinates."""
    left, right = (np.array(side) for side in zip(*SYMMETRIC_PAIRS))
    across = _unit((mesh[right] - mesh[left]).sum(axis=0))
    down = mesh[CHIN] - mesh[FOREHEAD]
    down = _unit(down - down.dot(across) * across)
    return np.column_stack([across, down, np.cross(across, down)])


def head_pose(mesh: np.ndarray) -> dict[str, float]:
    """Azure's headPose from a (468, 3) mesh: {"pitch", "roll", "yaw"} in degrees."""
    rotation = _TO_AZURE @ face_rotation(np.asarray(mesh, np.float64)) @ _TO_AZURE
    # rotation = Rx(pitch) @ Ry(yaw) @ Rz(roll): roll is applied first, pitch last.
    yaw = np.arcsin(np.clip(rotation[0, 2], -1.0, 1.0))
    roll = np.arctan2(-rotation[0, 1], rotation[0, 0])
    pitch = np.arctan2(-rotation[1, 2], rotation[2, 2])
    return {name: round(float(np.degrees(angle)), 1) for name, angle in (("pitch", pitch), ("roll", roll), ("yaw", yaw))}
