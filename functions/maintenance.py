"""Operational functions: the readiness probe and the expired-data sweep."""
import logging

import azure.functions as func

from shared.api import render
from shared.services.health import readiness
from shared.services.sweep import sweep_expired

bp = func.Blueprint()
logger = logging.getLogger(__name__)


@bp.route(route="health", methods=["GET"])
def health(req: func.HttpRequest) -> func.HttpResponse:
    """Anonymous: 200 when ready, 503 otherwise (reveals only which area is not ready)."""
    checks = readiness()
    ready = all(state == "ok" for state in checks.values())
    return render.json_response({"status": "ready" if ready else "unavailable", "checks": checks},
                                status=200 if ready else 503)


@bp.timer_trigger(schedule="%FACE_SWEEP_SCHEDULE%", arg_name="timer", run_on_startup=False)
def sweep(timer: func.TimerRequest) -> None:
    removed = sweep_expired()
    logger.info("sweep finished: %s", removed)
