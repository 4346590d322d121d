"""Azure's 27 face landmarks from MediaPipe face mesh (468 points) + iris landmarks.

Pipeline per face (the steps of MediaPipe's face_landmark / iris_landmark graphs):
1. ROI: the square ``alignment.mesh_crop`` places from YuNet's five points, framed as
   MediaPipe's tracker frames a face it already follows; warped to a 192x192 RGB crop in [0, 1].
2. Face mesh: 468 (x, y, z) points in crop pixels, mapped back to the image (z scaled like x,
   camera frame: x right, y down, z away from the camera). One pass: a second one on a crop
   framed by this mesh (the tracker's own step) is no more consistent from this framing
   (benchmarks/mesh_mirror.py). It is the very mesh dlib's alignment reads (embedders.py), so
   a request that wants landmarks, head pose and a dlib template runs the face mesh once.
3. Iris: for each eye a square 2.3x the eye-corner distance around the corners, rotated to
   the corner line, 64x64 in [0, 1]; the image-right eye is mirrored because the model was
   trained on image-left eyes. Output point 0 is the pupil centre.
4. The 27 names are single mesh points or means of a few (docs/landmarks-and-attributes.md).

Left/right follow what the Azure service returns: "Left" is the image-left side, i.e. the
subject's right on an unmirrored frontal photo (see MESH_POINTS).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.engine.alignment import mesh_crop
from shared.engine.onnx_model import OnnxModel
from shared.engine.roi import Roi

MESH_SIZE = 192
IRIS_SIZE = 64
IRIS_ROI_SCALE = 2.3

# Per eye: the corners that place the iris ROI, and the mesh indices of the iris model's
# first 16 outputs (lower lid from the outer corner, then upper lid). The iris model sees
# the eye at 3x the mesh's resolution, so MediaPipe overwrites these mesh points with its
# contour; we do the same. Order from MediaPipe's iris landmark graph.
IMAGE_LEFT_EYE = {
    "corners": (33, 133),
    "contour": (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173),
}
IMAGE_RIGHT_EYE = {
    "corners": (362, 263),
    "contour": (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398),
}

# Azure name -> mesh indices whose mean is the point; pupils come from the iris model.
# Azure's "Left" is the image-left side (the subject's right eye on a frontal photo): every
# public Azure response checked has pupilLeft.x < pupilRight.x. The choice of indices is
# explained in docs/landmarks-and-attributes.md.
MESH_POINTS: dict[str, tuple[int, ...]] = {
    "noseTip": (4,),
    "mouthLeft": (61,),
    "mouthRight": (291,),
    "eyebrowLeftOuter": (46, 52, 53),
    "eyebrowLeftInner": (107, 55),
    "eyeLeftOuter": (33,),
    "eyeLeftTop": (159, 158),
    "eyeLeftBottom": (145, 153),
    "eyeLeftInner": (133,),
    "eyebrowRightInner": (336, 285),
    "eyebrowRightOuter": (276, 282, 283),
    "eyeRightInner": (362,),
    "eyeRightTop": (386, 385),
    "eyeRightBottom": (374, 380),
    "eyeRightOuter": (263,),
    "noseRootLeft": (193, 245),
    "noseRootRight": (417, 465),
    "noseLeftAlarTop": (198, 131),
    "noseRightAlarTop": (420, 360),
    "noseLeftAlarOutTip": (98,),
    "noseRightAlarOutTip": (327,),
    "upperLipTop": (0,),
    "upperLipBottom": (13,),
    "underLipTop": (14,),
    "underLipBottom": (17,),
}

LANDMARK_NAMES = (
    "pupilLeft", "pupilRight", "noseTip", "mouthLeft", "mouthRight", "eyebrowLeftOuter",
    "eyebrowLeftInner", "eyeLeftOuter", "eyeLeftTop", "eyeLeftBottom", "eyeLeftInner",
    "eyebrowRightInner", "eyebrowRightOuter", "eyeRightInner", "eyeRightTop", "eyeRightBottom",
    "eyeRightOuter", "noseRootLeft", "noseRootRight", "noseLeftAlarTop", "noseRightAlarTop",
    "noseLeftAlarOutTip", "noseRightAlarOutTip", "upperLipTop", "upperLipBottom", "underLipTop",
    "underLipBottom",
)


def _to_tensor(crop_bgr: np.ndarray) -> np.ndarray:
    """HWC uint8 BGR -> NCHW float32 RGB in [0, 1] (the range both graphs use).

    Converting the small crop instead of the whole image saves milliseconds per face; one
    float32 division straight into the contiguous NCHW tensor (the same values as converting,
    dividing and transposing) saves a copy and onnxruntime another."""
    tensor = np.empty((1, 3, *crop_bgr.shape[:2]), dtype=np.float32)
    np.divide(crop_bgr.transpose(2, 0, 1)[::-1], np.float32(255.0), out=tensor[0])
    return tensor


def line_angle(start: np.ndarray, end: np.ndarray) -> float:
    return float(np.arctan2(end[1] - start[1], end[0] - start[0]))


def eye_roi(mesh: np.ndarray, corners: tuple[int, int]) -> Roi:
    first, second = mesh[corners[0], :2], mesh[corners[1], :2]
    center = (first + second) / 2
    size = IRIS_ROI_SCALE * float(np.max(np.abs(second - first)))
    return Roi((float(center[0]), float(center[1])), size, line_angle(first, second))


class FaceMeshModel(OnnxModel):
    model_name = "face_landmark"

    def mesh(self, image_bgr: np.ndarray, roi: Roi) -> np.ndarray:
        """(468, 3) points in image pixels (z: same scale, positive away from the camera)."""
        raw = self.run_single(_to_tensor(roi.crop(image_bgr, MESH_SIZE)))[0]
        return roi.points_to_image(raw.reshape(-1, 3), MESH_SIZE)


class IrisModel(OnnxModel):
    model_name = "iris_landmark"

    def eye(self, image_bgr: np.ndarray, roi: Roi, mirrored: bool) -> tuple[np.ndarray, np.ndarray]:
        """(71, 2) eye contour and halo points, and the (2,) pupil centre, in image pixels."""
        crop = roi.crop(image_bgr, IRIS_SIZE)
        if mirrored:
            crop = np.ascontiguousarray(crop[:, ::-1])
        contour, iris = (out.reshape(-1, 3)[:, :2].astype(np.float64) for out in self.run_single(_to_tensor(crop)))
        if mirrored:
            contour[:, 0] = IRIS_SIZE - contour[:, 0]
            iris[:, 0] = IRIS_SIZE - iris[:, 0]
        return roi.points_to_image(contour, IRIS_SIZE), roi.points_to_image(iris[:1], IRIS_SIZE)[0]


@dataclass(frozen=True)
class FaceGeometry:
    mesh: np.ndarray  # (468, 3) image pixels
    pupil_image_left: np.ndarray  # (2,), Azure's pupilLeft
    pupil_image_right: np.ndarray  # (2,), Azure's pupilRight


class FaceMeshLandmarker:
    """Dense mesh and Azure landmarks for one detected face; thread-safe (sessions are)."""

    def __init__(self) -> None:
        self._mesh_model = FaceMeshModel()
        self._iris_model = IrisModel()

    def mesh(self, image_bgr: np.ndarray, points5: np.ndarray) -> np.ndarray:
        """(468, 3) face mesh in image pixels, one pass on the crop YuNet's five points place
        (``alignment.mesh_crop``); enough for head pose and dlib's alignment (no iris run)."""
        return self._mesh_model.mesh(image_bgr, mesh_crop(np.asarray(points5, np.float64)))

    def geometry(self, image_bgr: np.ndarray, mesh: np.ndarray) -> FaceGeometry:
        """Pupils and iris-refined eyelids for a ``mesh`` from ``self.mesh`` (left unchanged,
        so the caller can still read head pose off the unrefined mesh)."""
        mesh = mesh.copy()
        left = self._refine_eye(image_bgr, mesh, IMAGE_LEFT_EYE, mirrored=False)
        right = self._refine_eye(image_bgr, mesh, IMAGE_RIGHT_EYE, mirrored=True)
        return FaceGeometry(mesh, left, right)

    def _refine_eye(self, image_bgr: np.ndarray, mesh: np.ndarray, eye: dict, mirrored: bool) -> np.ndarray:
        """Run the iris model on one eye, write its lid contour into ``mesh``, return the pupil."""
        contour, pupil = self._iris_model.eye(image_bgr, eye_roi(mesh, eye["corners"]), mirrored)
        indices = list(eye["contour"])
        mesh[indices, :2] = contour[: len(indices)]
        return pupil

    def landmarks27(self, image_bgr: np.ndarray, points5: np.ndarray) -> dict[str, tuple[float, float]]:
        return azure_landmarks(self.geometry(image_bgr, self.mesh(image_bgr, points5)))


def azure_landmarks(geometry: FaceGeometry) -> dict[str, tuple[float, float]]:
    """The 27 named points, in the spec's order, as image-pixel floats."""
    points = {
        "pupilLeft": geometry.pupil_image_left,
        "pupilRight": geometry.pupil_image_right,
        **{name: geometry.mesh[list(indices), :2].mean(axis=0) for name, indices in MESH_POINTS.items()},
    }
    return {name: (float(points[name][0]), float(points[name][1])) for name in LANDMARK_NAMES}
