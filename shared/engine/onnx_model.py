"""Base class for one ONNX model run with onnxruntime on the CPU.

One ``InferenceSession`` per model name per process, created on first use under a lock and
shared by every instance and thread (``InferenceSession.run`` is thread-safe).

Threads: FACE_ORT_THREADS (default 1) intra-op threads per session, one inter-op thread.
The service handles concurrency with parallel requests (Functions worker threads and
processes), and the models are small (batches of a few faces), so a single thread per run
gives the best throughput on a 2-core host and keeps the latency of each call predictable.
Raise it for a host that serves one request at a time on many cores.
"""
from __future__ import annotations

import threading
from typing import ClassVar

import numpy as np
import onnxruntime as ort

from shared.engine.modelstore import model_path
from shared.settings import env_int

_sessions: dict[str, ort.InferenceSession] = {}
_sessions_lock = threading.Lock()


def session_options() -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, env_int("FACE_ORT_THREADS", 1))
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # warnings about unused initializers are noise here
    return options


def load_session(model_name: str) -> ort.InferenceSession:
    """The shared session for a catalog model, created once per process."""
    session = _sessions.get(model_name)
    if session is not None:
        return session
    with _sessions_lock:
        if model_name not in _sessions:
            path = model_path(model_name)
            _sessions[model_name] = ort.InferenceSession(
                str(path), sess_options=session_options(), providers=["CPUExecutionProvider"]
            )
        return _sessions[model_name]


class OnnxModel:
    """Subclass, set ``model_name`` to a catalog name, add pre/post-processing around ``run``."""

    model_name: ClassVar[str]

    def session(self) -> ort.InferenceSession:
        return load_session(self.model_name)

    @property
    def input_name(self) -> str:
        return self.session().get_inputs()[0].name

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.session().run(None, feeds)

    def run_single(self, tensor: np.ndarray) -> list[np.ndarray]:
        """Run a model with one input, whatever its name."""
        return self.run({self.input_name: tensor})

    def warm_up(self) -> None:
        self.session()
