"""Every PersonDirectory route through the official JS REST client (v1.1-preview.1) under node:
long-running operations polled to the end with the client's poller, paging, errors
(js/directory_client.cjs does the calls and checks; this test runs it and checks coverage)."""
from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from gallery_support import photos
from svc_support import all_people

SCRIPT = Path(__file__).parent / "js" / "directory_client.cjs"
PREFIX = "face/{apiVersion}"


def _directory_routes(service) -> set[str]:
    """'METHOD /path' of every route that only the directory versions (or operations) serve."""
    found = set()
    for function in service.host.functions.values():
        versions = getattr(function.user_function, "face_api_versions", None)
        route = function.trigger.get("route", "") if function.kind == "httpTrigger" else ""
        if versions and (function.name.startswith("directory_") or route.endswith("operations/{operationId}")):
            found |= {f"{method} {route[len(PREFIX):]}" for method in function.methods}
    return found


def test_every_directory_route_through_the_js_client(service, image_server, private_urls_allowed, privacy_probe,
                                                      tmp_path):
    if shutil.which("node") is None:
        pytest.fail("node is not installed (it comes with the Azurite setup: make setup)")
    chosen = all_people()[:3]
    persons = {name: [str(path) for path in photos(name)[:3]] for name in chosen}
    for paths in persons.values():
        for path in paths:
            privacy_probe.saw_image(Path(path).read_bytes(), "detection_03", "recognition_04")
    url_photo = photos(chosen[1])[3]
    privacy_probe.saw_image(url_photo.read_bytes(), "detection_03", "recognition_04")
    config = {"endpoint": service.url, "adminKey": service.admin_key, "recognizerKey": service.recognizer_key,
              "persons": persons, "photoUrl": image_server.url_of(url_photo),
              "groupPrefix": "js-" + uuid.uuid4().hex[:8]}
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    result = subprocess.run(["node", str(SCRIPT), str(config_path)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    called = set(json.loads(result.stdout.strip().splitlines()[-1])["routes"])
    expected = _directory_routes(service)
    assert len(expected) == 18, expected  # 17 directory routes and GET /operations/{operationId}
    assert expected <= called, expected - called
