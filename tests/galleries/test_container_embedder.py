"""A container keeps embedding with the embedder it was created with, whatever the current
default of its recognition model; searching it with templates of another embedder is a 400."""
from __future__ import annotations

import uuid

import pytest

from gallery_support import drain_training, photos
from shared.engine.engine import DEFAULT_EMBEDDERS, embedder_for, get_engine, recognition_embedders
from shared.engine.types import DetectOptions, Template
from shared.errors import BadArgument
from shared.galleries import containers, faces, persons, repository, search, training
from shared.galleries.kinds import FACE_LIST, LARGE_PERSON_GROUP

pytestmark = pytest.mark.usefixtures("service", "isolated")
MODEL = "recognition_04"


def _face(person: str, index: int) -> faces.FaceInput:
    return faces.FaceInput(photos(person)[index].read_bytes(), None, "detection_01", None)


def _query(person: str, index: int) -> Template:
    """What a faceId detected now with recognition_04 carries."""
    (face,) = get_engine().detect(photos(person)[index].read_bytes(), DetectOptions(recognition_models=(MODEL,)))
    return face.templates[MODEL]


@pytest.fixture
def default_changes(monkeypatch):
    """Change the embedder serving recognition_04 from now on, as a redeployment would."""
    engine = get_engine()  # made before the setting changes, so later tests keep the defaults

    def change_to(embedder: str | None) -> None:
        """None: back to the shipped default."""
        if embedder is None:
            monkeypatch.delenv("FACE_RECOGNITION_EMBEDDERS", raising=False)
        else:
            monkeypatch.setenv("FACE_RECOGNITION_EMBEDDERS", f"{MODEL}={embedder}")
        monkeypatch.setattr(engine, "embedder_names", recognition_embedders())

    return change_to


def test_a_container_keeps_its_embedder_when_the_default_changes(default_changes):
    before = recognition_embedders()[MODEL]
    after = "dlib_resnet_v1" if before != "dlib_resnet_v1" else "sface"
    old = containers.create(LARGE_PERSON_GROUP, "e-" + uuid.uuid4().hex[:10], {"name": "n", "recognitionModel": MODEL})
    assert old.embedder == before
    person_id = persons.create(LARGE_PERSON_GROUP, old.container_id, {"name": "obama"})

    default_changes(after)
    assert containers.create(FACE_LIST, "e-" + uuid.uuid4().hex[:10], {"name": "n", "recognitionModel": MODEL}
                             ).embedder == after
    face_id = faces.add_to_person(LARGE_PERSON_GROUP, old.container_id, person_id, _face("obama", 0))
    (template,) = repository.templates_of(old.incarnation, [face_id])
    assert (template.embedder, template.recognition_model) == (before, MODEL)

    query = _query("obama", 1)  # made by the new default
    assert query.embedder == after
    with pytest.raises(BadArgument, match=f"holds '{before}' templates"):
        search.verify_to_person(LARGE_PERSON_GROUP, old.container_id, person_id, query)
    training.request(LARGE_PERSON_GROUP, old.container_id)
    drain_training()
    with pytest.raises(BadArgument, match=f"holds '{before}' templates"):
        search.identify(LARGE_PERSON_GROUP, old.container_id, [("q", query)], 1, 0.5)

    default_changes(before)  # faceIds from the container's own embedder still find the person
    (result,) = search.identify(LARGE_PERSON_GROUP, old.container_id, [("q", _query("obama", 1))], 1, 0.5)
    assert [candidate["personId"] for candidate in result["candidates"]] == [person_id]


def test_a_container_row_from_before_embedders_were_recorded_is_dlibs():
    created = containers.create(FACE_LIST, "e-" + uuid.uuid4().hex[:10], {"name": "n", "recognitionModel": "recognition_03"})
    stored = repository.get_container(FACE_LIST, created.container_id)
    row = repository.container_to_row(stored)
    del row["Embedder"]
    repository.containers().replace(row, stored.version)
    assert repository.get_container(FACE_LIST, created.container_id).embedder == "dlib_resnet_v1"


def test_a_recognition_04_container_made_under_sface_keeps_sface_after_the_fused_default(default_changes):
    default_changes("sface")  # recognition_04's default before the fused template became it
    old = containers.create(LARGE_PERSON_GROUP, "e-" + uuid.uuid4().hex[:10], {"name": "n", "recognitionModel": MODEL})
    person_id = persons.create(LARGE_PERSON_GROUP, old.container_id, {"name": "obama"})
    default_changes(None)
    assert DEFAULT_EMBEDDERS[MODEL] == "dlib_sface" and embedder_for(MODEL) == "dlib_sface"
    assert repository.get_container(LARGE_PERSON_GROUP, old.container_id).embedder == "sface"
    face_id = faces.add_to_person(LARGE_PERSON_GROUP, old.container_id, person_id, _face("obama", 0))
    (template,) = repository.templates_of(old.incarnation, [face_id])
    assert (template.embedder, template.vector.shape) == ("sface", (128,))
    query = _query("obama", 1)
    assert (query.embedder, query.vector.shape) == ("dlib_sface", (256,))
    with pytest.raises(BadArgument, match="embedded by 'dlib_sface'.*holds 'sface' templates"):
        search.verify_to_person(LARGE_PERSON_GROUP, old.container_id, person_id, query)
