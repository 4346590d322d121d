"""Cold start as a new Functions worker pays it: a fresh interpreter imports ``function_app``
(as the Python worker does to index the functions), loads every default model (the engine's
warm-up, what /health runs) and detects once (detection_01 + recognition_01).

    .venv/bin/python benchmarks/cold_start.py [--runs 5] [--from tree package] [--zip ZIP]

``tree``: the repository, with this machine's venv and the prepared models in .cache/models;
the app's own modules are byte-compiled first (into __pycache__), as the package carries them.
``package``: the unpacked `make package` zip (dist/face-api.zip, built here when missing or
out of date), run as Azure runs it: ``python -S`` with only the package's site-packages on
the path, the models the package carries (no FACE_MODEL_MIRRORS, no FACE_MODEL_CACHE) and no
writing of .pyc files (Azure mounts the package read-only), so a module the package does not
carry compiled is compiled on every start, as it would be there.

Per run: import, model load, first detect, and "total", from just before the interpreter is
started to the first detect's answer (so it includes the interpreter's own start). The machine
is shared and noisy, so the summary takes the minimum of each figure over the runs (the run
least disturbed by other work) and the median beside it. The same phases in CPU seconds of the
worker process are printed too: on a loaded machine they stay close to what an idle one takes,
where elapsed time grows with the other work. Target: total (elapsed) <= 1.0 s.

Last line: ``cold start s (min of N runs): tree T (import I, models M, first detect D), ...``.
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from smoke import parse_args

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared").resolve()
os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))
SAMPLE = SHARED_DIR / "data" / "faces" / "persons" / "obama" / "1.jpg"
SITE_PACKAGES = Path(".python_packages") / "lib" / "site-packages"  # inside the package
TARGET_SECONDS = 1.0
PHASES = ("import", "models", "first_detect", "total")

# argv: the sample photo, the wall-clock time just before this interpreter was started. Each
# phase is timed twice: elapsed, and CPU seconds of the process (process_time counts from the
# process's start, so the CPU total includes the interpreter's own start).
WORKER = """
import json, sys, time
marks = [(time.perf_counter(), time.process_time())]
import function_app
marks.append((time.perf_counter(), time.process_time()))
from shared.engine.engine import get_engine
from shared.engine.types import DetectOptions
engine = get_engine()
engine.warm_up()
marks.append((time.perf_counter(), time.process_time()))
faces = engine.detect(open(sys.argv[1], "rb").read(), DetectOptions(recognition_models=("recognition_01",)))
marks.append((time.perf_counter(), time.process_time()))
total = time.time() - float(sys.argv[2])
assert len(faces) == 1 and faces[0].templates, faces
phases = ("import", "models", "first_detect")
wall = {phase: marks[i + 1][0] - marks[i][0] for i, phase in enumerate(phases)}
cpu = {phase: marks[i + 1][1] - marks[i][1] for i, phase in enumerate(phases)}
print(json.dumps({"wall": {**wall, "total": total}, "cpu": {**cpu, "total": marks[-1][1]}}))
"""


def tree_worker() -> tuple[list[str], Path, dict[str, str]]:
    """The repository as `make run` serves it; every derived model built beforehand, as
    `make setup` (prepare) does, so the worker only loads."""
    sys.path.insert(0, str(REPO_ROOT))
    from shared.engine.engine import get_engine

    get_engine().warm_up()
    compileall.compile_file(str(REPO_ROOT / "function_app.py"), quiet=1)
    for folder in ("functions", "shared"):
        compileall.compile_dir(str(REPO_ROOT / folder), quiet=1)
    return [sys.executable], REPO_ROOT, dict(os.environ)


def package_worker(folder: Path, zip_path: Path | None) -> tuple[list[str], Path, dict[str, str]]:
    """The deployment zip (``zip_path``, or `make package`'s) unpacked into ``folder``: -S keeps
    this machine's and the venv's site-packages off the path, so only what the package carries
    is importable."""
    if zip_path is None:
        sys.path.insert(0, str(REPO_ROOT / "infra"))
        import package as builder

        zip_path = builder.build()
    zipfile.ZipFile(zip_path).extractall(folder)
    env = {"PATH": os.environ["PATH"], "HOME": str(folder), "PYTHONPATH": str(folder / SITE_PACKAGES),
           "PYTHONDONTWRITEBYTECODE": "1"}
    return [sys.executable, "-S"], folder, env


def measure(python: list[str], cwd: Path, env: dict[str, str]) -> dict[str, dict[str, float]]:
    started = time.time()
    done = subprocess.run([*python, "-c", WORKER, str(SAMPLE), repr(started)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"the worker failed in {cwd}:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def describe(figures: dict[str, float]) -> str:
    return (f"{figures['total']:.2f} (import {figures['import']:.2f}, models {figures['models']:.2f}, "
            f"first detect {figures['first_detect']:.2f})")


def run(where: str, runs: int, folder: Path, zip_path: Path | None) -> dict[str, float]:
    python, cwd, env = tree_worker() if where == "tree" else package_worker(folder, zip_path)
    results = []
    for _ in range(runs):
        results.append(measure(python, cwd, env))
        print(f"{where:<8} " + "  ".join(f"{phase} {results[-1]['wall'][phase]:.3f}s" for phase in PHASES)
              + f"  (CPU {results[-1]['cpu']['total']:.3f}s)", flush=True)
    for clock in ("wall", "cpu"):
        best = {phase: min(result[clock][phase] for result in results) for phase in PHASES}
        median = {phase: statistics.median(result[clock][phase] for result in results) for phase in PHASES}
        print(f"{where:<8} {'elapsed' if clock == 'wall' else 'CPU':<7} min {describe(best)}; median {describe(median)}")
    return {phase: min(result["wall"][phase] for result in results) for phase in PHASES}



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--from", dest="sources", nargs="+", choices=("tree", "package"), default=["tree"])
    parser.add_argument("--zip", type=Path, help="the package to unpack (default: dist/face-api.zip, built if needed)")
    args = parse_args(parser, runs=1)
    with tempfile.TemporaryDirectory(prefix="cold-start-") as folder:
        best = {where: run(where, args.runs, Path(folder), args.zip) for where in args.sources}

    print(f"cold start s (min of {args.runs} runs): "
          + ", ".join(f"{where} {describe(figures)}" for where, figures in best.items())
          + f"; target <= {TARGET_SECONDS:.1f}")


if __name__ == "__main__":
    main()
