"""The capture page's client assets: the in-browser face detector (YuNet) and the runtime
that runs it (onnxruntime-web's single-threaded wasm build: no SharedArrayBuffer, so no
cross-origin isolation headers are needed).

They are served at /liveness/assets/{name} only to a request that carries a client-assets
access token (shared/liveness/client_assets.py) as `Authorization: Bearer <token>`.

Where the bytes come from: the detector is the engine's own YuNet model from the model store
(.cache/models, packaged with the app); the runtime files are copied from the npm package
onnxruntime-web into .cache/client-assets by `python -m shared.liveness.page_assets` (run by
`make setup`), because a deployment has no node_modules: infra/package.py ships that folder.
"""
from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from shared.engine.modelstore import ModelUnavailable, default_store

REPO_ROOT = Path(__file__).resolve().parents[2]
ASSETS_DIR = REPO_ROOT / ".cache" / "client-assets"
NPM_DIST = REPO_ROOT / "node_modules" / "onnxruntime-web" / "dist"
DETECTOR_MODEL = "yunet_dynamic"
HEADERS = {
    "Cache-Control": "private, max-age=3600",  # a token-bound response: never in a shared cache
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@dataclass(frozen=True)
class ClientAsset:
    content_type: str
    runtime_file: str | None = None  # a file of onnxruntime-web's dist/, else the detector model


CLIENT_ASSETS: dict[str, ClientAsset] = {
    "ort.wasm.bundle.min.mjs": ClientAsset("text/javascript; charset=utf-8", "ort.wasm.bundle.min.mjs"),
    "ort-wasm-simd-threaded.wasm": ClientAsset("application/wasm", "ort-wasm-simd-threaded.wasm"),
    "face-detector.onnx": ClientAsset("application/octet-stream"),
}


def asset_path(name: str) -> Path | None:
    """The file behind a client asset's name, or None (unknown name, or not prepared here)."""
    found = CLIENT_ASSETS.get(name)
    if found is None:
        return None
    if found.runtime_file is None:
        try:
            return default_store().path(DETECTOR_MODEL)
        except ModelUnavailable:
            return None
    path = ASSETS_DIR / found.runtime_file
    return path if path.is_file() else None


def asset(name: str) -> tuple[bytes, str] | None:
    path = asset_path(name)
    return None if path is None else (path.read_bytes(), CLIENT_ASSETS[name].content_type)


def runtime_files() -> list[Path]:
    """The prepared runtime files (what a deployment package must carry)."""
    return [ASSETS_DIR / spec.runtime_file for spec in CLIENT_ASSETS.values() if spec.runtime_file]


def prepare() -> None:
    """Copy the runtime files from node_modules (npm ci) into ASSETS_DIR."""
    ASSETS_DIR.mkdir(parents=True, exist_ok=True)
    for target in runtime_files():
        source = NPM_DIST / target.name
        if not source.is_file():
            sys.exit(f"client assets: {source} is missing: run `npm ci` (package.json: onnxruntime-web)")
        shutil.copyfile(source, target)
        print(f"ok client asset {target.name} ({target.stat().st_size / 2**20:.1f} MiB) <- {source.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    prepare()
