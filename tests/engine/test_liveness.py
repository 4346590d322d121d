"""MiniFASNet fusion on Silent-Face's own samples, with YuNet boxes after EXIF rotation."""
from __future__ import annotations

import numpy as np
import pytest

from shared.engine.detector import YuNetDetector
from shared.engine.imaging import decode_image
from shared.engine.liveness import LivenessChecker, context_box, fuse
from shared.engine.types import Rectangle
from tests.engine.conftest import read_bytes


def score(path):
    image = decode_image(read_bytes(path))
    (face,) = YuNetDetector().detect(image)
    return LivenessChecker().score(image, face.rectangle)


def test_live_sample_is_real(liveness_dir):
    result = score(liveness_dir / "live" / "image_T1.jpg")
    assert result.is_live and result.real_probability > 0.9 and result.score == result.real_probability


@pytest.mark.parametrize("name", ["image_F1.jpg", "image_F2.jpg"])
def test_spoof_samples_are_fake(liveness_dir, name):
    result = score(liveness_dir / "spoof" / name)
    assert not result.is_live and result.real_probability < 0.5 and 0.5 < result.score <= 1.0


def test_context_box_is_shifted_back_inside_the_image():
    x1, y1, x2, y2 = context_box(Rectangle(0, 0, 40, 40), 2.7, 200, 100)
    assert (x1, y1, x2, y2) == (0, 0, 99, 99)  # scale capped to fit the height, then shifted right/down


def test_fusion_averages_the_two_softmax_vectors():
    result = fuse([np.array([0.6, 0.3, 0.1]), np.array([0.1, 0.8, 0.1])])
    assert result.is_live and result.score == pytest.approx(0.55) and result.real_probability == pytest.approx(0.55)
