"""Face embedders: an aligned chip in, a template vector out.

Two kinds:

* ``DlibResNetEmbedder`` ("dlib_resnet_v1"): dlib's face recognition ResNet, converted to
  ONNX from the .dat in the face_recognition_models package (catalog model
  "dlib_resnet_v1", built by dlib_onnx.py), on dlib's chip aligned from one face-mesh pass
  (alignment.py). Vectors are dlib's raw 128-d descriptors; the same-person decision is at
  Euclidean distance ~0.6, as with dlib itself.
* ``ArcFaceEmbedder``: any ArcFace-style ONNX model the owner brings (SFace, InsightFace
  recognition models, ...): five-point 112x112 ArcFace alignment, output L2-normalised.
  Declared by the setting FACE_ARCFACE_MODELS, a comma-separated list of
  ``name=/path/model.onnx`` entries, each optionally followed by ``;key=value`` options:

  ``sha256`` (verify the file), ``version`` (default: first 12 hex digits of the file's
  sha256, so replacing the file makes old templates incompatible instead of silently wrong),
  ``color`` rgb|bgr (default rgb), ``mean`` (127.5), ``std`` (128.0), ``layout`` nchw|nhwc
  (nchw), ``threshold`` (same-person Euclidean distance on the normalised vectors, default
  1.13 = cosine 0.36) and ``scale`` (confidence slope, default 0.11); see matching.py.

  Example (OpenCV's SFace wants raw 0..255 RGB):
  ``FACE_ARCFACE_MODELS="sface=/models/face_recognition_sface_2021dec.onnx;mean=0;std=1"``

In both cases templates are compared by Euclidean distance on the stored vectors, so one
HNSW 'l2' index serves every embedder.
"""
from __future__ import annotations

import abc
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from shared.engine import alignment
from shared.engine.catalog import CATALOG
from shared.engine.dlib_onnx import INPUT_NAME as DLIB_INPUT_NAME
from shared.engine.landmarks import FaceMeshModel
from shared.engine.modelstore import ModelUnavailable, sha256_of
from shared.engine.onnx_model import OnnxModel, session_options
from shared.settings import env_str

DLIB_EMBEDDER = "dlib_resnet_v1"
MAX_BATCH = 32  # chips per onnxruntime call: bounds peak memory for group photos
ARCFACE_SETTING = "FACE_ARCFACE_MODELS"


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
# Generic ArcFace default on L2-normalised vectors, d = sqrt(2 - 2 cos): threshold cos 0.36
# (d 1.13); typical same-person cos 0.6 (d 0.89) -> 0.9, different cos 0.05 (d 1.38) -> 0.1.
ARCFACE_DEFAULT_CALIBRATION = Calibration(threshold=1.13, scale_same=0.11, scale_different=0.11, calibrated=False)


class Embedder(abc.ABC):
    name: str
    version: str
    chip_size: int
    template: np.ndarray  # (5, 2) chip coordinates of the five points
    calibration: Calibration

    def align(self, image_bgr: np.ndarray, points5: np.ndarray) -> np.ndarray:
        """The chip this embedder expects, cut from a BGR image (chip is BGR too)."""
        return alignment.warp_chip(image_bgr, points5, self.template, self.chip_size)

    def embed(self, chips: list[np.ndarray]) -> np.ndarray:
        """(n, d) float32 template vectors for n BGR chips, computed in batches."""
        if not chips:
            return np.zeros((0, self.dimension()), dtype=np.float32)
        batches = [np.stack(chips[i:i + MAX_BATCH]) for i in range(0, len(chips), MAX_BATCH)]
        return np.concatenate([self._infer(batch) for batch in batches]).astype(np.float32)

    @abc.abstractmethod
    def _infer(self, chips_bgr: np.ndarray) -> np.ndarray:
        """Vectors for a (n, size, size, 3) uint8 BGR batch."""

    @abc.abstractmethod
    def dimension(self) -> int:
        """Length of the vectors."""

    @abc.abstractmethod
    def warm_up(self) -> None:
        """Load the model now rather than on the first request."""


class DlibResNetEmbedder(Embedder, OnnxModel):
    model_name = DLIB_EMBEDDER
    name = DLIB_EMBEDDER
    version = CATALOG[DLIB_EMBEDDER].version
    chip_size = alignment.DLIB_CHIP_SIZE
    template = alignment.DLIB_MESH_TEMPLATE  # of the mesh's five points, not YuNet's
    calibration = DLIB_CALIBRATION
    mesh_model = FaceMeshModel()  # stateless; its session is shared process-wide

    def align(self, image_bgr: np.ndarray, points5: np.ndarray) -> np.ndarray:
        # dlib's chip is fixed by eye corners and the nose base; YuNet has eye centres and
        # mouth corners that move with a smile, so one mesh pass finds dlib's points instead.
        mesh = self.mesh_model.mesh(image_bgr, alignment.mesh_crop(np.asarray(points5, np.float64)))
        return alignment.dlib_chip_from_mesh(image_bgr, mesh)

    def _infer(self, chips_bgr: np.ndarray) -> np.ndarray:
        # The graph does dlib's mean/256 normalisation itself; it wants RGB 0..255.
        rgb = np.ascontiguousarray(chips_bgr[..., ::-1], dtype=np.float32)
        return self.run({DLIB_INPUT_NAME: rgb})[0]

    def dimension(self) -> int:
        return 128

    def warm_up(self) -> None:
        self.session()
        self.mesh_model.session()


# ----------------------------------------------------------------------------------------
# ArcFace-style models from FACE_ARCFACE_MODELS.


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
    if name == DLIB_EMBEDDER:
        raise ValueError(f"{ARCFACE_SETTING}: the name '{DLIB_EMBEDDER}' is taken by the built-in embedder")
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


class ArcFaceEmbedder(Embedder):
    template = alignment.ARCFACE_TEMPLATE

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
                    self._session = self._load()
        return self._session

    def _load(self) -> ort.InferenceSession:
        path = self.config.path
        if not path.is_file():
            raise ModelUnavailable(f"ArcFace model '{self.name}': file {path} not found ({ARCFACE_SETTING}).")
        digest = sha256_of(path)
        if self.config.sha256 and digest != self.config.sha256.lower():
            raise ModelUnavailable(f"ArcFace model '{self.name}': sha256 of {path} is {digest}, "
                                   f"expected {self.config.sha256}.")
        if self._version is None:
            self._version = digest[:12]
        session = ort.InferenceSession(str(path), sess_options=session_options(),
                                       providers=["CPUExecutionProvider"])
        self.chip_size = self._input_size(session)
        return session

    def _input_size(self, session: ort.InferenceSession) -> int:
        shape = session.get_inputs()[0].shape
        side = shape[2] if self.config.layout == "nchw" else shape[1]
        return side if isinstance(side, int) else alignment.ARCFACE_CHIP_SIZE

    def align(self, image_bgr: np.ndarray, points5: np.ndarray) -> np.ndarray:
        self.session()  # the chip size comes from the model's input shape
        return alignment.arcface_chip(image_bgr, points5, self.chip_size)

    def _infer(self, chips_bgr: np.ndarray) -> np.ndarray:
        session = self.session()
        pixels = chips_bgr[..., ::-1] if self.config.color == "rgb" else chips_bgr
        tensor = (pixels.astype(np.float32) - self.config.mean) / self.config.std
        if self.config.layout == "nchw":
            tensor = tensor.transpose(0, 3, 1, 2)
        tensor = np.ascontiguousarray(tensor)
        feed = session.get_inputs()[0].name
        if session.get_inputs()[0].shape[0] == 1:  # exported with a fixed batch of one
            raw = np.concatenate([session.run(None, {feed: tensor[i:i + 1]})[0] for i in range(len(tensor))])
        else:
            raw = session.run(None, {feed: tensor})[0]
        vectors = raw.reshape(len(tensor), -1).astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def dimension(self) -> int:
        return int(np.prod(self.session().get_outputs()[0].shape[1:]))

    def warm_up(self) -> None:
        self.session()


# ----------------------------------------------------------------------------------------

_cache: dict[tuple[str, str], Embedder] = {}
_cache_lock = threading.Lock()


def available_embedders() -> list[str]:
    return [DLIB_EMBEDDER, *arcface_configs(env_str(ARCFACE_SETTING))]


def get_embedder(name: str) -> Embedder:
    """The process-wide embedder called ``name`` (built-in or from FACE_ARCFACE_MODELS)."""
    setting = env_str(ARCFACE_SETTING)
    key = (name, setting if name != DLIB_EMBEDDER else "")
    embedder = _cache.get(key)
    if embedder is None:
        with _cache_lock:
            embedder = _cache.get(key)
            if embedder is None:
                embedder = _cache[key] = _create(name, setting)
    return embedder


def _create(name: str, setting: str) -> Embedder:
    if name == DLIB_EMBEDDER:
        return DlibResNetEmbedder()
    configs = arcface_configs(setting)
    if name not in configs:
        raise ModelUnavailable(f"Unknown embedder '{name}'; available: {', '.join(available_embedders())}.")
    return ArcFaceEmbedder(configs[name])
