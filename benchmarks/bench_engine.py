"""Per-stage latency of the engine for every built-in embedder, and face_recognition's own
pipeline as the peer.

    FACE_MODEL_MIRRORS=../shared/models .venv/bin/python benchmarks/bench_engine.py [--rounds N] [--photos N] [--smoke]

Photos: every image under <shared>/data/faces (persons, multi, noface). Everything runs on one
thread (onnxruntime, OpenCV, BLAS) so the numbers compare per-core cost. Models are loaded and
every stage is run once before timing. The peer is face_recognition 1.3.0 (dlib's HOG detector
with one upsample, 5-point shape predictor, ResNet descriptor), fed the same decoded pixels.
Stages are per image (decode, detect) or per face (align, embed, landmarks, attributes; each
embedder's lines show detect per face too, the image's detection divided by its faces); each
embedder aligns and embeds the faces of the same detection. "detect+embed" is per face: detect +
align + embed of an image divided by its face count (images with faces only); for the peer,
face_locations + face_encodings. The last line compares the embedder that serves
recognition_04 by default (FACE_RECOGNITION_EMBEDDERS changes it) with the peer.

Times are this thread's CPU time (time.thread_time), so a shared machine's other processes
do not count; each stage of each photo is timed in every round and its minimum over the rounds
kept (what remains of other work: caches and the core's sibling thread); the percentiles are
over photos. A fused embedder's align and embed are also split into its stages: the face-mesh
pass, cutting the chips from that mesh, and each part's network.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("FACE_ORT_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared").resolve()
os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from shared.engine.attributes import ALLOWED_BY_DETECTION_MODEL, COMPUTED, compute_attributes  # noqa: E402
from shared.engine.engine import get_engine  # noqa: E402
from shared.engine.embedders import BUILT_IN_EMBEDDERS, FusedEmbedder, get_embedder  # noqa: E402
from shared.engine.imaging import decode_image  # noqa: E402
from smoke import parse_args  # noqa: E402

TIMED_ATTRIBUTES = tuple(name for name in COMPUTED if name in ALLOWED_BY_DETECTION_MODEL["detection_01"])

cv2.setNumThreads(1)


def timed(function, *args):
    """The result, and the CPU time this thread spent on it in ms: everything here runs on the
    calling thread, so on a quiet machine that is the wall time, and on a shared one it leaves
    out the time other processes held the core."""
    start = time.thread_time()
    result = function(*args)
    return result, (time.thread_time() - start) * 1000


def percentiles(values: list[float]) -> str:
    if not values:
        return "n/a"
    p50, p95 = np.percentile(values, [50, 95])
    return f"p50 {p50:7.2f}  p95 {p95:7.2f}  (n={len(values)})"


class PhotoTimes:
    """Per photo and stage, the minimum over the timed rounds."""

    def __init__(self) -> None:
        self.best: dict[tuple[str, int], float] = {}

    def add(self, stage: str, photo: int, value: float) -> None:
        key = (stage, photo)
        self.best[key] = min(value, self.best.get(key, value))

    def values(self, stage: str) -> list[float]:
        return [value for (name, _), value in sorted(self.best.items()) if name == stage]


def fused_stages(engine, embedder, image, faces) -> dict[str, float]:
    """A fused embedder's align + embed of one image's faces split into its stages (ms)."""
    meshes, t_mesh = timed(lambda: [engine.landmarker.mesh(image, face.points5) for face in faces])
    chips, t_chips = timed(lambda: [embedder.align(image, f.points5, m) for f, m in zip(faces, meshes)])
    times = {"mesh pass": t_mesh, "chips": t_chips}
    for index, part in enumerate(embedder.parts):
        times[f"{part.name} net"] = timed(part.embed, [chip[index] for chip in chips])[1]
    return times


def bench_ours(photos: list[bytes], rounds: int, embedder_names: list[str]) -> tuple[PhotoTimes, dict[str, PhotoTimes]]:
    """Per-stage times shared by all embedders, and per embedder: align, embed, detect+embed
    (and a fused embedder's own stages)."""
    engine = get_engine()
    engine.warm_up()
    embedders = [get_embedder(name) for name in embedder_names]
    for embedder in embedders:
        embedder.warm_up()
    stages = PhotoTimes()
    per_embedder = {name: PhotoTimes() for name in embedder_names}
    for round_index in range(rounds + 1):  # round 0 warms every code path
        for photo, data in enumerate(photos):
            image, t_decode = timed(decode_image, data)
            faces, t_detect = timed(engine.detector.detect, image)
            embedded = []
            for embedder in embedders:
                chips, t_align = timed(lambda: [embedder.align(image, face.points5) for face in faces])
                parts = fused_stages(engine, embedder, image, faces) if faces and isinstance(embedder, FusedEmbedder) else {}
                embedded.append((t_align, timed(embedder.embed, chips)[1] if faces else 0.0, parts))
            t_landmarks = sum(timed(engine.landmarker.landmarks27, image, f.points5)[1] for f in faces)
            t_attributes = sum(
                timed(compute_attributes, image, f, TIMED_ATTRIBUTES, "detection_01", "recognition_04")[1] for f in faces
            )
            if round_index == 0:
                continue
            stages.add("decode", photo, t_decode)
            stages.add("detect", photo, t_detect)
            if faces:
                n = len(faces)
                stages.add("landmarks", photo, t_landmarks / n)
                stages.add("attributes", photo, t_attributes / n)
                for name, (t_align, t_embed, parts) in zip(embedder_names, embedded):
                    times = per_embedder[name]
                    times.add("detect", photo, t_detect / n)
                    times.add("align", photo, t_align / n)
                    times.add("embed", photo, t_embed / n)
                    times.add("detect+embed", photo, (t_detect + t_align + t_embed) / n)
                    for stage, value in parts.items():
                        times.add(stage, photo, value / n)
    return stages, per_embedder


def bench_face_recognition(photos: list[bytes], rounds: int) -> PhotoTimes:
    import face_recognition

    images = [cv2.cvtColor(decode_image(data), cv2.COLOR_BGR2RGB) for data in photos]
    times = PhotoTimes()
    for round_index in range(rounds + 1):
        for photo, image in enumerate(images):
            locations, t_detect = timed(face_recognition.face_locations, image)
            t_embed = timed(face_recognition.face_encodings, image, locations)[1] if locations else 0.0
            if round_index == 0:
                continue
            times.add("detect", photo, t_detect)
            if locations:
                times.add("detect+embed", photo, (t_detect + t_embed) / len(locations))
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the photos (min per photo)")
    parser.add_argument("--photos", type=int, help="only the first N photos (default: all)")
    args = parse_args(parser, photos=4, rounds=1)
    rounds = args.rounds
    paths = sorted(p for p in (SHARED_DIR / "data" / "faces").rglob("*") if p.suffix.lower() in (".jpg", ".png"))
    paths = paths[:args.photos]
    photos = [p.read_bytes() for p in paths]
    print(f"{len(photos)} photos from {SHARED_DIR / 'data' / 'faces'}, {rounds} timed round(s), min per photo, CPU time of 1 thread")

    default = get_engine().embedder_names["recognition_04"]
    names = list(dict.fromkeys([*BUILT_IN_EMBEDDERS, default]))
    stages, per_embedder = bench_ours(photos, rounds, names)
    print(f"attributes timed (all the service computes for detection_01): {', '.join(TIMED_ATTRIBUTES)}")
    for name in ("decode", "detect", "landmarks", "attributes"):
        unit = "image" if name in ("decode", "detect") else "face"
        print(f"ours  {name:<10} ms/{unit:<5} {percentiles(stages.values(name))}")
    for name in names:
        times = per_embedder[name]
        for stage in dict.fromkeys(stage for stage, _ in times.best):
            print(f"ours  {name:<15} {stage:<20} ms/face {percentiles(times.values(stage))}")
    ours = per_embedder[default].values("detect+embed")

    peer_times = bench_face_recognition(photos, rounds)
    peer = peer_times.values("detect+embed")
    print(f"face_recognition face_locations ms/image {percentiles(peer_times.values('detect'))}")
    print(f"face_recognition detect+embed   ms/face  {percentiles(peer)}")
    ours_p50, peer_p50 = float(np.median(ours)), float(np.median(peer))
    print(f"detect+embed p50 ms/face: ours {ours_p50:.1f} (recognition_04 = {default}), "
          f"face_recognition {peer_p50:.1f}, speedup {peer_p50 / ours_p50:.1f}x")


if __name__ == "__main__":
    main()
