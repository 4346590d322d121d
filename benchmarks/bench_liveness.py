"""Liveness through the HTTP client route, one thread, against a private Azurite.

    .venv/bin/python benchmarks/bench_liveness.py [--passive 30] [--active 12] [--person-photos N] [--smoke]

Prints:
* the client-route latency (request sent -> decision answered) p50/p95 of a 1-frame Passive
  attempt (the live sample) and of a full PassiveActive attempt (11 frames: straight ahead,
  then the session's three head turns, built from real photos of one person);
* the decision for every sample in ../shared/data/liveness (live -> realface, spoof ->
  spoofface), and how the person photos of ../shared/data/faces (all live) are decided, with
  the fused MiniFASNet live probability of each (the data behind the thresholds in
  docs/liveness.md).
Last line: ``liveness p50 ms: passive P, active A; samples correct C/N``.
"""
from __future__ import annotations

import argparse
import base64
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "tests" / "liveness")]

from bench_identify import UNGUARDED, free_port, start_azurite  # noqa: E402  (benchmarks/ is this script's folder)
from smoke import parse_args  # noqa: E402

SHARED_DIR = Path(os.environ.get("FACE_SHARED_DIR") or REPO_ROOT.parent / "shared").resolve()


def configure(connection_string: str) -> str:
    key = "bench-" + secrets.token_hex(8)
    os.environ.update({
        "AzureWebJobsStorage": connection_string, "FACE_STORAGE_PREFIX": "benchlive",
        "FACE_TEMPLATE_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "FACE_LIVENESS_TOKEN_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "FACE_ADMIN_KEYS": "", "FACE_RECOGNIZER_KEYS": key, "FACE_SWEEP_SCHEDULE": "0 0 0 1 1 *",
        "FACE_LIVENESS_DEVICE_ATTEMPTS": "1000000", **UNGUARDED,
    })
    os.environ.setdefault("FACE_MODEL_MIRRORS", str(SHARED_DIR / "models"))
    return key


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed_attempts(api, count: int, mode: str, frames_for) -> list[float]:
    """``count`` attempts (three per session, as a token allows), milliseconds each."""
    timings: list[float] = []
    while len(timings) < count:
        token = created(api.create(livenessOperationMode=mode))["authToken"]
        challenge = api.client_info(token).json()["challenge"]
        frames = frames_for(challenge)
        for _ in range(min(3, count - len(timings))):
            started = time.perf_counter()
            answer = api.attempt(token, frames)
            timings.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200 and answer.json()["attemptStatus"] == "Succeeded", answer.text
    return timings


def created(answer) -> dict:
    """The new session, or the service's own answer as the error (not a KeyError later)."""
    if answer.status_code != 200:
        raise SystemExit(f"creating a liveness session answered {answer.status_code}: {answer.text}")
    return answer.json()


def decide(api, frame: bytes) -> str:
    session = created(api.create(sendResultsToClient=True))

    answer = api.attempt(session["authToken"], [frame]).json()
    return answer.get("livenessDecision") or answer["error"]["code"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passive", type=int, default=30)
    parser.add_argument("--active", type=int, default=12)
    parser.add_argument("--person-photos", type=int, help="decide only the first N person photos (default: all)")
    args = parse_args(parser, passive=3, active=1, person_photos=3)

    location = tempfile.mkdtemp(prefix="bench-liveness-")
    azurite, connection = start_azurite(location)
    try:
        key = configure(connection)
        from devhost import DevHost
        from function_app import app
        from live_support import LIVENESS_DIR, PERSONS_DIR, LivenessApi, upright_jpeg
        from shared.engine.engine import get_engine
        from shared.liveness.frames import Frame, FrameView

        host = DevHost(app, port=free_port(), run_timers=False, run_queues=False)
        host.start()
        get_engine().warm_up()
        service = type("Service", (), {"url": host.url, "recognizer_key": key})()
        api = LivenessApi(service)

        live = upright_jpeg(LIVENESS_DIR / "live" / "image_T1.jpg")
        kit = sorted((PERSONS_DIR / "kit_harington").glob("*.jpg"))
        poses = {"center": upright_jpeg(kit[0]), "turnRight": upright_jpeg(kit[1]),
                 "turnLeft": upright_jpeg(kit[1], mirrored=True)}

        def active_frames(challenge: list[str]) -> list[bytes]:
            frames = [poses["center"]] * 2
            for step in challenge:
                frames += [poses[step], poses[step], poses["center"]]
            return frames

        decide(api, live)  # warm the route once
        passive = timed_attempts(api, args.passive, "Passive", lambda _: [live])
        active = timed_attempts(api, args.active, "PassiveActive", active_frames)
        print(f"client route, one thread: passive 1 frame   p50 {statistics.median(passive):7.1f} ms  "
              f"p95 {percentile(passive, 0.95):7.1f} ms  (n={len(passive)})")
        print(f"client route, one thread: active 11 frames  p50 {statistics.median(active):7.1f} ms  "
              f"p95 {percentile(active, 0.95):7.1f} ms  (n={len(active)})")

        correct = total = 0
        for label, expected in (("live", "realface"), ("spoof", "spoofface")):
            for path in sorted((LIVENESS_DIR / label).glob("*.jpg")):
                frame = upright_jpeg(path)
                probability = FrameView(Frame(0, 0, frame)).real_probability
                decision = decide(api, frame)
                total += 1
                correct += decision == expected
                print(f"sample {label}/{path.name}: p(live) {probability:.3f} -> {decision} (expected {expected})")

        decisions: Counter = Counter()
        lows = []
        for path in sorted(PERSONS_DIR.glob("*/*.jpg"))[:args.person_photos]:
            frame = upright_jpeg(path)
            decision = decide(api, frame)

            decisions[decision] += 1
            if decision != "realface":
                view = FrameView(Frame(0, 0, frame))
                probability = f"p(live) {view.real_probability:.3f}" if view.face else f"{len(view.faces)} faces"
                lows.append(f"{path.parent.name}/{path.name}: {probability} -> {decision}")
        print(f"person photos (all live, n={sum(decisions.values())}): " +
              ", ".join(f"{name} {count}" for name, count in sorted(decisions.items())))
        for line in lows:
            print(f"  not realface: {line}")
        host.stop()
        print(f"liveness p50 ms: passive {statistics.median(passive):.0f}, active {statistics.median(active):.0f}; "
              f"samples correct {correct}/{total}")
    finally:
        azurite.terminate()
        azurite.wait(timeout=10)
        shutil.rmtree(location, ignore_errors=True)


if __name__ == "__main__":
    main()
