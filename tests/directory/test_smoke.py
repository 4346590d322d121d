from directory_support import error_code, people, photos


def test_enrol_identify_verify_delete(api, isolated, privacy_probe):
    name = people()[0]
    created = api("POST", "persons", {"name": name})
    person_id = created.json()["personId"]
    assert api.finished(created)["status"] == "succeeded"
    pics = photos(name)
    for path in pics[:-1]:
        image = privacy_probe.saw_image(path.read_bytes(), "detection_03", "recognition_04")
        added = api("POST", f"persons/{person_id}/recognitionModels/recognition_04/persistedfaces?detectionModel=detection_03", data=image)
        assert api.finished(added)["status"] == "succeeded", added.text
    query = api.detect(pics[-1].read_bytes())
    found = api("POST", "identify", {"faceIds": [query], "personIds": ["*"]}).json()
    assert found[0]["candidates"][0]["personId"] == person_id
    verified = api("POST", "verify", {"faceId": query, "personId": person_id}).json()
    assert verified["isIdentical"]
    deleted = api("DELETE", f"persons/{person_id}")
    assert api.finished(deleted)["status"] == "succeeded"
    found = api("POST", "identify", {"faceIds": [query], "personIds": ["*"]}).json()
    assert found[0]["candidates"] == []
    assert error_code(api("GET", f"persons/{person_id}")) == "PersonNotFound"
