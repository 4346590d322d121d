"""Cold start: a fresh interpreter imports the engine, loads every default model, detects once.

    FACE_MODEL_MIRRORS=../shared/models .venv/bin/python benchmarks/cold_start.py [--runs N]

Models are resolved (and derived ONNX files built) in this parent process first, as
``prepare`` does at deploy time; the child then measures what a new worker pays.
Target: <= 2 s from interpreter start to the first detect result.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared").resolve()
os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))
SAMPLE = SHARED_DIR / "data" / "faces" / "persons" / "obama" / "1.jpg"

CHILD = """
import json, sys, time
t0 = time.perf_counter()
from shared.engine.engine import get_engine
from shared.engine.types import DetectOptions
t1 = time.perf_counter()
engine = get_engine()
engine.warm_up()
t2 = time.perf_counter()
faces = engine.detect(open(sys.argv[1], "rb").read(), DetectOptions(recognition_models=("recognition_01",)))
t3 = time.perf_counter()
assert len(faces) == 1 and faces[0].templates
print(json.dumps({"import": t1 - t0, "load_models": t2 - t1, "first_detect": t3 - t2}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    sys.path.insert(0, str(REPO_ROOT))
    from shared.engine.engine import get_engine

    get_engine().warm_up()  # resolves every default model, building derived ones if needed
    totals = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(SAMPLE)], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        )
        totals.append(time.perf_counter() - start)
        parts = json.loads(done.stdout)
        print("  ".join(f"{k} {v:.2f}s" for k, v in parts.items()) + f"  total (incl. interpreter) {totals[-1]:.2f}s")
    print(f"cold start seconds: best {min(totals):.2f}, median {sorted(totals)[len(totals) // 2]:.2f} (target <= 2.0)")


if __name__ == "__main__":
    main()
