"""``python -m devhost``: serve ./function_app.py on 127.0.0.1:7071 (PORT overrides),
with local.settings.json applied as ``func start`` would, in FUNCTIONS_WORKER_PROCESS_COUNT
processes (default 1; see workers.py)."""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from pathlib import Path

from devhost.settings import load_local_settings, max_outstanding_requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app-dir", default=".", help="folder holding function_app.py")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)

    app_dir = Path(args.app_dir).resolve()
    settings = load_local_settings(app_dir)
    sys.path.insert(0, str(app_dir))
    app = importlib.import_module("function_app").app
    port = int(os.environ.get("PORT") or settings.get("Host", {}).get("LocalHttpPort") or 7071)

    from devhost.host import DevHost
    from devhost.workers import fork_workers, shared_listener, stop_workers, worker_process_count

    processes = worker_process_count()
    listener = shared_listener(args.host, port) if processes > 1 else None

    def host(first: bool) -> DevHost:
        return DevHost(app, host=args.host, port=port, max_outstanding=max_outstanding_requests(app_dir),
                       listener=listener, run_timers=first, run_queues=first)

    others = fork_workers(processes - 1, lambda: serve(host(first=False))) if listener else []
    try:
        serve(host(first=True), processes)
    finally:
        stop_workers(others)


def serve(host, processes: int | None = None) -> None:
    """Run a host until Ctrl+C (SIGINT)."""
    host.start()
    if processes is not None:
        logging.getLogger("devhost").info("serving %d functions on %s (%d worker processes)",
                                          len(host.functions), host.url, processes)
    try:
        host.wait()
    except KeyboardInterrupt:
        pass
    finally:
        host.stop()


if __name__ == "__main__":
    main()
