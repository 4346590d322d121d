"""MediaPipe's two ways of framing the face-mesh crop, for the benchmarks that compare them
with the engine's ``alignment.mesh_crop`` (YuNet's five points): from a detector box, and
from a previous mesh (what MediaPipe's tracker does between video frames)."""
from __future__ import annotations

import numpy as np

from shared.engine.landmarks import line_angle
from shared.engine.roi import Roi

MESH_ROI_SCALE = 1.5

def box_roi(points5: np.ndarray, rectangle) -> Roi:
    """Detection-to-ROI: 1.5x the box's longer side around its centre, YuNet's eyes level
    (points5[0] is the image-left eye)."""
    center = (rectangle.left + rectangle.width / 2, rectangle.top + rectangle.height / 2)
    return Roi(center, MESH_ROI_SCALE * max(rectangle.width, rectangle.height), line_angle(points5[0], points5[1]))


def mesh_roi(mesh: np.ndarray) -> Roi:
    """Landmarks-to-ROI: the mesh's bounding square x1.5, rotated by eye corners 33 and 263."""
    low, high = mesh[:, :2].min(axis=0), mesh[:, :2].max(axis=0)
    center = (low + high) / 2
    size = MESH_ROI_SCALE * float((high - low).max())
    return Roi((float(center[0]), float(center[1])), size, line_angle(mesh[33, :2], mesh[263, :2]))
