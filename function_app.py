"""The Azure Functions app: one blueprint per API area, registered here and nowhere else."""
import azure.functions as func

from functions import detection, fallback, liveness, maintenance, recognition
from functions import facelists, identification, largefacelists, largepersongroups, persongroups, training
from functions import directory, operations
from functions import inventory, studio
from shared import telemetry

telemetry.configure()  # Application Insights via OpenTelemetry, only when its connection string is set

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(detection.bp)
app.register_functions(recognition.bp)
app.register_functions(maintenance.bp)
app.register_functions(liveness.bp)
for gallery_bp in (facelists.bp, largefacelists.bp, persongroups.bp, largepersongroups.bp, identification.bp, training.bp):
    app.register_functions(gallery_bp)
app.register_functions(operations.bp)
app.register_functions(directory.bp)
app.register_functions(inventory.bp)
app.register_functions(studio.bp)
app.register_functions(fallback.bp)  # the catch-all 404 route; hosts match it last
