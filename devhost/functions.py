"""The app's functions as the host sees them: name, trigger binding, and how to call them."""
from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass

import azure.functions as func

from devhost.routing import RouteTemplate

HTTP_TRIGGER, TIMER_TRIGGER, QUEUE_TRIGGER = "httpTrigger", "timerTrigger", "queueTrigger"
_SUPPORTED_OUTPUTS = {"http"}  # the $return of HTTP functions


@dataclass(frozen=True)
class HostedFunction:
    name: str
    trigger: dict  # the trigger binding's JSON (type, name, route, schedule, queueName...)
    user_function: Callable

    @property
    def kind(self) -> str:
        return self.trigger["type"]

    @property
    def route(self) -> RouteTemplate:
        return RouteTemplate.parse(self.trigger.get("route") or self.name)

    @property
    def methods(self) -> frozenset[str] | None:
        methods = self.trigger.get("methods")
        return frozenset(str(getattr(m, "value", m)).upper() for m in methods) if methods else None

    def invoke(self, argument: object) -> object:
        """Call the function with its trigger value bound to the trigger's parameter name."""
        result = self.user_function(**{self.trigger["name"]: argument})
        return asyncio.run(result) if inspect.iscoroutine(result) else result


def discover(app: func.FunctionApp) -> list[HostedFunction]:
    hosted = []
    for function in app.get_functions():
        bindings = [binding.get_dict_repr() for binding in function.get_bindings()]
        triggers = [b for b in bindings if b["type"].endswith("Trigger")]
        others = [b for b in bindings if not b["type"].endswith("Trigger")]
        name = function.get_function_name()
        if len(triggers) != 1 or triggers[0]["type"] not in (HTTP_TRIGGER, TIMER_TRIGGER, QUEUE_TRIGGER):
            raise ValueError(f"function {name}: devhost runs http, timer and queue triggers only")
        unsupported = [b["type"] for b in others if b["type"] not in _SUPPORTED_OUTPUTS]
        if unsupported:
            raise ValueError(f"function {name}: bindings {unsupported} are not supported by devhost")
        hosted.append(HostedFunction(name, triggers[0], function.get_user_function()))
    return hosted
