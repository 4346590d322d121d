"""The engine facade: image bytes + options -> detected faces with what the caller asked for.

Order of work: validate options (cheap, before any decoding), decode, detect, pick the target
face, then landmarks, attributes and templates only when requested. Each stage lives in its own
module; this one wires them and enforces Azure's rules on which options combine.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping

import numpy as np

from shared.engine.attributes import compute_attributes, needs_face_mesh, validate_attribute_names
from shared.engine.detector import YuNetDetector, iou_matrix
from shared.engine.embedders import DLIB_EMBEDDER, FUSED_EMBEDDER, SFACE_EMBEDDER, get_embedder
from shared.engine.face_mask import FaceMaskDetector
from shared.engine.glasses import GlassesClassifier
from shared.engine.imaging import decode_image
from shared.engine.landmarks import FaceMeshLandmarker, FaceMeshModel, IrisModel, azure_landmarks
from shared.engine.liveness import LivenessChecker, MiniFasNetV1SE, MiniFasNetV2
from shared.engine.types import (
    DETECTION_MODELS,
    RECOGNITION_MODELS,
    DetectedFace,
    DetectOptions,
    LivenessScore,
    Rectangle,
    Template,
)
from shared.errors import BadArgument, InvalidImage
from shared.settings import env_bool, env_str

NO_LANDMARK_DETECTION_MODELS = frozenset({"detection_02"})
# A targetFace must overlap a detection this much (IoU) to pick it; below that the rectangle
# does not frame any face we found, and embedding an unaligned region would be a guess.
TARGET_FACE_MIN_IOU = 0.3
# The embedder serving each Azure recognition model unless FACE_RECOGNITION_EMBEDDERS says
# otherwise, following Azure's ladder: recognition_01/02 dlib's; recognition_03 SFace, the fast
# strong one; recognition_04, Azure's most accurate, the fused dlib+SFace template (chosen on
# the lfw-dev figures: docs/recognition.md, "Which embedder serves which model").
DEFAULT_EMBEDDERS = {
    "recognition_01": DLIB_EMBEDDER,
    "recognition_02": DLIB_EMBEDDER,
    "recognition_03": SFACE_EMBEDDER,
    "recognition_04": FUSED_EMBEDDER,
}
# Models a request can touch besides the embedders (attributes reuse the face mesh).
WARM_UP_MODELS = (YuNetDetector, MiniFasNetV2, MiniFasNetV1SE, FaceMeshModel, IrisModel)
# The attribute models load on first use (about 0.07 s each), unless a deployment whose clients
# ask for mask or glasses has them loaded at start (FACE_WARM_UP_ATTRIBUTE_MODELS).
ATTRIBUTE_MODELS = (FaceMaskDetector, GlassesClassifier)


def recognition_embedders() -> dict[str, str]:
    """FACE_RECOGNITION_EMBEDDERS, e.g. "recognition_01=dlib_resnet_v1,recognition_04=sface".
    Models not named keep their default (DEFAULT_EMBEDDERS)."""
    mapping = {model: DEFAULT_EMBEDDERS[model] for model in RECOGNITION_MODELS}
    for item in filter(None, (part.strip() for part in env_str("FACE_RECOGNITION_EMBEDDERS").split(","))):
        model, _, embedder = (piece.strip() for piece in item.partition("="))
        if model not in mapping or not embedder:
            raise ValueError(f"FACE_RECOGNITION_EMBEDDERS: bad entry '{item}' (expected recognition_0N=<embedder>)")
        mapping[model] = embedder
    return mapping


def embedder_for(recognition_model: str) -> str:
    """The embedder that makes new templates of ``recognition_model`` now: what a container,
    the person directory, a liveness verify reference or any other store records when it
    starts; from then on it keeps embedding with what it recorded, whatever this says later."""
    return recognition_embedders()[recognition_model]


def validate_options(options: DetectOptions) -> None:
    """Reject impossible combinations before spending time on the image (Azure: 400 BadArgument)."""
    if options.detection_model not in DETECTION_MODELS:
        raise BadArgument(f"Invalid detectionModel '{options.detection_model}'.")
    for model in options.recognition_models:
        if model not in RECOGNITION_MODELS:
            raise BadArgument(f"Invalid recognitionModel '{model}'.")
    if options.return_landmarks and options.detection_model in NO_LANDMARK_DETECTION_MODELS:
        raise BadArgument(f"returnFaceLandmarks is not supported by {options.detection_model}.")
    validate_attribute_names(options.attributes, options.detection_model, attribute_recognition_model(options))


def attribute_recognition_model(options: DetectOptions) -> str | None:
    """The recognition model qualityForRecognition is judged for: the request's (first) one."""
    return options.recognition_models[0] if options.recognition_models else None


def check_target_face(target: Rectangle, width: int, height: int) -> None:
    inside = target.left >= 0 and target.top >= 0 and target.left + target.width <= width and target.top + target.height <= height
    if target.width <= 0 or target.height <= 0 or not inside:
        raise BadArgument("Invalid argument targetFace: the rectangle must lie inside the image.")


def pick_target_face(faces: list[DetectedFace], target: Rectangle) -> DetectedFace:
    """The detected face that the caller's rectangle frames best."""
    if faces:
        boxes = np.array([[f.rectangle.left, f.rectangle.top, f.rectangle.width, f.rectangle.height] for f in faces], float)
        wanted = np.array([[target.left, target.top, target.width, target.height]], float)
        overlaps = iou_matrix(wanted, boxes)[0]
        best = int(np.argmax(overlaps))
        if overlaps[best] >= TARGET_FACE_MIN_IOU:
            return faces[best]
    raise InvalidImage("No face detected in the given targetFace rectangle.")


class Engine:
    def __init__(self) -> None:
        self.detector = YuNetDetector()
        self.liveness_checker = LivenessChecker()
        self.landmarker = FaceMeshLandmarker()
        self.embedder_names = recognition_embedders()

    def detect(self, image: bytes, options: DetectOptions) -> list[DetectedFace]:
        validate_options(options)
        image_bgr = decode_image(image)
        if options.target_face is None:
            faces = self.detector.detect(image_bgr, options.max_faces)
        else:
            height, width = image_bgr.shape[:2]
            check_target_face(options.target_face, width, height)
            faces = [pick_target_face(self.detector.detect(image_bgr), options.target_face)]
        recognition_model = attribute_recognition_model(options)
        # Landmarks, headPose and dlib's alignment read the same face mesh: one run per face.
        meshes: list[np.ndarray | None] = [None] * len(faces)
        for index, face in enumerate(faces):
            if options.return_landmarks or needs_face_mesh(options.attributes):
                meshes[index] = self.landmarker.mesh(image_bgr, face.points5)
            if options.return_landmarks:
                face.landmarks = azure_landmarks(self.landmarker.geometry(image_bgr, meshes[index]))
            if options.attributes:
                face.attributes = compute_attributes(
                    image_bgr, face, options.attributes, options.detection_model, recognition_model, meshes[index]
                )
        if faces and options.recognition_models:
            self._add_templates(image_bgr, faces, meshes, options.recognition_models, options.embedders)
        return faces

    def _add_templates(self, image_bgr: np.ndarray, faces: list[DetectedFace], meshes: list[np.ndarray | None],
                       recognition_models: tuple[str, ...], embedders: Mapping[str, str]) -> None:
        """One batched embedding per distinct embedder, shared by the Azure names mapped to it."""
        models_by_embedder: dict[str, list[str]] = {}
        for model in dict.fromkeys(recognition_models):
            models_by_embedder.setdefault(embedders.get(model) or self.embedder_names[model], []).append(model)
        for embedder_name, models in models_by_embedder.items():
            embedder = get_embedder(embedder_name)
            chips = [embedder.align(image_bgr, face.points5, mesh) for face, mesh in zip(faces, meshes)]
            vectors = embedder.embed(chips)
            for face, vector in zip(faces, vectors):
                for model in models:
                    face.templates[model] = Template(vector, embedder.name, embedder.version, model)

    def liveness(self, image: bytes) -> tuple[DetectedFace | None, LivenessScore | None]:
        """Passive liveness of the largest face; (None, None) when there is no face."""
        image_bgr = decode_image(image)
        faces = self.detector.detect(image_bgr, max_faces=1)
        if not faces:
            return None, None
        return faces[0], self.liveness_checker.score(image_bgr, faces[0].rectangle)

    def warm_up(self) -> None:
        """Load every model a default request can touch, so the first request pays nothing."""
        for model in WARM_UP_MODELS + (ATTRIBUTE_MODELS if env_bool("FACE_WARM_UP_ATTRIBUTE_MODELS") else ()):
            model().warm_up()
        for embedder_name in dict.fromkeys(self.embedder_names.values()):
            get_embedder(embedder_name).warm_up()


_engine: Engine | None = None
_engine_lock = threading.Lock()


def get_engine() -> Engine:
    """The process-wide engine (sessions inside are shared and thread-safe)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine()
        return _engine
