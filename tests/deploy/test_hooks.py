"""The azd hooks (infra/hooks/) against a fake `az`/`azd` on PATH: keys are created on first
provisioning only, never replaced, never printed nor put on a command line; the app
registration is created once with the two app roles."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

HOOKS = REPO_ROOT / "infra" / "hooks"
FAKE_AZ = Path(__file__).with_name("fake_az.py")
AZD_ENV = {"AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-00000000aaaa", "AZURE_RESOURCE_GROUP": "rg-face",
           "AZURE_KEY_VAULT_NAME": "kv-face-test", "AZURE_FUNCTION_APP_NAME": "func-face-test",
           "AZURE_ENV_NAME": "test"}


class FakeCloud:
    def __init__(self, folder: Path):
        self.state_file = folder / "state.json"
        bin_dir = folder / "bin"
        bin_dir.mkdir()
        for program in ("az", "azd"):
            shim = bin_dir / program
            shim.write_text(f"#!/bin/sh\nexec {sys.executable} {FAKE_AZ} {program} \"$@\"\n")
            shim.chmod(0o755)
        self.path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"

    @property
    def state(self) -> dict:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    def run(self, hook: str, **env: str) -> subprocess.CompletedProcess:
        environment = {**os.environ, **AZD_ENV, "PATH": self.path, "FAKE_AZ_STATE": str(self.state_file), **env}
        return subprocess.run([sys.executable, str(HOOKS / hook)], env=environment, capture_output=True,
                              text=True, timeout=60)


@pytest.fixture
def cloud(tmp_path) -> FakeCloud:
    return FakeCloud(tmp_path)


def _az_calls(cloud: FakeCloud) -> list[list[str]]:
    return cloud.state["calls"]


def test_first_provisioning_creates_every_key_once_and_never_shows_it(cloud):
    first = cloud.run("ensure_secrets.py")
    assert first.returncode == 0, first.stderr
    secrets = cloud.state["secrets"]
    assert set(secrets) == {"face-template-key", "face-template-old-keys", "face-liveness-token-key",
                            "face-liveness-token-old-keys", "face-admin-keys", "face-recognizer-keys"}
    for name in ("face-template-key", "face-liveness-token-key"):
        assert len(base64.b64decode(secrets[name], validate=True)) == 32
    assert secrets["face-template-key"] != secrets["face-liveness-token-key"]
    assert secrets["face-template-old-keys"] == secrets["face-liveness-token-old-keys"] == ","
    assert len(secrets["face-admin-keys"]) == 64 and secrets["face-admin-keys"] != secrets["face-recognizer-keys"]
    assert cloud.state["restarts"] == 1

    values = list(secrets.values())
    shown = first.stdout + first.stderr + json.dumps(_az_calls(cloud))
    assert not [v for v in values if v != "," and v in shown], "a key was printed or put on a command line"
    bodies = [arg[1:] for call in _az_calls(cloud) for arg in call if arg.startswith("@")]
    assert bodies and not any(Path(body).exists() for body in bodies), "a temporary file with a key was left behind"


def test_a_second_provisioning_keeps_every_key(cloud):
    assert cloud.run("ensure_secrets.py").returncode == 0
    before = cloud.state["secrets"]
    calls_before = len(_az_calls(cloud))
    again = cloud.run("ensure_secrets.py")
    assert again.returncode == 0, again.stderr
    assert cloud.state["secrets"] == before
    new_calls = _az_calls(cloud)[calls_before:]
    assert all(call[call.index("--method") + 1] == "get" for call in new_calls)
    assert cloud.state["restarts"] == 1
    assert again.stdout.count("exists, kept") == 6


def test_a_failed_lookup_is_not_taken_for_a_missing_key(cloud):
    failed = cloud.run("ensure_secrets.py", FAKE_AZ_FAIL="(AuthorizationFailed) The client does not have authorization")
    assert failed.returncode == 1
    assert "AuthorizationFailed" in failed.stderr
    assert not cloud.state["secrets"]
    assert all(call[call.index("--method") + 1] == "get" for call in _az_calls(cloud))


def test_the_app_registration_is_created_once_with_both_app_roles(cloud):
    first = cloud.run("ensure_app_registration.py", FACE_ENTRA_AUTH="true")
    assert first.returncode == 0, first.stderr
    (app_id, app), = cloud.state["apps"].items()
    assert app["displayName"] == "face-api-test" and app["signInAudience"] == "AzureADMyOrg"
    assert {role["value"] for role in app["appRoles"]} == {"Face.Admin", "Face.Recognizer"}
    assert app["identifierUris"] == [f"api://{app_id}"]
    assert cloud.state["service_principals"] == [app_id]
    assert cloud.state["azd_env"] == {"FACE_ENTRA_CLIENT_ID": app_id}

    role_ids = [role["id"] for role in app["appRoles"]]
    again = cloud.run("ensure_app_registration.py", FACE_ENTRA_AUTH="true")
    assert again.returncode == 0, again.stderr
    (same_id, same), = cloud.state["apps"].items()
    assert same_id == app_id and [role["id"] for role in same["appRoles"]] == role_ids
    assert cloud.state["service_principals"] == [app_id]


def test_without_entra_authentication_no_registration_is_touched(cloud):
    done = cloud.run("ensure_app_registration.py")
    assert done.returncode == 0
    assert not cloud.state
