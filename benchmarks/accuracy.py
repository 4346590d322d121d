"""Recognition accuracy and speed on the dev data, through the service's own code path.

* Verification: every pair of faces/persons photos, decided by matching.is_identical on
  matching.confidence (the calibrated map) -> accuracy, false accepts, false rejects.
  Target: >= 99%.
* Detection counts: faces the engine's detector finds in faces/multi (expected counts from
  the data MANIFEST) and faces/noface (expected 0).
* Speed: ms per face for align + embed, single face and batches, on FACE_ORT_THREADS
  onnxruntime threads (default 1).

Run: .venv/bin/python benchmarks/accuracy.py [embedder_name]   (default dlib_resnet_v1)
"""
from __future__ import annotations

import sys
import time

import numpy as np

from calibrate import SHARED_DIR, pair_distances, person_embeddings

from shared.engine import matching  # noqa: E402  (calibrate put the repo on sys.path)
from shared.engine.detector import YuNetDetector  # noqa: E402
from shared.engine.embedders import get_embedder  # noqa: E402
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


def verification(embedder_name: str) -> None:
    vectors, labels = person_embeddings(embedder_name)
    distances, same = pair_distances(vectors, labels)
    confidences = np.asarray(matching.confidence(distances, embedder_name))
    decided = confidences >= matching.SAME_PERSON_CONFIDENCE
    accuracy = float((decided == same).mean())
    print(f"verification ({embedder_name}): {len(distances)} pairs ({same.sum()} same, {(~same).sum()} different)")
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


def speed(embedder_name: str, repeats: int = 30) -> None:
    image = decode_image((FACES_DIR / "persons" / "obama" / "1.jpg").read_bytes())
    points = YuNetDetector().detect(image)[0].points5
    embedder = get_embedder(embedder_name)
    chip = embedder.align(image, points)
    embedder.embed([chip])  # load and warm up
    start = time.perf_counter()
    for _ in range(repeats):
        embedder.align(image, points)
    align_ms = (time.perf_counter() - start) / repeats * 1000
    print(f"speed ({embedder_name}): align {align_ms:.2f} ms/face")
    for batch in (1, 8):
        start = time.perf_counter()
        for _ in range(repeats):
            embedder.embed([chip] * batch)
        print(f"  embed batch {batch}: {(time.perf_counter() - start) / repeats / batch * 1000:.2f} ms/face")


def main() -> None:
    embedder_name = sys.argv[1] if len(sys.argv) > 1 else "dlib_resnet_v1"
    verification(embedder_name)
    detection_counts()
    speed(embedder_name)


if __name__ == "__main__":
    main()
