"""azd postprovision hook: create the service's Key Vault secrets on first provisioning only.

Each secret is looked up through Azure Resource Manager (which tells whether a secret exists,
never its value, and works whatever the vault's network rules) and created only when it is
missing, so re-running `azd provision` or `azd up` never replaces a key: templates and
liveness tokens sealed under a replaced key would be unreadable. Values are generated here,
handed to `az rest` in a private temporary file, and never printed, logged or output.

Rotating a key is a deliberate act: docs/deploy.md "Key rotation".
"""
from __future__ import annotations

import base64
import os
import secrets
import sys
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from azcli import AzError, az, json_file  # noqa: E402 (the hook runs as a script)

VAULT_API = "2023-07-01"
SITES_API = "2024-04-01"


def aes_key() -> str:
    """A 256-bit key, base64 (FACE_TEMPLATE_KEY, FACE_LIVENESS_TOKEN_KEY)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def subscription_key() -> str:
    """An Ocp-Apim-Subscription-Key: 32 random bytes as 64 hex digits, like Azure's keys."""
    return secrets.token_hex(32)


def no_keys() -> str:
    """An empty key list (blank items are dropped); Key Vault secrets cannot be empty."""
    return ","


SECRETS: dict[str, Callable[[], str]] = {
    "face-template-key": aes_key,
    "face-template-old-keys": no_keys,
    "face-liveness-token-key": aes_key,
    "face-liveness-token-old-keys": no_keys,
    "face-admin-keys": subscription_key,
    "face-recognizer-keys": subscription_key,
}


def ensure_secrets(subscription: str, group: str, vault: str) -> list[str]:
    """Create the missing secrets; returns their names."""
    vault_path = (f"/subscriptions/{subscription}/resourceGroups/{group}"
                  f"/providers/Microsoft.KeyVault/vaults/{vault}")
    created = []
    for name, generate in SECRETS.items():
        url = f"{vault_path}/secrets/{name}?api-version={VAULT_API}"
        if _exists(url):
            print(f"Key Vault secret {name}: exists, kept")
            continue
        with json_file({"properties": {"value": generate()}}) as body:
            az("rest", "--method", "put", "--url", url, "--body", body, "--output", "none")
        print(f"Key Vault secret {name}: created")
        created.append(name)
    return created


def _exists(url: str) -> bool:
    try:
        az("rest", "--method", "get", "--url", url, "--output", "none")
    except AzError as err:
        if "SecretNotFound" in str(err) or "Not Found" in str(err):
            return False
        raise  # an authorization or network failure must never count as "missing"
    return True


def restart_app(subscription: str, group: str, app: str) -> None:
    """Key Vault references are resolved at start: restart so new secrets take effect now."""
    url = (f"/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Web/sites/{app}"
           f"/restart?api-version={SITES_API}")
    az("rest", "--method", "post", "--url", url, "--output", "none")
    print(f"restarted {app} to resolve the new Key Vault references")


def main() -> int:
    env = os.environ
    try:
        subscription, group = env["AZURE_SUBSCRIPTION_ID"], env["AZURE_RESOURCE_GROUP"]
        vault = env["AZURE_KEY_VAULT_NAME"]
    except KeyError as missing:
        print(f"ensure_secrets: {missing.args[0]} is not set (run through azd after provisioning)", file=sys.stderr)
        return 2
    try:
        created = ensure_secrets(subscription, group, vault)
        if created and env.get("AZURE_FUNCTION_APP_NAME"):
            restart_app(subscription, group, env["AZURE_FUNCTION_APP_NAME"])
    except AzError as err:
        print(f"ensure_secrets: az failed: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
