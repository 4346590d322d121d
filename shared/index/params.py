"""Index tuning knobs; every default can be overridden by an app setting (env var).

Defaults come from benchmarks/bench_index.py on the synthetic identity-clustered
distribution described in docs/index.md (numbers and reasoning there).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from shared.settings import env_int


@dataclass(frozen=True)
class IndexParams:
    # 1M faces in 200k persons, 2 threads, x86-64-v3 hnswlib: grouped graph built in 82 s,
    # person and vector recall@1 0.9975 at ef 91 in 0.60 ms (docs/index.md).
    m: int = 32  # graph degree: near-isotropic 128-d templates need more than 16
    ef_construction: int = 100  # dominates build time
    ef_search: int = 64  # default ef for graphs up to ef_reference_size nodes (faces or groups)
    ef_reference_size: int = 100_000  # ef grows with the square root of graph size above this
    ef_max: int = 512
    exact_threshold: int = 10_000  # below this, brute force: exact, no build, <= ~0.3 ms per query
    threads: int = 2  # build threads
    group_faces: int = 8  # persons with more faces are split into groups of about this many; 0: no groups
    rerank_groups: int = 16  # groups whose faces are scored exactly per query, at least

    @classmethod
    def from_env(cls) -> "IndexParams":
        base = cls()
        return cls(
            m=env_int("FACE_INDEX_M", base.m),
            ef_construction=env_int("FACE_INDEX_EF_CONSTRUCTION", base.ef_construction),
            ef_search=env_int("FACE_INDEX_EF", base.ef_search),
            ef_reference_size=env_int("FACE_INDEX_EF_REFERENCE_SIZE", base.ef_reference_size),
            ef_max=env_int("FACE_INDEX_EF_MAX", base.ef_max),
            exact_threshold=env_int("FACE_INDEX_EXACT_THRESHOLD", base.exact_threshold),
            threads=env_int("FACE_INDEX_THREADS", base.threads),
            group_faces=env_int("FACE_INDEX_GROUP_FACES", base.group_faces),
            rerank_groups=env_int("FACE_INDEX_RERANK_GROUPS", base.rerank_groups),
        )

    def as_dict(self) -> dict:
        return asdict(self)

    def ef_for(self, size: int) -> int:
        """Default ef for a graph of ``size`` nodes (faces, or face groups).

        Recall of a fixed ef falls as the graph grows (more hops, more local minima), so
        ef scales with sqrt(size / reference) above the reference size, capped at ef_max.
        """
        scale = max(1.0, (size / self.ef_reference_size) ** 0.5)
        return min(self.ef_max, int(round(self.ef_search * scale)))
