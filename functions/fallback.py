"""Anything no other route matched: Azure's 404 envelope (unknown route or api version)."""
import azure.functions as func

from shared.api import render
from shared.api.versions import resource_not_found

bp = func.Blueprint()


@bp.route(route="{*path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def not_found(req: func.HttpRequest) -> func.HttpResponse:
    return render.error_response(resource_not_found())
