"""Which hnswlib build is loaded. Each case runs in a fresh interpreter: pybind11 lets a
process load only one hnswlib build (this one already holds shared.index's choice)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shared.index import native

ROOT = Path(__file__).resolve().parents[2]
PORTABLE = subprocess.run([sys.executable, "-c", "import importlib.util as u; print(u.find_spec('hnswlib').origin)"],
                          capture_output=True, text=True, check=True).stdout.strip()

_CASE = r"""
import importlib.util, json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
spec = importlib.util.spec_from_file_location("native_under_test", sys.argv[2] + "/shared/index/native.py")
native = importlib.util.module_from_spec(spec)
spec.loader.exec_module(native)
flags = json.loads(sys.argv[3])
if flags is not None:
    native.cpu_flags = lambda: frozenset(flags)
module, build = native.load_hnswlib()
module.Index(space="l2", dim=4)
print(json.dumps([build, module.__file__]))
"""


def _load(tmp_path, flags, env=None) -> tuple[str, str]:
    out = subprocess.run([sys.executable, "-c", _CASE, str(tmp_path), str(ROOT), json.dumps(flags)],
                         capture_output=True, text=True, check=True, env=env)
    return tuple(json.loads(out.stdout))


@pytest.fixture
def variant(tmp_path) -> Path:
    # A stand-in variant: the portable build copied where the x86-64-v3 build would be.
    folder = tmp_path / native.FOLDER
    folder.mkdir()
    shutil.copy(PORTABLE, folder)
    return folder


def test_variant_is_loaded_when_the_cpu_has_every_feature(tmp_path, variant):
    build, path = _load(tmp_path, sorted(native.REQUIRED_FLAGS | {"sse2"}))
    assert build == native.VARIANT and path.startswith(str(variant))


def test_portable_build_without_a_feature_or_when_asked(tmp_path, variant, monkeypatch):
    assert _load(tmp_path, sorted(native.REQUIRED_FLAGS - {"avx2"})) == ("portable", PORTABLE)
    monkeypatch.setenv("FACE_INDEX_CPU_VARIANT", "portable")
    assert _load(tmp_path, sorted(native.REQUIRED_FLAGS)) == ("portable", PORTABLE)


def test_cpu_flags_are_read_from_cpuinfo():
    flags = native.cpu_flags()
    assert "sse2" in flags or not flags  # x86-64 always has SSE2; elsewhere there may be no flags line
