"""Small synthetic galleries: identities with a few noisy samples each, like real templates."""
from __future__ import annotations

import numpy as np
import pytest

from shared.index import IndexParams

DIMS = 32


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


class Gallery:
    def __init__(self, identities: int, per_identity: int, seed: int = 3):
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.centres = unit(rng.standard_normal((identities, DIMS)))
        self.per_identity = per_identity
        noise = 0.5 / np.sqrt(DIMS)
        self.vectors = unit(np.repeat(self.centres, per_identity, axis=0)
                            + rng.standard_normal((identities * per_identity, DIMS)) * noise)
        n = len(self.vectors)
        self.labels = np.arange(n) + 1000
        self.face_ids = [f"face-{i:05d}" for i in range(n)]
        self.person_ids = [f"person-{i // per_identity:04d}" for i in range(n)]
        self.queries = unit(self.centres[rng.integers(0, identities, 50)] + rng.standard_normal((50, DIMS)) * noise)

    def exact_distances(self, query: np.ndarray) -> np.ndarray:
        return np.linalg.norm(self.vectors - query[None, :], axis=1)


@pytest.fixture(scope="session")
def make_gallery():
    return Gallery


@pytest.fixture(scope="session")
def gallery() -> Gallery:
    return Gallery(identities=600, per_identity=4)


PARAMS = {
    "exact": IndexParams(exact_threshold=10**9),
    "hnsw": IndexParams(exact_threshold=0, m=16, ef_construction=100, ef_search=64, group_faces=0),
    "grouped": IndexParams(exact_threshold=0, m=16, ef_construction=100, ef_search=64, group_faces=3),
}


@pytest.fixture(params=list(PARAMS))
def params(request) -> IndexParams:
    """Each backend; "grouped" splits the 4-face persons of `gallery` in two groups each."""
    return PARAMS[request.param]
