"""The served networks are exact rewrites of the published ones: on the real chips of every dev
photo they give the same templates to float rounding, so a rebuilt model file never
invalidates stored templates or the calibration (docs/recognition.md, section 6)."""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from shared.engine.detector import YuNetDetector
from shared.engine.embedders import get_embedder, unit_rows
from shared.engine.imaging import decode_image
from shared.engine.modelstore import default_store

# Templates are compared as stored: SFace's unit vectors, dlib's raw descriptors (|x| < 0.5).
MAX_TEMPLATE_DIFFERENCE = 1e-5


@pytest.fixture(scope="module")
def dev_faces(person_photos) -> list[tuple[np.ndarray, np.ndarray]]:
    detector, faces = YuNetDetector(), []
    for photo in person_photos:
        image = decode_image(photo.read_bytes())
        faces.append((image, detector.detect(image)[0].points5))
    return faces


def _run_one_by_one(session: ort.InferenceSession, tensors: np.ndarray) -> np.ndarray:
    feed = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {feed: tensor[None]})[0] for tensor in tensors])


def test_sface_templates_are_the_published_graphs(dev_faces) -> None:
    sface = get_embedder("sface")
    chips = np.stack([sface.align(image, points) for image, points in dev_faces])
    published = ort.InferenceSession(str(default_store().path("sface_2021dec_onnx")), providers=["CPUExecutionProvider"])
    want = unit_rows(_run_one_by_one(published, chips[..., ::-1].transpose(0, 3, 1, 2).astype(np.float32)))
    assert np.abs(sface.embed(list(chips)) - want).max() <= MAX_TEMPLATE_DIFFERENCE


def test_template_versions_are_the_stored_templates_not_the_build_recipes() -> None:
    """Stored templates carry these versions: a rebuilt model file (a new catalog version, as
    SFace's 2 for its slopes moved into the convolutions) leaves them as they are."""
    assert (get_embedder("dlib_resnet_v1").version, get_embedder("sface").version) == ("1", "2021dec")
    assert get_embedder("dlib_sface").version.startswith("1+2021dec+")
