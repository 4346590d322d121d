"""Azure face attributes: which names a request may ask for, and the values we compute.

Only attributes with an honest measurement are returned: headPose (face mesh geometry),
blur / exposure / noise (image statistics of the face region) and qualityForRecognition
(a documented rule over those). Everything else Azure can return (age, smile, glasses,
mask, ...) needs a trained classifier this service does not have, so asking for it is a
BadArgument naming the attribute, never a made-up value.

Values use v1.2 casing; the API layer maps levels to v1.0 capitalisation.
"""
from __future__ import annotations

import numpy as np

from shared.engine import image_quality, types
from shared.engine.head_pose import head_pose
from shared.engine.landmarks import FaceMeshLandmarker
from shared.errors import BadArgument

# face-api.md §3.1: what each detection model can return (v1.0 adds gender/emotion/makeup
# to detection_01). qualityForRecognition is checked separately: any model with attributes,
# but only with recognition_03/04.
ALLOWED_BY_DETECTION_MODEL: dict[str, frozenset[str]] = {
    "detection_01": frozenset({
        "headPose", "glasses", "occlusion", "accessories", "blur", "exposure", "noise",
        "age", "smile", "facialHair", "hair", "gender", "emotion", "makeup", "qualityForRecognition",
    }),
    "detection_02": frozenset(),
    "detection_03": frozenset({"headPose", "mask", "blur", "qualityForRecognition"}),
}
KNOWN_NAMES = frozenset().union(*ALLOWED_BY_DETECTION_MODEL.values())
QUALITY_RECOGNITION_MODELS = ("recognition_03", "recognition_04")
COMPUTED = ("headPose", "blur", "exposure", "noise", "qualityForRecognition")

# qualityForRecognition rule (docs/landmarks-and-attributes.md). Sizes are the shorter side
# of the face rectangle in pixels; angles in degrees.
LOW_MAX_FACE_SIDE = 48  # below this there is too little detail for a stable template
HIGH_MIN_FACE_SIDE = 120  # about 60 px between the eyes
HIGH_MAX_ANGLE = 20.0  # |yaw| and |pitch| for "high"
LOW_MIN_ANGLE = 45.0  # |yaw| or |pitch| beyond this is "low"


def validate_attribute_names(names: tuple[str, ...], detection_model: str, recognition_model: str | None) -> None:
    """Raise BadArgument for any name this detection model, recognition model or service rejects."""
    allowed = ALLOWED_BY_DETECTION_MODEL.get(detection_model)
    if allowed is None:
        raise BadArgument(f"Invalid detectionModel '{detection_model}'.")
    for name in names:
        if name not in KNOWN_NAMES:
            raise BadArgument(f"Invalid returnFaceAttributes: unknown attribute '{name}'.")
        if name not in allowed:
            raise BadArgument(f"Attribute '{name}' is not supported by detection model '{detection_model}'.")
        if name == "qualityForRecognition" and recognition_model not in QUALITY_RECOGNITION_MODELS:
            raise BadArgument(
                "Attribute 'qualityForRecognition' requires recognitionModel recognition_03 or recognition_04."
            )
        if name not in COMPUTED:
            raise BadArgument(
                f"Attribute '{name}' is not available: this service does not compute it "
                f"(it computes {', '.join(COMPUTED)})."
            )


def quality_for_recognition(side: int, blur: dict, exposure: dict, noise: dict, pose: dict) -> str:
    angle = max(abs(pose["yaw"]), abs(pose["pitch"]))
    if (
        side < LOW_MAX_FACE_SIDE
        or blur["blurLevel"] == "high"
        or exposure["exposureLevel"] != "goodExposure"
        or noise["noiseLevel"] == "high"
        or angle > LOW_MIN_ANGLE
    ):
        return "low"
    if side >= HIGH_MIN_FACE_SIDE and blur["blurLevel"] == "low" and noise["noiseLevel"] == "low" and angle <= HIGH_MAX_ANGLE:
        return "high"
    return "medium"


def _measures(names: tuple[str, ...]) -> set[str]:
    """The measurements behind ``names`` (qualityForRecognition is judged from four)."""
    wanted = set(names)
    if "qualityForRecognition" in wanted:
        wanted |= {"headPose", "blur", "exposure", "noise"}
    return wanted


def needs_face_mesh(names: tuple[str, ...]) -> bool:
    """Whether computing ``names`` runs the face mesh (head pose reads its geometry)."""
    return "headPose" in _measures(names)


def compute_attributes(
    image_bgr: np.ndarray,
    face: types.DetectedFace,
    names: tuple[str, ...],
    detection_model: str,
    recognition_model: str | None,
    mesh: np.ndarray | None = None,
) -> dict:
    """Azure's faceAttributes object for one face, with exactly the names asked for.

    ``mesh``: the face's mesh from ``FaceMeshLandmarker.mesh`` when the caller has it
    already (for landmarks or a dlib template); headPose then costs no model run.
    The engine validates the names once per request; checking again here is a few set
    lookups and guarantees no code path can return a value we did not measure.
    """
    validate_attribute_names(names, detection_model, recognition_model)
    wanted = _measures(names)
    measured: dict = {}
    if "headPose" in wanted:
        if mesh is None:
            mesh = FaceMeshLandmarker().mesh(image_bgr, face.points5)
        measured["headPose"] = head_pose(mesh)
    quality_measures = {"blur": image_quality.blur, "exposure": image_quality.exposure, "noise": image_quality.noise}
    if wanted & quality_measures.keys():
        gray = image_quality.face_gray(image_bgr, face.rectangle)
        measured |= {name: measure(gray) for name, measure in quality_measures.items() if name in wanted}
    if "qualityForRecognition" in wanted:
        side = min(face.rectangle.width, face.rectangle.height)
        measured["qualityForRecognition"] = quality_for_recognition(
            side, measured["blur"], measured["exposure"], measured["noise"], measured["headPose"]
        )
    return {name: measured[name] for name in names}
