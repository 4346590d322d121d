"""hnswlib in the fastest build this CPU can run, with the portable build as the fallback.

hnswlib has no wheel for CPython 3.11 and picks its distance kernels at compile time: built
with ``-march=native`` it may die with SIGILL on another CPU, built with HNSWLIB_NO_NATIVE=1
(what requirements.txt installs) it has SSE only. So a second build, for x86-64-v3 (AVX2,
FMA, BMI1/2, F16C, LZCNT, MOVBE: every Intel since Haswell, every AMD since Zen), is placed
beside the packages in a folder of its own, and chosen at import when /proc/cpuinfo shows
every one of those features. Measured ~1.6x faster to build and to search (docs/index.md).

    python -m shared.index.native build <site-packages folder>   # make setup, make package

builds it (run it with the package's CPython 3.11) from PyPI's hnswlib sdist, of the version
installed in that folder, into ``<folder>/_hnswlib_x86_64_v3/``. Without that folder, or on
another CPU, or with FACE_INDEX_CPU_VARIANT=portable, the installed portable hnswlib is used.
"""
from __future__ import annotations

import argparse
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from types import ModuleType

from shared.settings import env_str

VARIANT = "x86_64_v3"
FOLDER = f"_hnswlib_{VARIANT}"
# What -march=x86-64-v3 may emit, as /proc/cpuinfo spells it (abm = LZCNT).
REQUIRED_FLAGS = frozenset({"avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "abm", "movbe", "xsave"})


def cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def _variant_file() -> Path | None:
    for entry in sys.path:
        folder = Path(entry or ".") / FOLDER
        found = sorted(folder.glob("hnswlib*.so")) if folder.is_dir() else []
        if found:
            return found[0]
    return None


def _load_extension(path: Path) -> ModuleType:
    loader = importlib.machinery.ExtensionFileLoader("hnswlib", str(path))
    spec = importlib.util.spec_from_file_location("hnswlib", path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def load_hnswlib() -> tuple[ModuleType, str]:
    """The hnswlib module to use and the name of its build ("x86_64_v3" or "portable").

    Call once per process: pybind11 refuses to register hnswlib's types a second time, so
    two builds cannot both be loaded (shared.index.backends holds the one chosen).
    """
    wanted = env_str("FACE_INDEX_CPU_VARIANT", "auto")
    path = _variant_file()
    if wanted != "portable" and path is not None and REQUIRED_FLAGS <= cpu_flags():
        return _load_extension(path), VARIANT
    import hnswlib

    return hnswlib, "portable"


def _installed_version(destination: Path) -> str:
    """hnswlib's version in ``destination`` (a `pip install --target` folder), else in this
    interpreter's environment: the variant must match the portable build beside it."""
    for dist in importlib.metadata.distributions(path=[str(destination)]):
        if (dist.metadata["Name"] or "").lower() == "hnswlib":
            return dist.version
    return importlib.metadata.version("hnswlib")


def build(destination: Path) -> Path | None:
    """Compile the installed hnswlib version for x86-64-v3 into ``destination/FOLDER``
    (nothing on other architectures, where the portable build is all there is)."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return None
    version = _installed_version(destination)
    env = dict(os.environ, HNSWLIB_NO_NATIVE="1", CFLAGS="-O3 -march=x86-64-v3", CXXFLAGS="-O3 -march=x86-64-v3")
    with tempfile.TemporaryDirectory() as work:
        # --no-cache-dir: pip's wheel cache ignores compiler flags and would hand back the portable build.
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "--no-binary", "hnswlib",
                        f"hnswlib=={version}", "-w", work], check=True, env=env)
        (wheel,) = Path(work).glob("hnswlib-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            (member,) = [n for n in archive.namelist() if n.startswith("hnswlib") and n.endswith(".so")]
            target = destination / FOLDER
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            archive.extract(member, target)
    return target / member


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["build"])
    parser.add_argument("destination", type=Path, help="a folder on sys.path (site-packages, or the package target)")
    args = parser.parse_args()
    print(build(args.destination))


if __name__ == "__main__":
    main()
