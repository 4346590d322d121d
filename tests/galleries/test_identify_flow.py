"""Enrol the dev photos into a LargePersonGroup (new SDK) and a PersonGroup (old SDK), train,
and identify each person's held-out photo."""
from __future__ import annotations

from gallery_support import PERSONS_DIR, photos

PERSONS = sorted(p.name for p in PERSONS_DIR.iterdir() if p.is_dir())


def _enrol_lpg(admin_client, group_id: str) -> dict[str, str]:
    lpg = admin_client.large_person_group
    lpg.create(group_id, name="people", recognition_model="recognition_04")
    ids = {}
    for person in PERSONS:
        person_id = lpg.create_person(group_id, name=person).person_id
        for path in photos(person)[:-1]:
            lpg.add_face(group_id, person_id, path.read_bytes(), detection_model="detection_03")
        ids[person_id] = person
    return ids


def test_large_person_group_identify_held_out(admin_client, face_client, gallery_id, detect_id):
    ids = _enrol_lpg(admin_client, gallery_id)
    poller = admin_client.large_person_group.begin_train(gallery_id, polling_interval=0.2)
    poller.result()
    assert admin_client.large_person_group.get_training_status(gallery_id).status == "succeeded"
    wrong = []
    for person in PERSONS:
        face_id = detect_id(photos(person)[-1].read_bytes(), "recognition_04")
        result = face_client.identify_from_large_person_group(face_ids=[face_id], large_person_group_id=gallery_id)
        candidates = result[0].candidates
        if not candidates or ids[candidates[0].person_id] != person:
            wrong.append(person)
    assert not wrong, wrong
