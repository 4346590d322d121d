"""Matching: compatibility rules, distances, the calibrated confidence and the decision."""
from __future__ import annotations

import numpy as np
import pytest

from shared.engine import matching
from shared.engine.detector import YuNetDetector
from shared.engine.calibration import (
    ARCFACE_DEFAULT_CALIBRATION,
    DLIB_CALIBRATION,
    FUSED_CALIBRATION,
    SFACE_CALIBRATION,
)
from shared.engine.embedders import BUILT_IN_EMBEDDERS, get_embedder
from shared.engine.imaging import decode_image
from shared.engine.types import Template
from shared.errors import BadArgument


def _template(vector, embedder="dlib_resnet_v1", version="1", model="recognition_04") -> Template:
    return Template(np.asarray(vector, np.float32), embedder, version, model)


@pytest.mark.parametrize("other", [
    {"embedder": "sface"}, {"version": "2"}, {"model": "recognition_03"},
])
def test_templates_of_different_models_are_refused(other: dict) -> None:
    with pytest.raises(BadArgument, match="comparing templates of different models is refused"):
        matching.check_compatible(_template([0, 0]), _template([0, 0], **other))


def test_compatible_templates_compare() -> None:
    matching.check_compatible(_template([0, 1]), _template([1, 0]))
    result = matching.compare(_template([0.0, 0.0]), _template([0.3, 0.4]))  # distance 0.5
    assert result["isIdentical"] is True and 0.5 < result["confidence"] < 1


def test_distances_are_euclidean_for_one_or_many_queries() -> None:
    gallery = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]])
    np.testing.assert_allclose(matching.distances(np.array([0.0, 0.0]), gallery), [0, 5, 1])
    many = matching.distances(gallery, gallery)
    assert many.shape == (3, 3) and many[1, 2] == pytest.approx(np.hypot(2, 4))


@pytest.mark.parametrize("calibration", [DLIB_CALIBRATION, SFACE_CALIBRATION, FUSED_CALIBRATION,
                                         ARCFACE_DEFAULT_CALIBRATION])
def test_confidence_is_half_at_the_threshold_and_monotonic(calibration) -> None:
    assert matching.logistic_confidence(calibration.threshold, calibration) == 0.5
    grid = np.linspace(0, 3, 301)
    values = matching.logistic_confidence(grid, calibration)
    assert np.all(np.diff(values) < 0)
    assert values.min() >= 0 and values.max() <= 1
    assert matching.logistic_confidence(1e6, calibration) == 0.0  # no overflow warning, no NaN


def test_confidence_uses_the_embedders_calibration() -> None:
    assert matching.confidence(DLIB_CALIBRATION.threshold, "dlib_resnet_v1") == 0.5
    assert matching.confidence(0.39, "dlib_resnet_v1") == pytest.approx(0.9, abs=0.01)  # median same pair
    assert matching.confidence(0.89, "dlib_resnet_v1") == pytest.approx(0.1, abs=0.01)  # median different


@pytest.mark.parametrize("name", BUILT_IN_EMBEDDERS)
def test_every_built_in_embedder_is_calibrated_and_read_by_name(name) -> None:
    calibration = get_embedder(name).calibration
    assert calibration.calibrated
    assert matching.confidence(calibration.threshold, name) == 0.5
    assert matching.confidence(calibration.threshold - calibration.scale_same * np.log(9), name) == pytest.approx(0.9)


def test_is_identical_at_half() -> None:
    assert matching.is_identical(0.5) and not matching.is_identical(0.4999)
    assert matching.SAME_PERSON_CONFIDENCE == 0.5


@pytest.mark.parametrize("name", BUILT_IN_EMBEDDERS)
def test_dev_pairs_verify_at_least_99_percent(person_photos, name) -> None:
    detector, embedder = YuNetDetector(), get_embedder(name)
    vectors, labels = [], []
    for photo in person_photos:
        image = decode_image(photo.read_bytes())
        vectors.append(embedder.embed([embedder.align(image, detector.detect(image)[0].points5)])[0])
        labels.append(photo.parent.name)
    rows, cols = np.triu_indices(len(vectors), k=1)
    distances = matching.distances(np.stack(vectors), np.stack(vectors))[rows, cols]
    decided = np.array([matching.is_identical(c) for c in matching.confidence(distances, name)])
    truth = np.array([labels[i] == labels[j] for i, j in zip(rows, cols)])
    assert (decided == truth).mean() >= 0.99
