"""Recognition accuracy and speed through the service's own code path, for every built-in embedder.

* Verification on the dev persons: every pair of faces/persons photos, decided by
  matching.is_identical on matching.confidence (the calibrated map). Target: >= 99%.
* Detection counts: faces the engine's detector finds in faces/multi (expected counts from
  the data MANIFEST) and faces/noface (expected 0).
* lfw-dev (lfw.py): per embedder, LFW's 2,000 development pairs decided at the embedder's
  calibrated threshold and by 10-fold cross-validation, 1:N rank-1 with all 1,957 people
  enrolled with one photo, and align + embed ms/face on FACE_ORT_THREADS onnxruntime threads
  (default 1) over LFW photos. Targets for the default recognition_04: verification (10-fold)
  >= 0.994, rank-1 >= 0.98.
* Attributes (attribute_accuracy.py): mask, glasses and occlusion on the labelled photos and a
  synthetic occlusion set; its section ends ``attributes: mask M (n faces), glasses G (n faces),
  occlusion O``. Targets: mask >= 0.97, glasses >= 0.95, occlusion >= 0.90.

Run: .venv/bin/python benchmarks/accuracy.py   (first run ~5 min on one core: every lfw-dev photo
through every embedder; cached under .cache/lfw-dev/ after that)
Last line: ``lfw-dev: verify V, rank-1 R, embedder NAME`` for the default of recognition_04.
"""
from __future__ import annotations

import time

import numpy as np

import attribute_accuracy
import lfw
from calibrate import SHARED_DIR, pair_distances, person_embeddings
from verification import accuracy_at, cross_validated_accuracy

from shared.engine import matching  # noqa: E402  (calibrate put the repo on sys.path)
from shared.engine.detector import YuNetDetector  # noqa: E402
from shared.engine.embedders import BUILT_IN_EMBEDDERS, get_embedder  # noqa: E402
from shared.engine.engine import recognition_embedders  # noqa: E402
from shared.engine.imaging import decode_image  # noqa: E402

FACES_DIR = SHARED_DIR / "data" / "faces"
EXPECTED_MULTI = {  # data/MANIFEST.md, YuNet at score >= 0.8
    "deepface_couple.jpg": 2,
    "deepface_selfie-many-people.jpg": 5,
    "facenet-pytorch_multiface.jpg": 6,
    "face_recognition_two_people.jpg": 2,
    "face_recognition_obama_and_biden.jpg": 3,
    "face_recognition_kit_with_rose.jpg": 2,
}
SPEED_PHOTOS = 100  # LFW photos timed per embedder


def verification(embedder_name: str) -> None:
    vectors, labels = person_embeddings(embedder_name)
    distances, same = pair_distances(vectors, labels)
    confidences = np.asarray(matching.confidence(distances, embedder_name))
    decided = confidences >= matching.SAME_PERSON_CONFIDENCE
    accuracy = float((decided == same).mean())
    print(f"verification on the dev persons ({embedder_name}): {len(distances)} pairs "
          f"({same.sum()} same, {(~same).sum()} different)")
    print(f"  accuracy {accuracy:.4f} (target >= 0.99): false accepts {int((decided & ~same).sum())}, "
          f"false rejects {int((~decided & same).sum())}")
    print(f"  confidence: same-person median {np.median(confidences[same]):.3f}, "
          f"different-person median {np.median(confidences[~same]):.3f}")


def detection_counts() -> None:
    detector = YuNetDetector()
    print("detection counts (found / expected):")
    for folder, expected in (("multi", EXPECTED_MULTI), ("noface", None)):
        for path in sorted((FACES_DIR / folder).iterdir()):
            found = len(detector.detect(decode_image(path.read_bytes())))
            want = expected[path.name] if expected else 0
            print(f"  {folder}/{path.name}: {found} / {want}{'' if found == want else '  MISMATCH'}")


def align_embed_ms(embedder_name: str, photos: list[lfw.Photo], points: np.ndarray) -> float:
    """Median align + embed time of one face, over the first SPEED_PHOTOS photos (warm)."""
    embedder = get_embedder(embedder_name)
    images = [decode_image(photo.path.read_bytes()) for photo in photos[:SPEED_PHOTOS]]
    embedder.embed([embedder.align(images[0], points[0])])
    times = []
    for image, face in zip(images, points):
        start = time.perf_counter()
        embedder.embed([embedder.align(image, face)])
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def lfw_table(embedder_names: list[str]) -> dict[str, tuple[float, float]]:
    """Print one row per embedder; return (10-fold verification, rank-1) per embedder."""
    photos = lfw.photos()
    points = lfw.detections(photos)
    print(f"lfw-dev: {len(photos)} photos, {int(np.isnan(points[:, 0, 0]).sum())} without a face; "
          "verification on 1,000 + 1,000 pairs; rank-1 with everyone enrolled with their first photo")
    print("| embedder | verify at threshold | verify, 10-fold CV | 1:N rank-1 | align+embed ms/face |")
    print("|---|---|---|---|---|")
    results = {}
    for name in embedder_names:
        vectors = lfw.templates(name, photos)
        pairs = lfw.pair_set(vectors, photos)
        threshold = get_embedder(name).calibration.threshold
        cv, cv_sd = cross_validated_accuracy(pairs.distances, pairs.same)
        rank1 = lfw.rank_one(vectors, photos)
        print(f"| {name} | {accuracy_at(threshold, pairs.distances, pairs.same):.4f} (at {threshold:g}) | "
              f"{cv:.4f} ± {cv_sd:.4f} | {rank1.accuracy:.4f} ({rank1.enrolled} enrolled, {rank1.probes} probes) | "
              f"{align_embed_ms(name, photos, points):.1f} |")
        results[name] = (cv, rank1.accuracy)
    return results


def main() -> None:
    default = recognition_embedders()["recognition_04"]
    names = list(dict.fromkeys([*BUILT_IN_EMBEDDERS, default]))
    attribute_accuracy.report()
    for name in names:
        verification(name)
    detection_counts()
    results = lfw_table(names)
    verify, rank1 = results[default]
    print(f"lfw-dev: verify {verify:.4f}, rank-1 {rank1:.4f}, embedder {default}")


if __name__ == "__main__":
    main()
