"""POST /detect through both official SDKs and raw HTTP: shapes, defaults, ranges, errors."""
from __future__ import annotations

import uuid

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.cognitiveservices.vision.face.models import APIErrorException

from svc_support import PHOTOS, error_code, person_photos

LANDMARK_NAMES = ["pupilLeft", "pupilRight", "noseTip", "mouthLeft", "mouthRight", "eyebrowLeftOuter",
                  "eyebrowLeftInner", "eyeLeftOuter", "eyeLeftTop", "eyeLeftBottom", "eyeLeftInner",
                  "eyebrowRightInner", "eyebrowRightOuter", "eyeRightInner", "eyeRightTop", "eyeRightBottom",
                  "eyeRightOuter", "noseRootLeft", "noseRootRight", "noseLeftAlarTop", "noseRightAlarTop",
                  "noseLeftAlarOutTip", "noseRightAlarOutTip", "upperLipTop", "upperLipBottom",
                  "underLipTop", "underLipBottom"]


def _post_detect(service, body: bytes, query: str = "", version: str = "v1.2",
                 content_type: str = "application/octet-stream") -> requests.Response:
    return requests.post(f"{service.url}/face/{version}/detect{query}", data=body,
                         headers={"Ocp-Apim-Subscription-Key": service.recognizer_key,
                                  "Content-Type": content_type}, timeout=60)


def test_new_sdk_detects_with_every_option(face_client, privacy_probe):
    image = privacy_probe.saw_image(person_photos("obama")[0].read_bytes(), "detection_03", "recognition_04")
    faces = face_client.detect(image, detection_model="detection_03", recognition_model="recognition_04",
                               return_face_id=True, return_face_landmarks=True, return_recognition_model=True,
                               return_face_attributes=["headPose", "blur", "qualityForRecognition"],
                               face_id_time_to_live=120)
    assert len(faces) == 1
    face = faces[0]
    assert uuid.UUID(face.face_id).version == 4
    assert face.recognition_model == "recognition_04"
    assert face.face_rectangle.width > 100 and face.face_rectangle.height > 100
    assert list(face.face_landmarks.as_dict()) == LANDMARK_NAMES
    assert face.face_attributes.blur.blur_level in ("low", "medium", "high")
    assert face.face_attributes.quality_for_recognition in ("low", "medium", "high")
    assert -90 <= face.face_attributes.head_pose.yaw <= 90


def test_ga_version_and_defaults(face_client_ga, privacy_probe):
    image = privacy_probe.saw_image(person_photos("kit_harington")[0].read_bytes())
    faces = face_client_ga.detect(image, detection_model="detection_01", recognition_model="recognition_01",
                                  return_face_id=True)
    assert len(faces) == 1
    raw = faces[0].as_dict()
    assert set(raw) == {"faceId", "faceRectangle"}  # recognitionModel only when asked


def test_old_sdk_detects_from_chunked_stream_with_v1_0_casing(face_client_v1, privacy_probe):
    path = person_photos("alex_lacamoire")[0]
    privacy_probe.saw_image(path.read_bytes())
    with open(path, "rb") as stream:  # msrest sends file streams with Transfer-Encoding: chunked
        faces = face_client_v1.face.detect_with_stream(
            stream, return_face_attributes=["blur", "exposure", "noise"], return_recognition_model=True)
    assert len(faces) == 1
    assert faces[0].recognition_model == "recognition_01"
    attributes = faces[0].face_attributes
    assert attributes.blur.blur_level in ("Low", "Medium", "High")
    assert attributes.exposure.exposure_level in ("UnderExposure", "GoodExposure", "OverExposure")
    assert attributes.noise.noise_level in ("Low", "Medium", "High")


def test_multi_face_photo_sorted_largest_first(face_client):
    image = (PHOTOS / "multi" / "face_recognition_two_people.jpg").read_bytes()
    faces = face_client.detect(image, detection_model="detection_01", recognition_model="recognition_01",
                               return_face_id=False)
    areas = [f.face_rectangle.width * f.face_rectangle.height for f in faces]
    assert len(faces) >= 2
    assert areas == sorted(areas, reverse=True)
    assert all(f.face_id is None for f in faces)


def test_no_face_is_an_empty_list(service):
    response = _post_detect(service, (PHOTOS / "noface" / "skimage_brick.png").read_bytes())
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("query, code", [
    ("?faceIdTimeToLive=59", "BadArgument"),
    ("?faceIdTimeToLive=86401", "BadArgument"),
    ("?faceIdTimeToLive=abc", "BadArgument"),
    ("?detectionModel=detection_09", "BadArgument"),
    ("?recognitionModel=recognition_05", "BadArgument"),
    ("?returnFaceId=maybe", "BadArgument"),
    ("?returnFaceAttributes=gender", "BadArgument"),  # v1.0 only
    ("?detectionModel=detection_02&returnFaceLandmarks=true", "BadArgument"),
    ("?returnFaceAttributes=qualityForRecognition", "BadArgument"),  # needs recognition_03/04
])
def test_query_validation(service, query, code):
    response = _post_detect(service, person_photos("obama")[1].read_bytes(), query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.headers["x-ms-error-code"] == code


def test_query_names_and_values_ignore_case(service):
    response = _post_detect(service, person_photos("obama")[1].read_bytes(),
                            "?RETURNFACEID=False&detectionmodel=DETECTION_03")
    assert response.status_code == 200
    assert "faceId" not in response.json()[0]


@pytest.mark.parametrize("body, code", [
    (b"\xff\xd8\xff" + b"\x00" * 2000, "InvalidImage"),
    (b"not an image at all" * 100, "InvalidImage"),
    (b"tiny", "InvalidImageSize"),
    (b"", "InvalidImageSize"),
])
def test_bad_images(service, body, code):
    response = _post_detect(service, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_image_over_6_mb_is_too_big(service):
    response = _post_detect(service, b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024))
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "InvalidImageSize", "message": "Image size is too big."}}


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"sessionImageId": "abc"}', b'{"url": 5}', b"{}"])
def test_bad_json_bodies(service, body):
    response = _post_detect(service, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadArgument"


@pytest.mark.parametrize("content_type", ["text/plain", "image/jpeg", "multipart/form-data", ""])
def test_unsupported_content_type_is_415(service, content_type):
    response = _post_detect(service, person_photos("obama")[1].read_bytes(), content_type=content_type)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "BadArgument"


def test_detect_from_url_with_both_sdks(face_client, face_client_v1, image_server, private_urls_allowed,
                                        privacy_probe):
    path = person_photos("deepface_person01")[0]
    privacy_probe.saw_image(path.read_bytes())
    new = face_client.detect_from_url(url=image_server.url_of(path), detection_model="detection_01",
                                      recognition_model="recognition_01", return_face_id=True)
    old = face_client_v1.face.detect_with_url(image_server.url_of(path))
    assert len(new) == len(old) == 1
    assert new[0].face_rectangle.as_dict() == old[0].face_rectangle.as_dict()


def test_url_download_failures(face_client, image_server, private_urls_allowed):
    with pytest.raises(HttpResponseError) as missing:
        face_client.detect_from_url(url=f"{image_server.url}/no/such.jpg", detection_model="detection_01",
                                    recognition_model="recognition_01", return_face_id=False)
    assert missing.value.status_code == 400 and error_code(missing.value) == "InvalidURL"
    with pytest.raises(HttpResponseError) as scheme:
        face_client.detect_from_url(url="file:///etc/passwd", detection_model="detection_01",
                                    recognition_model="recognition_01", return_face_id=False)
    assert error_code(scheme.value) == "InvalidURL"


def test_old_sdk_error_surface(face_client_v1):
    with pytest.raises(APIErrorException) as err:
        face_client_v1.face.detect_with_url("ftp://127.0.0.1/x.jpg")
    assert err.value.response.status_code == 400
    assert error_code(err.value) == "InvalidURL"
