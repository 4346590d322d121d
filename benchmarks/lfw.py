"""The LFW development split (../shared/data/lfw-dev) through the service's own engine.

Per photo: the engine's decoder and YuNet detector; of the faces found, the one whose box
centre is nearest the image centre (LFW's labelled person is the centred one); then each
embedder's own ``align`` and ``embed``, exactly as detect runs them. Photos where no face is
found have no template and count as errors in every protocol below.

Detections and templates are cached under .cache/lfw-dev/, keyed by the sha256 of every model
file the engine resolves, the engine code that makes templates (TEMPLATE_CODE), the embedder's
name and version and the detector settings: a rerun after any such change recomputes, a plain
rerun costs seconds. The images never leave ../shared.

Protocols (used by accuracy.py and calibrate.py):
* verification: LFW's pairs.txt (1,000 same-person, 1,000 different-person pairs), decided
  at a threshold, and LFW's 10-fold cross-validation (verification.py);
* 1:N identification: everyone enrolled with their first photo (1,957 people), every other
  photo a probe; rank-1 = the nearest enrolled template is the right person.
"""
from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared").resolve()
os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))

from shared.engine.catalog import CATALOG  # noqa: E402
from shared.engine.detector import YuNetDetector  # noqa: E402
from shared.engine.embedders import get_embedder  # noqa: E402
from shared.engine.imaging import decode_image  # noqa: E402
from shared.engine.modelstore import ModelUnavailable, default_store  # noqa: E402
from shared.settings import env_str  # noqa: E402

LFW_DIR = SHARED_DIR / "data" / "lfw-dev"
CACHE_DIR = REPO_ROOT / ".cache" / "lfw-dev"
DETECTOR_SETTINGS = ("FACE_DETECT_SCORE", "FACE_DETECT_MIN_FACE_PX", "FACE_DETECT_MAX_SIDE")
# The engine code a template depends on besides the model files (whose sha256 is hashed too).
TEMPLATE_CODE = ("imaging.py", "detector.py", "alignment.py", "roi.py", "landmarks.py", "embedders.py", "onnx_model.py")


@dataclass(frozen=True)
class Photo:
    person: str
    number: int

    @property
    def path(self) -> Path:
        return LFW_DIR / self.person / f"{self.person}_{self.number:04d}.jpg"


def photos(pair_limit: int | None = None) -> list[Photo]:
    """Every photo of the split, by person then number; with ``pair_limit``, only the photos of
    the first that many same-person and different-person pairs (a quick run's sample)."""
    if pair_limit is None:
        found = [Photo(path.parent.name, int(path.stem.rsplit("_", 1)[1])) for path in LFW_DIR.glob("*/*.jpg")]
    else:
        listed, same = pairs()
        chosen = [*np.flatnonzero(same)[:pair_limit], *np.flatnonzero(~same)[:pair_limit]]
        found = list({photo for index in chosen for photo in listed[index]})
    return sorted(found, key=lambda photo: (photo.person, photo.number))


def pairs() -> tuple[list[tuple[Photo, Photo]], np.ndarray]:
    """pairs.txt in file order, and whether each pair is the same person."""
    lines = (LFW_DIR / "pairs.txt").read_text().splitlines()[1:]
    result, same = [], []
    for line in lines:
        fields = line.split()
        if len(fields) == 3:
            result.append((Photo(fields[0], int(fields[1])), Photo(fields[0], int(fields[2]))))
        else:
            result.append((Photo(fields[0], int(fields[1])), Photo(fields[2], int(fields[3]))))
        same.append(len(fields) == 3)
    return result, np.array(same)


def _fingerprint(*parts: str) -> str:
    digest = hashlib.sha256()
    for name in sorted(CATALOG):
        try:
            digest.update(f"{name}={default_store().resolve(name).sha256};".encode())
        except ModelUnavailable:
            digest.update(f"{name}=missing;".encode())
    for module in TEMPLATE_CODE:
        digest.update((REPO_ROOT / "shared" / "engine" / module).read_bytes())
    for setting in DETECTOR_SETTINGS:
        digest.update(f"{setting}={env_str(setting)};".encode())
    digest.update("|".join(parts).encode())
    return digest.hexdigest()[:16]


def _central_face(image: np.ndarray, detector: YuNetDetector) -> np.ndarray | None:
    faces = detector.detect(image)
    if not faces:
        return None
    centre = np.array(image.shape[1::-1]) / 2
    offsets = [np.hypot(*(np.array([f.rectangle.left + f.rectangle.width / 2,
                                    f.rectangle.top + f.rectangle.height / 2]) - centre)) for f in faces]
    return faces[int(np.argmin(offsets))].points5


def detections(all_photos: list[Photo]) -> np.ndarray:
    """(n, 5, 2) YuNet points of each photo's central face; NaN where none was found."""
    path = CACHE_DIR / f"detections-{_fingerprint('detections', str(len(all_photos)))}.npy"
    if path.is_file():
        return np.load(path)
    detector = YuNetDetector()
    points = np.full((len(all_photos), 5, 2), np.nan, dtype=np.float32)
    for index, photo in enumerate(all_photos):
        found = _central_face(decode_image(photo.path.read_bytes()), detector)
        if found is not None:
            points[index] = found
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.save(path, points)
    return points


def templates(embedder_name: str, all_photos: list[Photo]) -> np.ndarray:
    """(n, d) float32 templates of each photo's central face; NaN rows where none was found."""
    embedder = get_embedder(embedder_name)
    path = CACHE_DIR / f"templates-{embedder_name}-{_fingerprint(embedder_name, embedder.version, str(len(all_photos)))}.npy"
    if path.is_file():
        return np.load(path)
    points = detections(all_photos)
    vectors = np.full((len(all_photos), embedder.dimension()), np.nan, dtype=np.float32)
    for index, photo in enumerate(all_photos):
        if not np.isnan(points[index]).any():
            image = decode_image(photo.path.read_bytes())
            vectors[index] = embedder.embed([embedder.align(image, points[index])])[0]
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


# ---------------------------------------------------------------- protocols


@dataclass(frozen=True)
class PairSet:
    """The pairs' distances (inf where a photo has no face: never judged the same) and truth."""

    distances: np.ndarray
    same: np.ndarray
    missing: int  # pairs with a photo without a face


def pair_set(vectors: np.ndarray, all_photos: list[Photo]) -> PairSet:
    """The pairs of pairs.txt whose two photos are both in ``all_photos``."""
    index = {photo: i for i, photo in enumerate(all_photos)}
    listed, same = pairs()
    kept = [i for i, (first, second) in enumerate(listed) if first in index and second in index]
    listed, same = [listed[i] for i in kept], same[kept]

    a = vectors[[index[first] for first, _ in listed]]
    b = vectors[[index[second] for _, second in listed]]
    distances = np.linalg.norm(a - b, axis=1)
    missing = np.isnan(distances)
    return PairSet(np.where(missing, np.inf, distances), same, int(missing.sum()))


@dataclass(frozen=True)
class RankOne:
    accuracy: float
    enrolled: int
    probes: int
    missing: int  # probes without a face, or whose person has no enrolled face


def rank_one(vectors: np.ndarray, all_photos: list[Photo]) -> RankOne:
    """Everyone enrolled with their first photo; every other photo a probe. A probe without a
    face, or of a person whose first photo has none, counts as a miss."""
    found = ~np.isnan(vectors).any(axis=1)
    first: dict[str, int] = {}
    for i, photo in enumerate(all_photos):
        first.setdefault(photo.person, i)
    enrolled = [i for i in first.values() if found[i]]
    probes = [i for i, photo in enumerate(all_photos) if i != first[photo.person]]
    usable = [i for i in probes if found[i] and found[first[all_photos[i].person]]]
    people = np.array([all_photos[i].person for i in enrolled])
    gallery = vectors[enrolled].astype(np.float64)
    query = vectors[usable].astype(np.float64)
    # Squared distances without an (m, n, d) intermediate.
    squared = (query ** 2).sum(1)[:, None] - 2 * query @ gallery.T + (gallery ** 2).sum(1)[None, :]
    hits = int((people[np.argmin(squared, axis=1)] == np.array([all_photos[i].person for i in usable])).sum())
    return RankOne(hits / len(probes), len(enrolled), len(probes), len(probes) - len(usable))
