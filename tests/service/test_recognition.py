"""Verify, find-similar and group over faceIds, through both SDKs and both GA/preview versions."""
from __future__ import annotations

import itertools
import uuid

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.cognitiveservices.vision.face.models import APIErrorException

from svc_support import error_code, person_photos

PEOPLE = ("obama", "kit_harington", "alex_lacamoire", "deepface_person01", "deepface_person02")


@pytest.fixture(scope="module")
def face_ids(face_client, privacy_probe) -> dict[str, list[str]]:
    """Three faceIds per person (recognition_04, via the new SDK)."""
    ids: dict[str, list[str]] = {}
    for person in PEOPLE:
        for path in person_photos(person)[:3]:
            image = privacy_probe.saw_image(path.read_bytes(), "detection_03", "recognition_04")
            faces = face_client.detect(image, detection_model="detection_03", recognition_model="recognition_04",
                                       return_face_id=True)
            ids.setdefault(person, []).append(faces[0].face_id)
    return ids


def test_same_person_verifies_identical(face_client, face_ids):
    for person, ids in face_ids.items():
        for a, b in itertools.combinations(ids, 2):
            result = face_client.verify_face_to_face(face_id1=a, face_id2=b)
            assert result.is_identical, (person, result.confidence)
            assert 0.5 <= result.confidence <= 1


def test_different_people_do_not_verify(face_client_ga, face_ids):
    for (p1, ids1), (p2, ids2) in itertools.combinations(face_ids.items(), 2):
        result = face_client_ga.verify_face_to_face(face_id1=ids1[0], face_id2=ids2[0])
        assert not result.is_identical, (p1, p2, result.confidence)
        assert 0 <= result.confidence < 0.5


def test_find_similar_ranks_the_same_person_first(face_client, face_ids):
    candidates = [face_id for ids in face_ids.values() for face_id in ids[1:]]
    for person, ids in face_ids.items():
        ranked = face_client.find_similar(face_id=ids[0], face_ids=candidates, mode="matchFace",
                                          max_num_of_candidates_returned=len(candidates))
        assert len(ranked) == len(candidates)
        assert {r.face_id for r in ranked[:2]} == set(ids[1:])
        confidences = [r.confidence for r in ranked]
        assert confidences == sorted(confidences, reverse=True)


def test_find_similar_match_person_keeps_only_the_same_person(face_client, face_ids):
    candidates = [face_id for ids in face_ids.values() for face_id in ids[1:]]
    ids = face_ids["obama"]
    ranked = face_client.find_similar(face_id=ids[0], face_ids=candidates)  # default matchPerson
    assert {r.face_id for r in ranked} == set(ids[1:])
    top1 = face_client.find_similar(face_id=ids[0], face_ids=candidates, max_num_of_candidates_returned=1)
    assert [r.face_id for r in top1] == [ranked[0].face_id]


def test_group_puts_each_persons_photos_together(face_client, face_ids):
    everything = [face_id for ids in face_ids.values() for face_id in ids]
    result = face_client.group(face_ids=everything)
    assert sorted(map(sorted, result.groups)) == sorted(sorted(ids) for ids in face_ids.values())
    assert result.messy_group == []


def test_group_singletons_go_to_messy_group(face_client, face_ids):
    obama, kit, alex = face_ids["obama"], face_ids["kit_harington"][0], face_ids["alex_lacamoire"][0]
    result = face_client.group(face_ids=[kit, *obama[:2], alex])
    assert result.groups == [obama[:2]]
    assert result.messy_group == [kit, alex]


def test_old_sdk_verify_find_similar_group(face_client_v1, privacy_probe):
    ids = []
    for path in person_photos("deepface_person03")[:2] + person_photos("deepface_person04")[:1]:
        privacy_probe.saw_image(path.read_bytes())
        with open(path, "rb") as stream:
            ids.append(face_client_v1.face.detect_with_stream(stream)[0].face_id)
    assert face_client_v1.face.verify_face_to_face(ids[0], ids[1]).is_identical
    assert not face_client_v1.face.verify_face_to_face(ids[0], ids[2]).is_identical
    similar = face_client_v1.face.find_similar(ids[0], face_ids=ids[1:])
    assert [s.face_id for s in similar] == [ids[1]]
    grouping = face_client_v1.face.group(ids)
    assert grouping.groups == [ids[:2]] and grouping.messy_group == [ids[2]]


def test_mixed_recognition_models_are_refused(face_client, face_ids, privacy_probe):
    image = privacy_probe.saw_image(person_photos("obama")[0].read_bytes())
    other_model = face_client.detect(image, detection_model="detection_01", recognition_model="recognition_01",
                                     return_face_id=True)[0].face_id
    calls = [
        lambda: face_client.verify_face_to_face(face_id1=face_ids["obama"][0], face_id2=other_model),
        lambda: face_client.find_similar(face_id=face_ids["obama"][0], face_ids=[other_model]),
        lambda: face_client.group(face_ids=[face_ids["obama"][0], other_model]),
    ]
    for call in calls:
        with pytest.raises(HttpResponseError) as err:
            call()
        assert err.value.status_code == 400 and error_code(err.value) == "BadArgument"


def test_unknown_face_ids_are_404_face_not_found(face_client, face_client_v1, face_ids):
    unknown = str(uuid.uuid4())
    with pytest.raises(HttpResponseError) as err:
        face_client.verify_face_to_face(face_id1=face_ids["obama"][0], face_id2=unknown)
    assert err.value.status_code == 404 and error_code(err.value) == "FaceNotFound"
    with pytest.raises(APIErrorException) as old:
        face_client_v1.face.group([face_ids["obama"][0], unknown])
    assert old.value.response.status_code == 404 and error_code(old.value) == "FaceNotFound"


@pytest.mark.parametrize("route, body", [
    ("verify", {"faceId1": "not-a-uuid", "faceId2": str(uuid.uuid4())}),
    ("verify", {"faceId1": str(uuid.uuid4())}),
    ("verify", {}),
    ("findsimilars", {"faceIds": [str(uuid.uuid4())]}),
    ("findsimilars", {"faceId": str(uuid.uuid4())}),
    ("findsimilars", {"faceId": str(uuid.uuid4()), "faceIds": []}),
    ("findsimilars", {"faceId": str(uuid.uuid4()), "faceIds": [str(uuid.uuid4())] * 1001}),
    ("findsimilars", {"faceId": str(uuid.uuid4()), "faceIds": [str(uuid.uuid4())], "maxNumOfCandidatesReturned": 0}),
    ("findsimilars", {"faceId": str(uuid.uuid4()), "faceIds": [str(uuid.uuid4())], "maxNumOfCandidatesReturned": 1001}),
    ("findsimilars", {"faceId": str(uuid.uuid4()), "faceIds": [str(uuid.uuid4())], "mode": "matchAll"}),
    ("group", {"faceIds": [str(uuid.uuid4())]}),
    ("group", {"faceIds": [str(uuid.uuid4())] * 1001}),
    ("group", {"faceIds": "abc"}),
])
def test_body_validation_is_400_before_any_lookup(service, route, body):
    response = requests.post(f"{service.url}/face/v1.2/{route}", json=body,
                             headers={"Ocp-Apim-Subscription-Key": service.recognizer_key}, timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "BadArgument"
