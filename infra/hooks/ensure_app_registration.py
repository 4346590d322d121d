"""azd preprovision hook: the Entra ID app registration the Function App's authentication
(App Service authentication, "EasyAuth") validates tokens for, with the app roles the service
understands: Face.Admin (everything) and Face.Recognizer (detect, verify, identify, group,
find-similar, liveness sessions).

Runs only with FACE_ENTRA_AUTH=true in the azd environment. Idempotent: finds the
registration by display name (face-api-<environment>) or creates it, keeps its roles and
identifier URI (api://<client id>) current, ensures its service principal (so roles can be
assigned to callers) and stores the client id as FACE_ENTRA_CLIENT_ID, which
main.parameters.json hands to infra/main.bicep. Needs permission to create applications in
the tenant (Application Developer, or users allowed to register apps). No client secret is
created: the API only validates bearer tokens.

Why a hook and not Bicep: app registrations are Microsoft Graph objects, which ARM templates
cannot create without the Microsoft Graph Bicep extension (preview at the time of writing,
and needing Graph permissions for the deployment identity).
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from azcli import az, json_file  # noqa: E402 (the hook runs as a script)

APP_ROLES = (
    ("Face.Admin", "Face administrator", "Create, change and delete enrolled data, and everything a recognizer may do."),
    ("Face.Recognizer", "Face recognizer", "Detect, verify, identify, group, find similar and use liveness sessions."),
)


def app_roles() -> list[dict]:
    """Role definitions with stable ids, so re-runs update instead of replacing them."""
    return [{"allowedMemberTypes": ["Application", "User"], "description": description,
             "displayName": display, "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"face-api/{value}")),
             "isEnabled": True, "value": value} for value, display, description in APP_ROLES]


def ensure_registration(display_name: str) -> str:
    """The client id (appId) of the registration, created or brought up to date."""
    found = az("ad", "app", "list", "--display-name", display_name, "--query", "[].appId", "--output", "tsv")
    app_ids = found.split()
    with json_file(app_roles()) as roles:
        if app_ids:
            app_id = app_ids[0]
            print(f"app registration {display_name}: exists ({app_id})")
        else:
            app_id = az("ad", "app", "create", "--display-name", display_name, "--sign-in-audience",
                        "AzureADMyOrg", "--app-roles", roles, "--query", "appId", "--output", "tsv")
            print(f"app registration {display_name}: created ({app_id})")
        az("ad", "app", "update", "--id", app_id, "--identifier-uris", f"api://{app_id}", "--app-roles", roles)
    if not az("ad", "sp", "list", "--filter", f"appId eq '{app_id}'", "--query", "[].id", "--output", "tsv"):
        az("ad", "sp", "create", "--id", app_id, "--output", "none")
    return app_id


def main() -> int:
    env = os.environ
    if env.get("FACE_ENTRA_AUTH", "").lower() != "true":
        print("Entra ID authentication is off (FACE_ENTRA_AUTH is not true): subscription keys only")
        return 0
    app_id = ensure_registration(f"face-api-{env.get('AZURE_ENV_NAME', 'default')}")
    subprocess.run(["azd", "env", "set", "FACE_ENTRA_CLIENT_ID", app_id], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
