"""The grouped index on real templates: LFW dev photos (../shared/data/lfw-dev), real embedder.

    python benchmarks/index_real_templates.py [--embedder dlib_resnet_v1]

The synthetic benchmark's identities are tight isotropic clusters; real persons' photos
vary with pose, age and light, which is what could pull a group centroid away from the
face a query matches. Here one photo of every person with two or more is held out as the
query and the rest are the gallery. Printed: for the gallery face nearest each query, the
rank of its person's centroid among all persons' centroids, by distance and by direction
(the grouped graph walks directions and re-ranks every group it returns, at least
FACE_INDEX_RERANK_GROUPS and ef of them, so it finds that face when the rank is within
them), and, on the persons with two or more gallery photos, the grouped index's top-1 face
and person against the exact ones.
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.engine.detector import YuNetDetector  # noqa: E402
from shared.engine.embedders import get_embedder  # noqa: E402
from shared.engine.imaging import decode_image  # noqa: E402
from shared.index import IndexParams, build_index  # noqa: E402

LFW = Path(__file__).resolve().parents[2] / "shared" / "data" / "lfw-dev"


def embed(embedder_name: str) -> tuple[np.ndarray, list[str]]:
    detector, embedder = YuNetDetector(), get_embedder(embedder_name)
    vectors, persons = [], []
    for photo in sorted(LFW.glob("*/*.jpg")):
        image = decode_image(photo.read_bytes())
        faces = detector.detect(image)
        if not faces:
            continue
        centre = np.array(image.shape[1::-1]) / 2  # LFW photos are centred on their person
        face = min(faces, key=lambda f: np.linalg.norm(np.mean(f.points5, axis=0) - centre))
        vectors.append(embedder.embed([embedder.align(image, face.points5)])[0])
        persons.append(photo.parent.name)
    return np.stack(vectors).astype(np.float32), persons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedder", default="dlib_resnet_v1")
    args = parser.parse_args()
    vectors, persons = embed(args.embedder)
    rows_of = defaultdict(list)
    for row, person in enumerate(persons):
        rows_of[person].append(row)
    held = {rows[0] for rows in rows_of.values() if len(rows) >= 2}
    gallery = np.array([r for r in range(len(persons)) if r not in held])
    queries = np.array(sorted(held))
    g_persons = [persons[r] for r in gallery]
    print(f"{len(vectors)} photos embedded ({args.embedder}); gallery {len(gallery)} faces of "
          f"{len(set(g_persons))} persons, {len(queries)} held-out queries", flush=True)
    names = sorted(set(g_persons))
    centroids = np.stack([vectors[[r for r in gallery if persons[r] == n]].mean(axis=0) for n in names])
    directions = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)
    ranks: dict[str, list[int]] = {"distance": [], "direction": []}
    for q in queries:
        nearest = persons[gallery[np.argmin(np.linalg.norm(vectors[gallery] - vectors[q], axis=1))]]
        for how, points in (("distance", centroids), ("direction", directions)):
            query = vectors[q] if how == "distance" else vectors[q] / np.linalg.norm(vectors[q])
            order = np.argsort(np.linalg.norm(points - query, axis=1))
            ranks[how].append(int(np.flatnonzero(np.array(names)[order] == nearest)[0]) + 1)
    for how, found in ranks.items():
        found = np.array(found)
        print(f"rank of the nearest face's centroid by {how}: "
              + ", ".join(f"<= {k}: {np.mean(found <= k):.4f}" for k in (1, 2, 4, 8, 16)) + f", max {found.max()}")
    # The index itself, where grouping applies (groups at most half the faces): the persons
    # with two or more gallery photos, queried with their held-out photos.
    counts = {n: g_persons.count(n) for n in names}
    gallery = np.array([r for r in gallery if counts[persons[r]] >= 2])
    queries = np.array([q for q in queries if counts.get(persons[q], 0) >= 2])
    g_persons, face_ids = [persons[r] for r in gallery], [f"face-{r}" for r in gallery]
    exact = build_index(vectors[gallery], gallery, face_ids, g_persons, IndexParams(exact_threshold=10**9))
    grouped = build_index(vectors[gallery], gallery, face_ids, g_persons, IndexParams(exact_threshold=0))
    faces = persons_hit = 0
    for q in queries:
        want, got = exact.search(vectors[q], k=1)[0][0], grouped.search(vectors[q], k=1)[0][0]
        faces += want.face_id == got.face_id
        persons_hit += (exact.search_persons(vectors[q], k=1)[0][0].person_id
                        == grouped.search_persons(vectors[q], k=1)[0][0].person_id)
    print(f"{len(gallery)} faces of {len(set(g_persons))} persons, {len(queries)} queries, index kind "
          f"{grouped.kind} ({grouped.backend.nodes} graph nodes): top-1 face = exact "
          f"{faces / len(queries):.4f}, top-1 person = exact {persons_hit / len(queries):.4f}", flush=True)


if __name__ == "__main__":
    main()
