"""Every CRUD route of the four container kinds through the old SDK (api v1.0)."""
from __future__ import annotations

import pytest
from azure.cognitiveservices.vision.face.models import APIErrorException

from gallery_support import MULTI_DIR, NOFACE_DIR, drain_training, error_code, photos


def _open(path):
    return open(path, "rb")


def test_face_list_crud(old_client, gallery_id):
    fl = old_client.face_list
    fl.create(gallery_id, name="list", user_data="about", recognition_model="recognition_01")
    with pytest.raises(APIErrorException) as err:
        fl.create(gallery_id, name="again")
    assert error_code(err) == "FaceListExists"
    with _open(photos("obama")[0]) as image:
        first = fl.add_face_from_stream(gallery_id, image, user_data="face-1").persisted_face_id
    with _open(MULTI_DIR / "face_recognition_two_people.jpg") as image, pytest.raises(APIErrorException) as err:
        fl.add_face_from_stream(gallery_id, image)
    assert error_code(err) == "InvalidImage" and "more than 1 face" in err.value.error.error.message
    with _open(NOFACE_DIR / "skimage_brick.png") as image, pytest.raises(APIErrorException) as err:
        fl.add_face_from_stream(gallery_id, image)
    assert err.value.error.error.message == "No face detected in the image."
    got = fl.get(gallery_id, return_recognition_model=True)
    assert (got.name, got.user_data, got.recognition_model) == ("list", "about", "recognition_01")
    assert [(f.persisted_face_id, f.user_data) for f in got.persisted_faces] == [(first, "face-1")]
    fl.update(gallery_id, name="renamed")
    assert fl.get(gallery_id).name == "renamed"
    assert gallery_id in [item.face_list_id for item in fl.list()]
    fl.delete_face(gallery_id, first)
    assert fl.get(gallery_id).persisted_faces == []
    fl.delete(gallery_id)
    with pytest.raises(APIErrorException) as err:
        fl.get(gallery_id)
    assert error_code(err) == "FaceListNotFound"


def test_multi_face_image_with_target_face(old_client, gallery_id):
    from shared.engine.engine import get_engine
    from shared.engine.types import DetectOptions

    path = MULTI_DIR / "face_recognition_two_people.jpg"
    rect = get_engine().detect(path.read_bytes(), DetectOptions())[1].rectangle
    old_client.face_list.create(gallery_id, name="targets")
    with _open(path) as image:
        added = old_client.face_list.add_face_from_stream(
            gallery_id, image, target_face=[rect.left, rect.top, rect.width, rect.height])
    assert old_client.face_list.get(gallery_id).persisted_faces[0].persisted_face_id == added.persisted_face_id


@pytest.mark.parametrize("large", [False, True])
def test_person_group_crud(old_client, gallery_id, large, isolated):
    groups = old_client.large_person_group if large else old_client.person_group
    people = old_client.large_person_group_person if large else old_client.person_group_person
    groups.create(gallery_id, name="group", user_data="g", recognition_model="recognition_04")
    got = groups.get(gallery_id, return_recognition_model=True)
    assert (got.name, got.user_data, got.recognition_model) == ("group", "g", "recognition_04")
    groups.update(gallery_id, user_data="g2")
    assert groups.get(gallery_id).user_data == "g2"

    person = people.create(gallery_id, name="alice", user_data="a").person_id
    with _open(photos("obama")[0]) as image:
        face = people.add_face_from_stream(gallery_id, person, image, user_data="f").persisted_face_id
    assert people.get(gallery_id, person).persisted_face_ids == [face]
    assert people.get_face(gallery_id, person, face).user_data == "f"
    people.update_face(gallery_id, person, face, user_data="f2")
    assert people.get_face(gallery_id, person, face).user_data == "f2"
    people.update(gallery_id, person, name="alicia")
    assert people.get(gallery_id, person).name == "alicia"

    others = sorted([person] + [people.create(gallery_id, name=f"p{i}").person_id for i in range(3)])
    assert [p.person_id for p in people.list(gallery_id)] == others
    assert [p.person_id for p in people.list(gallery_id, top=2)] == others[:2]
    assert [p.person_id for p in people.list(gallery_id, start=others[1])] == others[2:]

    groups.train(gallery_id)
    assert groups.get_training_status(gallery_id).status.lower() in ("notstarted", "running")
    with pytest.raises(APIErrorException) as err:
        groups.train(gallery_id)
    assert err.value.response.status_code == 409
    assert drain_training() == 1
    status = groups.get_training_status(gallery_id)
    assert status.status == "succeeded" and status.last_successful_training is not None

    people.delete_face(gallery_id, person, face)
    assert people.get(gallery_id, person).persisted_face_ids == []
    with pytest.raises(APIErrorException) as err:
        people.get_face(gallery_id, person, face)
    assert error_code(err) == "PersistedFaceNotFound"
    people.delete(gallery_id, person)
    with pytest.raises(APIErrorException) as err:
        people.get(gallery_id, person)
    assert error_code(err) == "PersonNotFound"
    groups.delete(gallery_id)
    with pytest.raises(APIErrorException) as err:
        groups.get(gallery_id)
    assert error_code(err) == ("LargePersonGroupNotFound" if large else "PersonGroupNotFound")


def test_container_listing_pages_in_id_order(old_client, isolated):
    ids = [f"page-{i}" for i in (3, 1, 2)]
    for container_id in ids:
        old_client.person_group.create(container_id, name=container_id)
    assert [g.person_group_id for g in old_client.person_group.list()] == sorted(ids)
    assert [g.person_group_id for g in old_client.person_group.list(start="page-1", top=1)] == ["page-2"]
    assert old_client.person_group.list(return_recognition_model=True)[0].recognition_model == "recognition_01"


def test_large_face_list_crud(old_client, gallery_id, isolated):
    lfl = old_client.large_face_list
    lfl.create(gallery_id, name="large", recognition_model="recognition_01")
    face_ids = []
    for path in photos("obama")[:3]:
        with _open(path) as image:
            face_ids.append(lfl.add_face_from_stream(gallery_id, image, user_data=path.name).persisted_face_id)
    assert [f.persisted_face_id for f in lfl.list_faces(gallery_id)] == sorted(face_ids)
    assert len(lfl.list_faces(gallery_id, top=2)) == 2
    lfl.update_face(gallery_id, face_ids[0], user_data="changed")
    assert lfl.get_face(gallery_id, face_ids[0]).user_data == "changed"
    lfl.delete_face(gallery_id, face_ids[1])
    with pytest.raises(APIErrorException) as err:
        lfl.get_face(gallery_id, face_ids[1])
    assert error_code(err) == "PersistedFaceNotFound"
    assert [g.large_face_list_id for g in lfl.list()] == [gallery_id]
    lfl.train(gallery_id)
    drain_training()
    assert lfl.get_training_status(gallery_id).status == "succeeded"
    lfl.delete(gallery_id)
    assert lfl.list() == []


def test_add_faces_from_url(old_client, gallery_id, image_server, private_urls_allowed):
    photos_url = image_server.url + "/persons"
    old_client.person_group.create(gallery_id, name="urls")
    person = old_client.person_group_person.create(gallery_id, name="obama").person_id
    added = old_client.person_group_person.add_face_from_url(gallery_id, person, f"{photos_url}/obama/1.jpg")
    assert old_client.person_group_person.get(gallery_id, person).persisted_face_ids == [added.persisted_face_id]
    old_client.face_list.create(gallery_id, name="urls")
    old_client.face_list.add_face_from_url(gallery_id, f"{photos_url}/obama/2.jpg", user_data="u")
    assert old_client.face_list.get(gallery_id).persisted_faces[0].user_data == "u"
    with pytest.raises(APIErrorException) as err:
        old_client.face_list.add_face_from_url(gallery_id, f"{photos_url}/obama/missing.jpg")
    assert error_code(err) == "InvalidURL"
