"""`make package`: the zip a Functions deployment takes, self-contained.

    python infra/package.py          # -> build/package/ (the tree) and dist/face-api.zip

Contents: only what serving needs. function_app.py, functions/, shared/, host.json,
requirements.txt; the prepared models the service loads in .cache/models (where the packaged
code looks by default, so no FACE_MODEL_MIRRORS is needed), with a derived model's build record
and the licence notices, but not the files derived models are built from; the capture page's
detector runtime in .cache/client-assets; and
.python_packages/lib/site-packages with everything requirements.txt lists (serving only:
conversion tooling is in requirements-prepare.txt), installed for Linux x86-64 CPython 3.11
(hnswlib compiled with HNSWLIB_NO_NATIVE=1, so it runs on any x86-64 CPU, plus its x86-64-v3
build beside it, chosen at import where the CPU has AVX2: shared/index/native.py), without
the installed packages' test suites and onnxruntime's conversion tooling (NOT_SERVED). No
tests, benchmarks, devhost or dev dependencies.

Every module is precompiled to an unchecked-hash .pyc: Azure runs the package from a read-only
mount, where Python could neither use a timestamp-checked .pyc after unzipping (zip keeps
times to 2 s) nor write one, so each cold start would compile every imported module again.

It must run on Linux x86-64 with Python 3.11 (the Functions runtime's platform), because
packages without a wheel are compiled here. The site-packages are kept in .cache/package per
requirements.txt digest, and the zip is rebuilt only when one of its inputs changed.
"""
from __future__ import annotations

import compileall
import hashlib
import json
import os
import platform
import py_compile
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from shared.engine.catalog import served_models  # noqa: E402 (after the path set-up)
from shared.engine.modelstore import default_store  # noqa: E402
from shared.liveness import page_assets  # noqa: E402

APP_FILES = ["function_app.py", "host.json", "requirements.txt"]
APP_FOLDERS = ["functions", "shared"]
SITE_PACKAGES = Path(".python_packages") / "lib" / "site-packages"
PACKAGED_MODELS = Path(".cache") / "models"  # shared.engine.modelstore.DEFAULT_CACHE, relative
PACKAGED_CLIENT_ASSETS = page_assets.ASSETS_DIR.relative_to(REPO_ROOT)  # the capture page's detector runtime
STAGE = REPO_ROOT / "build" / "package"
ZIP = REPO_ROOT / "dist" / "face-api.zip"
DEPENDENCY_CACHE = REPO_ROOT / ".cache" / "package"
# Left out of the site-packages (a name anywhere, or a path under site-packages): what no served
# import reaches (test suites, onnxruntime's conversion and quantisation tooling), the installed
# .pyc files (compiled again below) and the dependency cache's own stamp.
NOT_SERVED = {"__pycache__", "tests", ".complete",
              "onnxruntime/transformers", "onnxruntime/quantization", "onnxruntime/tools"}


def build() -> Path:
    """Build (or reuse) the package; returns the zip's path."""
    _check_platform()
    models = _model_files()
    client_assets = _client_asset_files()
    digest = _inputs_digest(models + client_assets)
    stamp = ZIP.with_name(ZIP.name + ".inputs")
    if ZIP.exists() and stamp.exists() and stamp.read_text() == digest:
        print(f"{ZIP.relative_to(REPO_ROOT)} is up to date ({_size(ZIP)})")
        return ZIP
    site_packages = _dependencies()
    _stage(site_packages, models, client_assets)
    _zip(STAGE, ZIP)
    stamp.write_text(digest)
    print(f"{ZIP.relative_to(REPO_ROOT)}: {_size(ZIP)} ({_size_of_tree(STAGE)} unpacked)")
    return ZIP


def _check_platform() -> None:
    if (sys.platform, platform.machine(), sys.version_info[:2]) != ("linux", "x86_64", (3, 11)):
        sys.exit("package: build on Linux x86-64 with Python 3.11 (the Functions runtime's platform), "
                 f"not {sys.platform} {platform.machine()} Python {platform.python_version()}")


def _model_files() -> list[Path]:
    """Every model the service loads (with a derived model's build record and the licence
    notices) from the prepared cache; the sources of derived models stay behind."""
    cache = default_store().cache_dir
    files = []
    for spec in served_models():
        model = cache / spec.file_name
        record = model.with_name(model.name + ".json")
        notice = cache / "licenses" / spec.license if spec.license else None
        if not model.is_file() or (spec.derived and not record.is_file()) or (notice and not notice.is_file()):
            sys.exit(f"package: model {spec.name} is not prepared in {cache}: run `make setup`")
        files += [model, record] if spec.derived else [model]
        files += [notice] if notice else []

    return sorted(set(files))


def _client_asset_files() -> list[Path]:
    """The capture page's detector runtime, copied from node_modules at `make setup` (the
    package has no node_modules); its model is the packaged YuNet."""
    files = page_assets.runtime_files()
    missing = [path.name for path in files if not path.is_file()]
    if missing:
        sys.exit(f"package: client assets {', '.join(missing)} are not prepared: run `make setup`")
    return files


def _app_sources() -> list[Path]:
    files = [REPO_ROOT / name for name in APP_FILES]
    for folder in APP_FOLDERS:
        files += sorted(p for p in (REPO_ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return files


def _inputs_digest(models: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in [*_app_sources(), *models, Path(__file__)]:
        digest.update(str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path.name).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _dependencies() -> Path:
    """site-packages for requirements.txt, installed once per requirements digest."""
    requirements = REPO_ROOT / "requirements.txt"
    key = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    target = DEPENDENCY_CACHE / f"site-packages-{key}"
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    print(f"installing requirements.txt into {target.relative_to(REPO_ROOT)} (Linux x86-64, CPython 3.11)")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--no-warn-conflicts", "--target", str(target),
                    "--requirement", str(requirements)],
                   env={**os.environ, "HNSWLIB_NO_NATIVE": "1"}, check=True)
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts point at this machine's Python
    subprocess.run([sys.executable, "-m", "shared.index.native", "build", str(target)], cwd=REPO_ROOT, check=True)
    (target / ".complete").write_text(json.dumps({"requirements": key}))
    return target


def _stage(site_packages: Path, models: list[Path], client_assets: list[Path]) -> None:
    shutil.rmtree(STAGE, ignore_errors=True)
    for source in _app_sources():
        _place(source, STAGE / source.relative_to(REPO_ROOT))
    cache = default_store().cache_dir
    for model in models:
        _place(model, STAGE / PACKAGED_MODELS / model.relative_to(cache))
    for asset in client_assets:
        _place(asset, STAGE / PACKAGED_CLIENT_ASSETS / asset.name)
    shutil.copytree(site_packages, STAGE / SITE_PACKAGES, copy_function=_link_or_copy,
                    ignore=lambda folder, names: _not_served(site_packages, Path(folder), names))
    compileall.compile_dir(STAGE, quiet=1, workers=2, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)


def _not_served(site_packages: Path, folder: Path, names: list[str]) -> set[str]:
    relative = folder.relative_to(site_packages)
    return {name for name in names if name in NOT_SERVED or (relative / name).as_posix() in NOT_SERVED}



def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    _link_or_copy(source, target)


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    """Hard links keep staging a ~1 GB tree fast; copies where links cannot be made."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _zip(stage: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(stage.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(stage).as_posix())
    partial.replace(target)


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 2**20:.1f} MiB"


def _size_of_tree(folder: Path) -> str:
    return f"{sum(p.stat().st_size for p in folder.rglob('*') if p.is_file()) / 2**20:.1f} MiB"


if __name__ == "__main__":
    build()
