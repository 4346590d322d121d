"""Abuse monitoring's cost: the check of one new observation against every observation of
the last 48 hours (read them all from Table Storage, decrypt, compare), as the table grows,
against a private in-memory Azurite, one thread.

    .venv/bin/python benchmarks/bench_abuse.py [--sizes 100,1000,5000] [--repeats 5]

Observations are random unit vectors in SFace's 128-d space (what recognition_04 keeps by
default), each from its own user, device and address, so every check compares all of them.
Prints per size: the ms to read and decrypt them (abuse.recent) and to run the checks
(abuse.flagged), min and median of the repeats. Last line: ``abuse check p50 ms at N: ...``.
"""
from __future__ import annotations

import argparse
import base64
import os
import secrets
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT)]

from bench_identify import start_azurite  # noqa: E402  (benchmarks/ is this script's folder)


def _observation(abuse, template_type, rng: np.random.Generator, index: int):
    vector = rng.standard_normal(128).astype(np.float32)
    template = template_type(vector / np.linalg.norm(vector), "sface", "2021dec", "recognition_04")
    return abuse.observe(str(uuid.uuid4()), 1, template, f"user-{index}", f"device-{index}", f"10.0.{index // 250}.{index % 250}",
                         None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    azurite, connection = start_azurite(None)
    try:
        os.environ.update({"AzureWebJobsStorage": connection, "FACE_STORAGE_PREFIX": "benchabuse",
                           "FACE_TEMPLATE_KEY": base64.b64encode(secrets.token_bytes(32)).decode()})
        from shared.engine.types import Template
        from shared.liveness import abuse

        rng = np.random.default_rng(7)
        stored, summary = 0, []
        for size in (int(value) for value in args.sizes.split(",")):
            while stored < size:
                abuse.keep(_observation(abuse, Template, rng, stored))
                stored += 1
            reads, checks = [], []
            for _ in range(args.repeats):
                started = time.perf_counter()
                earlier = abuse.recent()
                read = time.perf_counter()
                abuse.flagged(_observation(abuse, Template, rng, stored), earlier)
                reads.append((read - started) * 1000)
                checks.append((time.perf_counter() - read) * 1000)
            total = [read + check for read, check in zip(reads, checks)]
            print(f"{size:6d} observations: read+decrypt min {min(reads):8.1f} median {statistics.median(reads):8.1f} ms; "
                  f"checks min {min(checks):8.1f} median {statistics.median(checks):8.1f} ms")
            summary.append(f"{statistics.median(total):.0f} at {size}")
        print("abuse check p50 ms at N: " + ", ".join(summary))
    finally:
        azurite.terminate()
        azurite.wait(timeout=10)


if __name__ == "__main__":
    main()
