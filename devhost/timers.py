"""Timer triggers on their NCRONTAB schedules (UTC). A run still in progress when the
next occurrence comes is not overlapped; the next run is then marked past due."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from azure.functions.timer import TimerRequest

from devhost.functions import HostedFunction
from devhost.ncrontab import Schedule
from devhost.settings import resolve

logger = logging.getLogger("devhost.timers")


class TimerRunner:
    def __init__(self, function: HostedFunction, stop: threading.Event):
        self.function = function
        self.schedule = Schedule.parse(resolve(function.trigger["schedule"]))
        self._stop = stop
        self._thread = threading.Thread(target=self._loop, name=f"timer-{function.name}", daemon=True)

    def start(self) -> None:
        if self.function.trigger.get("runOnStartup"):
            self._fire(past_due=False)
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _loop(self) -> None:
        due = self.schedule.next_after(datetime.now(timezone.utc))
        while not self._stop.wait(max(0.0, (due - datetime.now(timezone.utc)).total_seconds())):
            now = datetime.now(timezone.utc)
            past_due = (now - due).total_seconds() > 1
            self._fire(past_due)
            due = self.schedule.next_after(datetime.now(timezone.utc))

    def _fire(self, past_due: bool) -> None:
        logger.info("timer %s firing (past due: %s)", self.function.name, past_due)
        try:
            self.function.invoke(TimerRequest(past_due=past_due))
        except Exception:
            logger.exception("timer function %s failed", self.function.name)
