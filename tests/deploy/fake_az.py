"""A stand-in for the `az` and `azd` commands the deployment hooks call, for tests: it keeps
Key Vault secrets, app registrations and azd environment values in a JSON state file
($FAKE_AZ_STATE) and records every command line. FAKE_AZ_FAIL=<text> makes every call fail
with that error text, as az does for a missing permission."""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

STATE = Path(os.environ["FAKE_AZ_STATE"])


def load() -> dict:
    if STATE.exists():
        return json.loads(STATE.read_text())
    return {"calls": [], "secrets": {}, "apps": {}, "service_principals": [], "azd_env": {}, "restarts": 0}


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def read_file_argument(value: str):
    """The JSON document of an ``@path`` argument."""
    return json.loads(Path(value[1:]).read_text())


def rest(state: dict, args: list[str]) -> int:
    method, url = option(args, "--method"), option(args, "--url")
    secret = re.search(r"/providers/Microsoft\.KeyVault/vaults/[^/]+/secrets/([^/?]+)", url)
    if secret and method == "get":
        if secret.group(1) not in state["secrets"]:
            print('ERROR: Not Found({"error":{"code":"SecretNotFound","message":"Secret not found"}})', file=sys.stderr)
            return 1
        print(json.dumps({"id": url, "properties": {"attributes": {"enabled": True}}}))
        return 0
    if secret and method == "put":
        state["secrets"][secret.group(1)] = read_file_argument(option(args, "--body"))["properties"]["value"]
        return 0
    if method == "post" and url.split("?")[0].endswith("/restart"):
        state["restarts"] += 1
        return 0
    print(f"ERROR: fake az does not know {method} {url}", file=sys.stderr)
    return 1


def ad(state: dict, args: list[str]) -> int:
    kind, verb = args[0], args[1]
    if (kind, verb) == ("app", "list"):
        name = option(args, "--display-name")
        print("\n".join(app_id for app_id, app in state["apps"].items() if app["displayName"] == name))
    elif (kind, verb) == ("app", "create"):
        app_id = f"00000000-0000-4000-8000-{len(state['apps']) + 1:012d}"
        state["apps"][app_id] = {"displayName": option(args, "--display-name"),
                                 "appRoles": read_file_argument(option(args, "--app-roles")),
                                 "signInAudience": option(args, "--sign-in-audience")}
        print(app_id)
    elif (kind, verb) == ("app", "update"):
        app = state["apps"][option(args, "--id")]
        app["identifierUris"] = [option(args, "--identifier-uris")]
        app["appRoles"] = read_file_argument(option(args, "--app-roles"))
    elif (kind, verb) == ("sp", "list"):
        app_id = re.search(r"appId eq '([^']+)'", option(args, "--filter")).group(1)
        print(app_id if app_id in state["service_principals"] else "")
    elif (kind, verb) == ("sp", "create"):
        state["service_principals"].append(option(args, "--id"))
    else:
        print(f"ERROR: fake az does not know ad {kind} {verb}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    state = load()
    program, args = sys.argv[1], sys.argv[2:]  # the shim on PATH passes its own name first
    state["calls"].append([program, *args])
    try:
        if os.environ.get("FAKE_AZ_FAIL"):
            print(f"ERROR: {os.environ['FAKE_AZ_FAIL']}", file=sys.stderr)
            return 1
        if program == "azd" and args[:2] == ["env", "set"]:
            state["azd_env"][args[2]] = args[3]
            return 0
        if args[0] == "rest":
            return rest(state, args[1:])
        if args[0] == "ad":
            return ad(state, args[1:])
        print(f"ERROR: fake az does not know {args}", file=sys.stderr)
        return 1
    finally:
        STATE.write_text(json.dumps(state))


if __name__ == "__main__":
    sys.exit(main())
