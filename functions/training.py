"""The training worker: one queue message per train request (see shared/galleries/training.py)."""
import json

import azure.functions as func

from shared.galleries import training
from shared.storage.naming import queue_name

bp = func.Blueprint()


@bp.queue_trigger(arg_name="msg", queue_name=queue_name(training.QUEUE), connection="AzureWebJobsStorage")
def train_gallery(msg: func.QueueMessage) -> None:
    training.run(json.loads(msg.get_body().decode("utf-8")))
