"""The prepare CLI: one line per model, non-zero exit and the full message when one is missing."""
from __future__ import annotations

import hashlib

from shared.engine import prepare
from shared.engine.catalog import ModelSpec
from shared.engine.modelstore import ModelStore

CONTENT = b"present model " * 100


def test_prepare_reports_each_model_and_fails_on_a_missing_one(tmp_path, monkeypatch, capsys):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "present.onnx").write_bytes(CONTENT)
    catalog = {
        "present": ModelSpec("present", "present.onnx", "1", sha256=hashlib.sha256(CONTENT).hexdigest()),
        "absent": ModelSpec("absent", "absent.onnx", "1", sha256="0" * 64),
    }
    monkeypatch.setattr(prepare, "default_store", lambda: ModelStore(tmp_path / "cache", [mirror], catalog))

    assert prepare.main([]) == 1
    out, err = capsys.readouterr()
    assert "ok present" in out and hashlib.sha256(CONTENT).hexdigest() in out
    assert "MISSING absent" in err and str(mirror / "absent.onnx") in err and "1 model(s) unavailable" in err
    assert (tmp_path / "cache" / "present.onnx").read_bytes() == CONTENT

    assert prepare.main(["present"]) == 0
