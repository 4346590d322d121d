"""Resolve every catalog model into the cache: `python -m shared.engine.prepare`.

Run at build/deploy time (Makefile, CI, container build). Uses the cache (FACE_MODEL_CACHE),
mirror folders (FACE_MODEL_MIRRORS), installed packages and, last, the pinned URLs; checks
every sha256 and builds derived models. Prints one line per model and exits 1 if any model
is unavailable, after trying all of them so one run shows every problem.
"""
from __future__ import annotations

import argparse
import sys

from shared.engine.catalog import CATALOG
from shared.engine.modelstore import ModelUnavailable, default_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help=f"catalog names (default: all of {', '.join(CATALOG)})")
    store = default_store()
    names = parser.parse_args(argv).models or list(store.catalog)
    print(f"model cache: {store.cache_dir}")
    failures = 0
    for name in names:
        try:
            resolved = store.prepare(name)
        except ModelUnavailable as exc:
            failures += 1
            print(f"MISSING {name}\n{exc}", file=sys.stderr)
            continue
        print(f"ok {name:<22} sha256 {resolved.sha256}  {resolved.path.name}  <- {resolved.origin}")
    if failures:
        print(f"{failures} model(s) unavailable", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
