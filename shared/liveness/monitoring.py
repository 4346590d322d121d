"""The account's liveness abuse monitoring setting (v1.3-preview.1 `GET`/`PATCH /settings`).

On by default. While on, sessions created under v1.3-preview.1 keep one face template per
attempt for abuse detection (shared.liveness.abuse). Turning it off deletes every abuse
template kept so far at once; sessions created while it was on keep saying so
(`isAbuseMonitoringEnabled` tells what held at creation) but keep no further template.
"""
from __future__ import annotations

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
