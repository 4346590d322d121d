"""`--smoke`: every benchmark's seconds-long run, which `make test` runs (tests/benchmarks/test_smoke.py).

A benchmark declares its arguments as usual and parses them with ``parse_args(parser, **sizes)``:
with ``--smoke`` the given sizes replace the defaults (an argument given on the command line
still wins), so the smoke run takes the benchmark's whole code path on a few items and must
still print its last (summary) line. The full sizes stay the defaults.
"""
from __future__ import annotations

import argparse


def parse_args(parser: argparse.ArgumentParser, **smoke_sizes) -> argparse.Namespace:
    parser.add_argument("--smoke", action="store_true",
                        help="a seconds-long run on a few items (make test): " +
                             ", ".join(f"{name}={value}" for name, value in smoke_sizes.items()))
    if parser.parse_known_args()[0].smoke:
        parser.set_defaults(**smoke_sizes)
    return parser.parse_args()
