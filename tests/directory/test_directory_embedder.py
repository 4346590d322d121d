"""The directory keeps the embedder its first face of a recognition model recorded when the
default moves (a directory that started under SFace, recognition_04's default before the fused
template, keeps SFace); a faceId of the new default is refused with a 400 naming both."""
from __future__ import annotations

import pytest

from gallery_support import photos
from shared.errors import BadArgument

MODEL = "recognition_04"


def test_a_directory_started_under_sface_keeps_it_after_the_fused_default(isolated, monkeypatch):
    from shared.directory import faces, persons, search
    from shared.engine.engine import embedder_for, get_engine, recognition_embedders
    from shared.engine.types import DetectOptions
    from shared.galleries.faces import FaceInput

    engine = get_engine()  # made before the setting changes, so other tests keep the defaults
    monkeypatch.setenv("FACE_RECOGNITION_EMBEDDERS", f"{MODEL}=sface")
    monkeypatch.setattr(engine, "embedder_names", recognition_embedders())
    person_id, _ = persons.create({"name": "obama"})
    faces.add(person_id, MODEL, FaceInput(photos("obama")[0].read_bytes(), None, "detection_01", None))

    monkeypatch.delenv("FACE_RECOGNITION_EMBEDDERS")
    # A process started after the upgrade: nothing recorded in memory, the engine's names anew.
    monkeypatch.setattr(faces, "_recorded", {})
    monkeypatch.setattr(engine, "embedder_names", recognition_embedders())
    assert embedder_for(MODEL) == "dlib_sface" and faces.embedder_of(MODEL) == "sface"
    (face,) = engine.detect(photos("obama")[1].read_bytes(), DetectOptions(recognition_models=(MODEL,)))
    query = face.templates[MODEL]
    assert query.embedder == "dlib_sface"
    with pytest.raises(BadArgument, match="embedded by 'dlib_sface'.*faces hold 'sface'"):
        search.identify([("q", query)], search.Target(), 1, 0.5)
