"""Find, verify, fetch and build model files.

Two entry points with different powers:

* ``ModelStore.path(name)`` is what the service uses at run time. It looks in the cache,
  the mirror folders and installed packages, verifies the sha256, and builds a derived model
  if its source is present locally. It never touches the network, so a request can never
  wait on (or be poisoned by) a download.
* ``ModelStore.prepare(name)`` is what ``python -m shared.engine.prepare`` runs at build or
  deploy time. It also downloads from the pinned URL, and copies every model into the cache
  so a deployment needs nothing but the cache folder, with the licence text a model's
  catalog entry names (into ``licenses/`` there).

A missing model raises ``ModelUnavailable`` whose message lists every place searched and why
each one did not qualify; that message is the whole diagnosis an operator needs.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import os
import shutil
import tempfile
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from shared.engine.catalog import CATALOG, ModelSpec
from shared.settings import env_str

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = REPO_ROOT / ".cache" / "models"
LICENSES_DIR = Path(__file__).resolve().parent / "licenses"
DOWNLOAD_TIMEOUT_S = 120


class ModelUnavailable(RuntimeError):
    """A model could not be found or built; the message names every place searched."""


@dataclass(frozen=True)
class Resolved:
    name: str
    path: Path
    origin: str  # where the bytes came from, for logs and the prepare report
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def import_builder(target: str) -> Callable[[Path, Path], None]:
    module_name, _, function_name = target.partition(":")
    return getattr(importlib.import_module(module_name), function_name)


def mirrors_from_setting(value: str) -> list[Path]:
    """FACE_MODEL_MIRRORS: folders separated by os.pathsep or commas."""
    parts = value.replace(",", os.pathsep).split(os.pathsep)
    return [Path(part.strip()).expanduser().resolve() for part in parts if part.strip()]


def _install_atomically(write: Callable[[Path], None], dest: Path) -> None:
    """Produce ``dest`` via a temp file in the same folder, so readers never see half a file
    and concurrent preparers (several worker processes) simply overwrite each other."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".build-") as scratch:
        tmp = Path(scratch) / dest.name
        write(tmp)
        os.replace(tmp, dest)


def _download(url: str, dest: Path) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "face-engine-prepare"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response, open(dest, "wb") as out:
        shutil.copyfileobj(response, out, 1 << 20)


class ModelStore:
    def __init__(self, cache_dir: Path, mirrors: list[Path], catalog: dict[str, ModelSpec] = CATALOG):
        self.cache_dir = Path(cache_dir)
        self.mirrors = [Path(m) for m in mirrors]
        self.catalog = catalog
        self._resolved: dict[str, Resolved] = {}
        self._lock = threading.RLock()  # reentrant: a derived model resolves its source inside

    # ---- run time -------------------------------------------------------------------
    def path(self, name: str) -> Path:
        return self.resolve(name).path

    def resolve(self, name: str) -> Resolved:
        """Locate (or build from a local source) without any network access. Memoized."""
        with self._lock:
            if name not in self._resolved:
                self._resolved[name] = self._locate(self._spec(name), allow_download=False)
            return self._resolved[name]

    # ---- build / deploy time ----------------------------------------------------------
    def prepare(self, name: str) -> Resolved:
        """Put a verified copy of the model in the cache, downloading it if needed."""
        with self._lock:
            spec = self._spec(name)
            resolved = self._locate(spec, allow_download=True)
            if spec.license is not None:
                notice = self.cache_dir / "licenses" / spec.license
                _install_atomically(lambda tmp: shutil.copyfile(LICENSES_DIR / spec.license, tmp), notice)
            self._resolved[name] = resolved
            return resolved

    # ---- internals ----------------------------------------------------------------------
    def _spec(self, name: str) -> ModelSpec:
        if name not in self.catalog:
            raise ModelUnavailable(f"Unknown model '{name}'; the catalog has: {', '.join(sorted(self.catalog))}.")
        return self.catalog[name]

    def _locate(self, spec: ModelSpec, allow_download: bool) -> Resolved:
        if spec.derived:
            return self._locate_derived(spec, allow_download)
        return self._locate_plain(spec, allow_download)

    def _local_candidates(self, spec: ModelSpec) -> list[tuple[str, Path | None, str]]:
        """(label, path or None, reason when None) for every local place, in search order."""
        places: list[tuple[str, Path | None, str]] = [("cache", self.cache_dir / spec.file_name, "")]
        places += [("mirror", mirror / spec.file_name, "") for mirror in self.mirrors]
        if spec.package is not None:
            label = f"package {spec.package.distribution}"
            try:
                dist = importlib.metadata.distribution(spec.package.distribution)
                places.append((label, Path(str(dist.locate_file(spec.package.path))), ""))
            except importlib.metadata.PackageNotFoundError:
                places.append((label, None, "package not installed"))
        return places

    def _locate_plain(self, spec: ModelSpec, allow_download: bool) -> Resolved:
        searched: list[str] = []
        for label, path, reason in self._local_candidates(spec):
            if path is None:
                searched.append(f"{label}: {reason}")
                continue
            if not path.is_file():
                searched.append(f"{label} {path}: missing")
                continue
            digest = sha256_of(path)
            if digest != spec.sha256:
                searched.append(f"{label} {path}: sha256 mismatch (found {digest})")
                continue
            if allow_download and label != "cache":
                _install_atomically(lambda tmp: shutil.copyfile(path, tmp), self.cache_dir / spec.file_name)
                return Resolved(spec.name, self.cache_dir / spec.file_name, f"{label} {path}", digest)
            return Resolved(spec.name, path, f"{label} {path}", digest)
        if spec.url is None:
            searched.append("no download URL declared")
        elif not allow_download:
            searched.append(f"url {spec.url}: not downloaded at run time")
        else:
            downloaded = self._try_download(spec, searched)
            if downloaded is not None:
                return downloaded
        raise self._unavailable(spec, searched)

    def _try_download(self, spec: ModelSpec, searched: list[str]) -> Resolved | None:
        dest = self.cache_dir / spec.file_name

        def fetch(tmp: Path) -> None:
            _download(spec.url, tmp)
            digest = sha256_of(tmp)
            if digest != spec.sha256:
                raise ValueError(f"sha256 mismatch (downloaded {digest})")

        try:
            _install_atomically(fetch, dest)
        except (OSError, ValueError) as exc:  # URLError and HTTPError are OSErrors
            searched.append(f"url {spec.url}: {exc}")
            return None
        return Resolved(spec.name, dest, f"url {spec.url}", spec.sha256)

    def _locate_derived(self, spec: ModelSpec, allow_download: bool) -> Resolved:
        built = self.cache_dir / spec.file_name
        sidecar = built.with_name(built.name + ".json")
        try:
            source = self._locate(self._spec(spec.source_model), allow_download)
        except ModelUnavailable as exc:
            # A deployment may ship only the built file: use it when the sidecar says it was
            # built by this builder version, since there is no source left to compare against.
            digest = self._vouched_build(built, sidecar, spec, source_sha256=None)
            if digest is not None:
                return Resolved(spec.name, built, f"cache {built} (source not present to re-check)", digest)
            raise ModelUnavailable(f"{exc}\nNeeded to build '{spec.name}' ({spec.file_name}) into {built}.") from None
        digest = self._vouched_build(built, sidecar, spec, source.sha256)
        if digest is not None:
            return Resolved(spec.name, built, f"cache {built} (built from {source.path})", digest)
        return self._build(spec, source, built, sidecar)

    @staticmethod
    def _vouched_build(built: Path, sidecar: Path, spec: ModelSpec, source_sha256: str | None) -> str | None:
        """The sha256 of the cached build if its sidecar vouches for it: same builder and
        version, same source (when known) and the very bytes it recorded; else None."""
        try:
            record = json.loads(sidecar.read_text())
        except (OSError, ValueError):
            return None
        same_recipe = record.get("builder") == spec.builder and record.get("version") == spec.version
        same_source = source_sha256 is None or record.get("source_sha256") == source_sha256
        if not (same_recipe and same_source and built.is_file()):
            return None
        digest = sha256_of(built)
        return digest if digest == record.get("sha256") else None

    def _build(self, spec: ModelSpec, source: Resolved, built: Path, sidecar: Path) -> Resolved:
        try:
            builder = import_builder(spec.builder)
            _install_atomically(lambda tmp: builder(source.path, tmp), built)
        except Exception as exc:  # any builder failure means the model is unavailable
            raise ModelUnavailable(
                f"Model '{spec.name}' ({spec.file_name}) could not be built from {source.path} "
                f"with {spec.builder}: {type(exc).__name__}: {exc}"
            ) from exc
        digest = sha256_of(built)
        record = {
            "model": spec.name,
            "version": spec.version,
            "builder": spec.builder,
            "source_model": spec.source_model,
            "source_sha256": source.sha256,
            "sha256": digest,
        }
        _install_atomically(lambda tmp: tmp.write_text(json.dumps(record, indent=2)), sidecar)
        return Resolved(spec.name, built, f"built from {source.origin}", digest)

    def _unavailable(self, spec: ModelSpec, searched: list[str]) -> ModelUnavailable:
        lines = "\n".join(f"  - {entry}" for entry in searched)
        return ModelUnavailable(
            f"Model '{spec.name}' ({spec.file_name}, sha256 {spec.sha256}) is not available. Searched:\n{lines}\n"
            "Run `python -m shared.engine.prepare` (with network access, or FACE_MODEL_MIRRORS pointing at a "
            "folder holding the file) to fill the cache (FACE_MODEL_CACHE)."
        )


_default_store: ModelStore | None = None
_default_lock = threading.Lock()


def default_store() -> ModelStore:
    """The process-wide store, configured from FACE_MODEL_CACHE and FACE_MODEL_MIRRORS."""
    global _default_store
    with _default_lock:
        if _default_store is None:
            cache = Path(env_str("FACE_MODEL_CACHE", str(DEFAULT_CACHE))).expanduser().resolve()
            _default_store = ModelStore(cache, mirrors_from_setting(env_str("FACE_MODEL_MIRRORS")))
        return _default_store


def model_path(name: str) -> Path:
    return default_store().path(name)
