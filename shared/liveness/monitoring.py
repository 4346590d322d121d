"""The account's liveness abuse monitoring setting (v1.3-preview.1 `GET`/`PATCH /settings`).

On by default. While on, sessions created under v1.3-preview.1 keep one face template per
attempt for abuse detection (shared.liveness.abuse). Turning it off deletes every abuse
template kept so far at once; sessions created while it was on keep saying so
(`isAbuseMonitoringEnabled` tells what held at creation) but keep no further template.
"""
from __future__ import annotations

from shared.api.params import Fields
from shared.errors import BadArgument
from shared.liveness import abuse
from shared.storage import account_settings

SETTING = "livenessAbuseMonitoring"


def enabled(fresh: bool = False) -> bool:
    return bool(account_settings.read(SETTING, {"enabled": True}, fresh)["enabled"])


def set_enabled(value: bool) -> None:
    account_settings.write(SETTING, {"enabled": value})
    if not value:
        abuse.delete_all()


def settings_json() -> dict:
    return {"livenessAbuseMonitoring": {"enabled": enabled()}}


def update(fields: Fields) -> None:
    """PATCH /settings: the schema's {"livenessAbuseMonitoring": {"enabled": b}} or the upstream
    example's flat {"enabled": b}; no flag changes nothing, a flag that is no boolean is 400."""
    if fields.present(SETTING):
        nested = fields.get(SETTING)
        if not isinstance(nested, dict):
            raise BadArgument(f"{SETTING} must be an object.")
        fields = Fields(nested)
    if fields.present("enabled"):
        value = fields.get("enabled")
        if not isinstance(value, bool):
            raise BadArgument(f"{SETTING}.enabled must be true or false.")
        set_enabled(value)
