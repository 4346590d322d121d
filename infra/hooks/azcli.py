"""Running the Azure CLI from the azd hooks: one call, its output, and bodies passed through
private temporary files so a secret never appears on a command line or in a log."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


class AzError(RuntimeError):
    """An az command failed; the message is az's own error output (which holds no secret)."""


def az(*args: str) -> str:
    done = subprocess.run(["az", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise AzError(done.stderr.strip() or f"az {args[0]} failed with exit code {done.returncode}")
    return done.stdout.strip()


@contextmanager
def json_file(document: object) -> Iterator[str]:
    """``@path`` of a file only this user can read, holding ``document``; deleted afterwards."""
    handle, path = tempfile.mkstemp(suffix=".json")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(document, file)
        yield "@" + path
    finally:
        os.unlink(path)
