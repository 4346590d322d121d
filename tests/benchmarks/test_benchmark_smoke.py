"""Every benchmark that make runs also runs in `make test`, at its smoke size (seconds), so a
change that breaks a benchmark fails CI instead of the next person who measures.

How to add a benchmark (docs/performance.md, "Benchmarks in make test"):
1. the script parses its arguments with ``smoke.parse_args(parser, **sizes)`` (benchmarks/smoke.py):
   ``--smoke`` then runs it on those few items, and it prints its summary line last;
2. its make target gets an entry in SMOKE below: per script the target runs, the arguments
   (``--smoke`` plus any the target passes that the smoke run must override) and a pattern the
   last line must match.
test_every_benchmark_target_has_a_smoke_run fails for a make target whose commands run a
script in benchmarks/ without an entry here, or whose entry runs other scripts.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import NamedTuple

import pytest

from tests.conftest import REPO_ROOT, shared_data_dir


class Run(NamedTuple):
    script: str  # in benchmarks/
    args: tuple[str, ...]
    last_line: str  # regular expression the summary line must match


SMOKE: dict[str, list[Run]] = {
    "bench-engine": [Run("bench_engine.py", ("--smoke",), r"^detect\+embed p50 ms/face: ours \d"),
                     Run("cold_start.py", ("--smoke",), r"^cold start s \(min of 1 runs\): tree \d")],
    "cold-start": [Run("cold_start.py", ("--smoke", "--from", "package"), r"^cold start s \(min of 1 runs\): package \d")],
    "accuracy": [Run("accuracy.py", ("--smoke",), r"^lfw-dev: verify \d\.\d+, rank-1 \d\.\d+, embedder \w")],
    "bench-attributes": [Run("bench_attributes.py", ("--smoke",),
                             r"^attributes ms/face \(wall\): glasses\+occlusion\+accessories \d")],
    "bench-index": [Run("bench_index.py", ("--smoke",), r"^index 2000: recall@1 \d")],
    "compare-index-libs": [Run("compare_index_libs.py", ("--smoke",), r"^compared on 2000 faces: hnswlib-faces, grouped")],
    "bench-identify": [Run("bench_identify.py", ("--smoke",), r"^rank-1 correct: \d+/10$")],
    "bench-load": [Run("bench_load.py", ("--smoke",), r"^load: [\d.]+ req/s at 2 clients .*, 5xx 0$")],
    "bench-soak": [Run("bench_load.py", ("--smoke", "--soak", "3"), r"^soak: 3 s at 2 clients, .*, 5xx 0$")],
    "bench-liveness": [Run("bench_liveness.py", ("--smoke",), r"^liveness p50 ms: passive \d+, active \d+; samples correct \d+/\d+")],
    "bench-directory": [Run("bench_directory.py", ("--smoke",), r"^directory 500: recall@1 1\.0000")],
    "bench-directory-postgres": [Run("bench_directory_postgres.py", ("--smoke",), r"^directory-postgres \d+: recall@1 \d")],
}


# The service's guards at their strictest: a benchmark must set what it measures itself
# (bench_identify.UNGUARDED) and not rely on defaults that other work may change, as the
# per-credential rate limit once broke bench-liveness.
STRICT_GUARDS = {"FACE_RATE_ADMIN_PER_SECOND": "1", "FACE_RATE_ADMIN_BURST": "1", "FACE_RATE_RECOGNIZER_PER_SECOND": "1",
                 "FACE_RATE_RECOGNIZER_BURST": "1", "FACE_TIER": "F0", "FACE_QUEUE_MAX_MESSAGES": "1"}


def benchmark_targets() -> dict[str, set[str]]:
    """Make targets whose commands run scripts in benchmarks/, with those scripts' names."""
    targets: dict[str, set[str]] = {}
    target = None
    for line in (REPO_ROOT / "Makefile").read_text().splitlines():
        rule = re.match(r"^([A-Za-z0-9_.-]+):(?!=)", line)
        if rule:
            target = rule.group(1)
        elif line.startswith("\t") and target and target != "test":  # the suite's own runner
            for script in re.findall(r"benchmarks/(\w+\.py)", line):
                targets.setdefault(target, set()).add(script)
        elif line.strip() and not line.startswith("#"):
            target = None
    return targets


def test_every_benchmark_target_has_a_smoke_run():
    targets = benchmark_targets()
    assert {"bench-engine", "accuracy", "bench-liveness"} <= set(targets)  # the parser finds them
    assert set(targets) == set(SMOKE), "add the target's smoke run to SMOKE (see this module's docstring)"
    for target, scripts in targets.items():
        assert scripts == {run.script for run in SMOKE[target]}, target


@pytest.mark.parametrize("target, run", [(target, run) for target, runs in SMOKE.items() for run in runs],
                         ids=lambda value: value if isinstance(value, str) else value.script)
def test_the_benchmark_runs_at_its_smoke_size(target, run):
    env = {**os.environ, **STRICT_GUARDS,
           "FACE_MODEL_MIRRORS": os.environ.get("FACE_MODEL_MIRRORS") or str(shared_data_dir() / "models")}

    done = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / run.script), *run.args], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=1200)  # cold-start may build the package first
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"make {target}: {run.script} {' '.join(run.args)} failed:\n{output[-5000:]}"
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines and re.search(run.last_line, lines[-1]), f"{run.script}: last line {lines[-1:]!r}\n{output[-3000:]}"
