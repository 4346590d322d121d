"""LargeFaceList / LargePersonGroup through the new SDK's FaceAdministrationClient (v1.2-preview.1
default, and v1.2 GA), including begin_train pollers."""
from __future__ import annotations

import pytest
from azure.ai.vision.face import FaceAdministrationClient, FaceClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ResourceNotFoundError

from gallery_support import photos


@pytest.fixture(scope="module", params=["v1.2-preview.1", "v1.2"])
def clients(request, service):
    credential = AzureKeyCredential(service.admin_key)
    return (FaceAdministrationClient(service.url, credential, api_version=request.param),
            FaceClient(service.url, credential, api_version=request.param))


def test_large_person_group_lifecycle(clients, gallery_id, detect_id):
    admin, face = clients
    lpg = admin.large_person_group
    lpg.create(gallery_id, name="team", user_data="u", recognition_model="recognition_04")
    assert lpg.get(gallery_id).recognition_model is None
    assert lpg.get(gallery_id, return_recognition_model=True).recognition_model == "recognition_04"
    lpg.update(gallery_id, name="team2")
    assert gallery_id in [g.large_person_group_id for g in lpg.get_large_person_groups(start=gallery_id[:-1])]

    person = lpg.create_person(gallery_id, name="obama").person_id
    others = [lpg.create_person(gallery_id, name=f"p{i}").person_id for i in range(2)]
    face_ids = [lpg.add_face(gallery_id, person, p.read_bytes(), user_data=p.name).persisted_face_id
                for p in photos("obama")[:2]]
    assert lpg.get_person(gallery_id, person).persisted_face_ids == face_ids
    lpg.update_person(gallery_id, person, user_data="president")
    lpg.update_face(gallery_id, person, face_ids[0], user_data="first")
    assert lpg.get_face(gallery_id, person, face_ids[0]).user_data == "first"
    ordered = sorted([person, *others])
    assert [p.person_id for p in lpg.get_persons(gallery_id, top=2)] == ordered[:2]
    assert [p.person_id for p in lpg.get_persons(gallery_id, start=ordered[0])] == ordered[1:]

    lpg.begin_train(gallery_id, polling_interval=0.2).result()
    status = lpg.get_training_status(gallery_id)
    assert status.status == "succeeded" and status.last_successful_training_date_time is not None
    query = detect_id(photos("obama")[-1].read_bytes(), "recognition_04")
    verified = face.verify_from_large_person_group(face_id=query, large_person_group_id=gallery_id, person_id=person)
    assert verified.is_identical
    result = face.identify_from_large_person_group(face_ids=[query], large_person_group_id=gallery_id)
    assert result[0].candidates[0].person_id == person

    lpg.delete_face(gallery_id, person, face_ids[1])
    lpg.delete_person(gallery_id, others[0])
    lpg.delete(gallery_id)
    with pytest.raises(ResourceNotFoundError):
        lpg.get(gallery_id)


def test_large_face_list_lifecycle(clients, gallery_id):
    admin, _ = clients
    lfl = admin.large_face_list
    lfl.create(gallery_id, name="faces", recognition_model="recognition_01")
    added = [lfl.add_face(gallery_id, p.read_bytes()).persisted_face_id for p in photos("kit_harington")[:2]]
    assert sorted(f.persisted_face_id for f in lfl.get_faces(gallery_id)) == sorted(added)
    lfl.update_face(gallery_id, added[0], user_data="x")
    assert lfl.get_face(gallery_id, added[0]).user_data == "x"
    lfl.update(gallery_id, user_data="about")
    assert lfl.get(gallery_id).user_data == "about"
    lfl.begin_train(gallery_id, polling_interval=0.2).result()
    assert lfl.get_training_status(gallery_id).status == "succeeded"
    lfl.delete_face(gallery_id, added[1])
    lfl.delete(gallery_id)
    assert gallery_id not in [f.large_face_list_id for f in lfl.get_large_face_lists()]
