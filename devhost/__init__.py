"""A small local stand-in for the Azure Functions host (Core Tools are not installable here).

It imports the app's ``FunctionApp``, reads each function's bindings and runs them as the
host would: HTTP triggers on the same routes with azure-functions request/response objects,
timer triggers on their NCRONTAB schedules, queue triggers from the storage account's
queues. It adapts; it does not implement any part of the API itself. Where Core Tools
exist, ``func start`` runs the same app unchanged.
"""
from devhost.host import DevHost

__all__ = ["DevHost"]
