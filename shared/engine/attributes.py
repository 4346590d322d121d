"""Azure face attributes: which names a request may ask for, and the values we compute.

Only attributes with an honest measurement are returned: headPose (face mesh geometry),
blur / exposure / noise (image statistics of the face region), qualityForRecognition (a
documented rule over those), glasses (a classifier on the eye band, with the eye-occlusion
measure telling sunglasses from clear lenses), occlusion (occlusion.py), mask (a mask
detector) and accessories (what the last two found). Azure's retired attributes (age,
smile, facialHair, hair, gender, emotion, makeup) need classifiers this service does not
have, so asking for one is a BadArgument naming it, never a made-up value.

Each model runs only for the attributes that need it, once per face (FaceMeasures).
Values use v1.2 casing; the API layer maps levels to v1.0 capitalisation.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from shared.engine import image_quality, occlusion, types
from shared.engine.face_mask import FaceMaskDetector, MaskScores
from shared.engine.glasses import GlassesClassifier, eye_band
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
COMPUTED = ("headPose", "blur", "exposure", "noise", "qualityForRecognition", "glasses", "occlusion", "accessories", "mask")

# qualityForRecognition rule (docs/landmarks-and-attributes.md). Sizes are the shorter side
# of the face rectangle in pixels; angles in degrees.
LOW_MAX_FACE_SIDE = 48  # below this there is too little detail for a stable template
HIGH_MIN_FACE_SIDE = 120  # about 60 px between the eyes
HIGH_MAX_ANGLE = 20.0  # |yaw| and |pitch| for "high"
LOW_MIN_ANGLE = 45.0  # |yaw| or |pitch| beyond this is "low"

# Decision thresholds (docs/landmarks-and-attributes.md has how each was measured).
GLASSES_MAX_LOGIT = 0.0  # the classifier's own: a logit below 0 means glasses on the nose
MASK_MIN_SCORE = 0.5  # below this for both classes the detector does not see a face: uncertain
# Eye regions darker than this share of the cheeks' lightness behind glasses: dark lenses. The
# three sunglasses in the labelled glasses photos read 0.12-0.35 (a mirrored pair 0.68, missed),
# clear glasses 0.43-0.86; bare eyes go down to 0.21 (heavy make-up), hence only with glasses.
SUNGLASSES_MAX_DARKNESS = 0.4


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


class FaceMeasures:
    """What one face's attributes are read from, each measured on first use and kept: a
    request that asks for glasses and accessories runs the glasses classifier once, and the
    occlusion measures cover only the regions asked about (mask: the mouth; glasses: the eyes)."""

    def __init__(self, image_bgr: np.ndarray, face: types.DetectedFace, mesh: np.ndarray | None) -> None:
        self.image_bgr = image_bgr
        self.face = face
        self._mesh = mesh

    @cached_property
    def mesh(self) -> np.ndarray:
        return self._mesh if self._mesh is not None else FaceMeshLandmarker().mesh(self.image_bgr, self.face.points5)

    @cached_property
    def head_pose(self) -> dict:
        return head_pose(self.mesh)

    @cached_property
    def gray(self) -> np.ndarray:
        return image_quality.face_gray(self.image_bgr, self.face.rectangle)

    @cached_property
    def blur(self) -> dict:
        return image_quality.blur(self.gray)

    @cached_property
    def exposure(self) -> dict:
        return image_quality.exposure(self.gray)

    @cached_property
    def noise(self) -> dict:
        return image_quality.noise(self.gray)

    @cached_property
    def regions(self) -> occlusion.FaceRegions:
        return occlusion.FaceRegions(self.image_bgr, self.mesh)

    @cached_property
    def regions_beside_mask(self) -> occlusion.FaceRegions:
        """The same measures against the skin between the brows: a mask covers the cheeks."""
        return occlusion.FaceRegions(self.image_bgr, self.mesh, occlusion.GLABELLA)

    def occlusion_regions(self, masked: bool) -> occlusion.FaceRegions:
        return self.regions_beside_mask if masked else self.regions

    @cached_property
    def glasses_logit(self) -> float:
        return GlassesClassifier().logit(eye_band(self.image_bgr, self.mesh))

    @cached_property
    def mask_scores(self) -> MaskScores:
        return FaceMaskDetector().scores(self.image_bgr, self.face.rectangle)


def glasses_type(measures: FaceMeasures, masked: bool = False) -> str:
    """noGlasses / readingGlasses / sunglasses: lenses that hide the eyes, i.e. the eye
    regions read as covered or are much darker than the reference skin. Swimming goggles are
    never returned: nothing here tells them from sunglasses. ``masked``: the mask detector
    found a mask (occlusion_flags knows; the glasses attribute alone does not run it)."""
    if measures.glasses_logit >= GLASSES_MAX_LOGIT:
        return "noGlasses"
    regions = measures.occlusion_regions(masked)
    darkness = regions.features("eye")[occlusion.FEATURES["eye"].index("darkness")]
    hidden = regions.covered("eye") or darkness < SUNGLASSES_MAX_DARKNESS
    return "sunglasses" if hidden else "readingGlasses"


def has_mask(scores: MaskScores) -> bool:
    return scores.mask >= MASK_MIN_SCORE and scores.mask >= scores.no_mask


def mask_properties(measures: FaceMeasures) -> dict:
    """Azure's mask object. The detector tells a mask from a bare face; a bare face whose
    mouth is covered all the same (a hand, a scarf) is otherMaskOrOcclusion."""
    scores = measures.mask_scores
    if max(scores.mask, scores.no_mask) < MASK_MIN_SCORE:
        kind = "uncertain"
    elif has_mask(scores):
        kind = "faceMask"
    elif measures.regions.covered("mouth"):
        kind = "otherMaskOrOcclusion"
    else:
        kind = "noMask"
    return {"type": kind, "noseAndMouthCovered": kind in ("faceMask", "otherMaskOrOcclusion")}


def occlusion_flags(measures: FaceMeasures) -> dict:
    """The regions' own measures, plus what covers a region by definition: sunglasses the
    eyes, a mask the mouth (masks also cover the cheeks the mouth measure compares with,
    so on real masks it alone finds a third of them; for the same reason a masked face's
    forehead and eyes are measured against the skin between the brows)."""
    masked = has_mask(measures.mask_scores)
    regions = measures.occlusion_regions(masked)
    return {
        "foreheadOccluded": regions.covered("forehead"),
        "eyeOccluded": regions.covered("eye") or glasses_type(measures, masked) == "sunglasses",
        "mouthOccluded": masked or regions.covered("mouth"),
    }


def accessories(measures: FaceMeasures) -> list[dict]:
    """The glasses and mask found, each with its confidence (Azure lists only what it found).
    No headwear: no method measured well enough on labelled photos (docs)."""
    found = []
    if measures.glasses_logit < GLASSES_MAX_LOGIT:
        found.append({"type": "glasses", "confidence": round(float(1 / (1 + np.exp(measures.glasses_logit))), 3)})
    if has_mask(measures.mask_scores):
        found.append({"type": "mask", "confidence": round(measures.mask_scores.mask, 3)})
    return found


# What each attribute reads, so a request runs only the models its attributes need.
_USES_MESH = frozenset({"headPose", "qualityForRecognition", "glasses", "occlusion", "accessories", "mask"})


def needs_face_mesh(names: tuple[str, ...]) -> bool:
    """Whether computing ``names`` runs the face mesh (the engine then shares its own run)."""
    return bool(_USES_MESH.intersection(names))


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
    measures = FaceMeasures(image_bgr, face, mesh)
    return {name: _ATTRIBUTES[name](measures) for name in names}


def _quality(measures: FaceMeasures) -> str:
    side = min(measures.face.rectangle.width, measures.face.rectangle.height)
    return quality_for_recognition(side, measures.blur, measures.exposure, measures.noise, measures.head_pose)


_ATTRIBUTES = {
    "headPose": lambda measures: measures.head_pose,
    "blur": lambda measures: measures.blur,
    "exposure": lambda measures: measures.exposure,
    "noise": lambda measures: measures.noise,
    "qualityForRecognition": _quality,
    "glasses": glasses_type,
    "occlusion": occlusion_flags,
    "mask": mask_properties,
    "accessories": accessories,
}
