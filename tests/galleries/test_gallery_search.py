"""Find-similar against a FaceList and a trained LargeFaceList, verify face-to-person, and
privacy of deletes before retraining."""
from __future__ import annotations

import pytest
from azure.cognitiveservices.vision.face.models import APIErrorException
from azure.core.exceptions import HttpResponseError

from gallery_support import drain_training, error_code, photos

ENROLLED, OTHER = "deepface_person01", "deepface_person02"


def test_find_similar_in_face_list(old_client, gallery_id, detect_id):
    old_client.face_list.create(gallery_id, name="fl")
    own = []
    for path in photos(ENROLLED)[:3]:
        with open(path, "rb") as image:
            own.append(old_client.face_list.add_face_from_stream(gallery_id, image).persisted_face_id)
    with open(photos(OTHER)[0], "rb") as image:
        stranger = old_client.face_list.add_face_from_stream(gallery_id, image).persisted_face_id
    query = detect_id(photos(ENROLLED)[-1].read_bytes())
    person_mode = old_client.face.find_similar(query, face_list_id=gallery_id)
    assert {s.persisted_face_id for s in person_mode} == set(own)
    face_mode = old_client.face.find_similar(query, face_list_id=gallery_id, mode="matchFace",
                                             max_num_of_candidates_returned=4)
    assert face_mode[-1].persisted_face_id == stranger and face_mode[0].confidence >= face_mode[-1].confidence
    # The warm per-process face cache follows adds and deletes at once.
    old_client.face_list.delete_face(gallery_id, own[0])
    assert {s.persisted_face_id for s in old_client.face.find_similar(query, face_list_id=gallery_id)} == set(own[1:])
    with open(photos(ENROLLED)[3], "rb") as image:
        new = old_client.face_list.add_face_from_stream(gallery_id, image).persisted_face_id
    assert new in {s.persisted_face_id for s in old_client.face.find_similar(query, face_list_id=gallery_id)}


def test_find_similar_in_large_face_list(admin_client, face_client, gallery_id, detect_id):
    lfl = admin_client.large_face_list
    lfl.create(gallery_id, name="lfl", recognition_model="recognition_04")
    own = [lfl.add_face(gallery_id, p.read_bytes()).persisted_face_id for p in photos(ENROLLED)[:3]]
    lfl.add_face(gallery_id, photos(OTHER)[0].read_bytes())
    query = detect_id(photos(ENROLLED)[-1].read_bytes(), "recognition_04")
    with pytest.raises(HttpResponseError) as err:
        face_client.find_similar_from_large_face_list(face_id=query, large_face_list_id=gallery_id)
    assert error_code(err) == "LargeFaceListNotTrained"
    lfl.begin_train(gallery_id, polling_interval=0.2).result()
    found = face_client.find_similar_from_large_face_list(face_id=query, large_face_list_id=gallery_id)
    assert {s.persisted_face_id for s in found} == set(own)
    lfl.delete_face(gallery_id, own[0])  # gone at once, before any retraining
    found = face_client.find_similar_from_large_face_list(face_id=query, large_face_list_id=gallery_id)
    assert {s.persisted_face_id for s in found} == set(own[1:])
    wrong_model = detect_id(photos(ENROLLED)[-1].read_bytes(), "recognition_01")
    with pytest.raises(HttpResponseError) as err:
        face_client.find_similar_from_large_face_list(face_id=wrong_model, large_face_list_id=gallery_id)
    assert err.value.status_code == 400 and error_code(err) == "BadArgument"


def test_verify_to_person_and_deleted_person_never_returned(old_client, gallery_id, detect_id):
    old_client.person_group.create(gallery_id, name="pg")
    people = {}
    for name in (ENROLLED, OTHER):
        person_id = old_client.person_group_person.create(gallery_id, name=name).person_id
        for path in photos(name)[:-1]:
            with open(path, "rb") as image:
                old_client.person_group_person.add_face_from_stream(gallery_id, person_id, image)
        people[name] = person_id
    query = detect_id(photos(ENROLLED)[-1].read_bytes())
    same = old_client.face.verify_face_to_person(query, people[ENROLLED], person_group_id=gallery_id)
    other = old_client.face.verify_face_to_person(query, people[OTHER], person_group_id=gallery_id)
    assert same.is_identical and same.confidence >= 0.5
    assert not other.is_identical and other.confidence < same.confidence

    with pytest.raises(APIErrorException) as err:
        old_client.face.identify([query], person_group_id=gallery_id)
    assert error_code(err) == "PersonGroupNotTrained"
    old_client.person_group.train(gallery_id)
    _wait_trained(old_client, gallery_id)
    result = old_client.face.identify([query], person_group_id=gallery_id, max_num_of_candidates_returned=2,
                                      confidence_threshold=0.0)
    assert result[0].candidates[0].person_id == people[ENROLLED]

    old_client.person_group_person.delete(gallery_id, people[ENROLLED])
    result = old_client.face.identify([query], person_group_id=gallery_id, max_num_of_candidates_returned=2,
                                      confidence_threshold=0.0)
    assert people[ENROLLED] not in [c.person_id for c in result[0].candidates]
    old_client.person_group.train(gallery_id)
    _wait_trained(old_client, gallery_id)
    result = old_client.face.identify([query], person_group_id=gallery_id, max_num_of_candidates_returned=2,
                                      confidence_threshold=0.0)
    assert [c.person_id for c in result[0].candidates] == [people[OTHER]]


def _wait_trained(old_client, gallery_id, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while old_client.person_group.get_training_status(gallery_id).status != "succeeded":
        assert time.monotonic() < deadline, "training did not finish"
        time.sleep(0.1)


def test_identify_during_first_training_is_409(old_client, gallery_id, isolated, detect_id):
    old_client.large_person_group.create(gallery_id, name="lpg")
    person_id = old_client.large_person_group_person.create(gallery_id, name=ENROLLED).person_id
    with open(photos(ENROLLED)[0], "rb") as image:
        old_client.large_person_group_person.add_face_from_stream(gallery_id, person_id, image)
    query = detect_id(photos(ENROLLED)[-1].read_bytes())
    old_client.large_person_group.train(gallery_id)
    with pytest.raises(APIErrorException) as err:
        old_client.face.identify([query], large_person_group_id=gallery_id)
    assert err.value.response.status_code == 409 and error_code(err) == "LargePersonGroupTrainingNotFinished"
    drain_training()
    result = old_client.face.identify([query], large_person_group_id=gallery_id)
    assert [c.person_id for c in result[0].candidates] == [person_id]
