"""Throughput and latency under many concurrent SDK-like clients (`make bench-load`, `make bench-soak`).

    .venv/bin/python benchmarks/bench_load.py [--steps 1,4,16,64] [--detect-steps 4,16,64]
        [--step-seconds 40] [--persons 10000] [--engine-seconds 20]
    .venv/bin/python benchmarks/bench_load.py --soak 600 --soak-clients 64

Starts the app as `make run` does, each part in its own process: Azurite (a temporary data
folder, free loopback ports) and `python -m devhost`. Enrols a LargePersonGroup of --persons
persons as bench_identify.py does (13 real identities, the rest synthetic templates) and
trains it through the API. Then, per step, locust runs headless in its own process against
127.0.0.1 for --step-seconds: C FaceClientUsers (detect with faceIds 50%, verify 20%,
identify 20%, find-similar 10%; see benchmarks/locustfile.py) per mixed step, C DetectUsers
per detect-only step. Afterwards it measures the engine's own detect+embed throughput in this
process, on all cores (one thread per core, and two per core; the better one is the bound),
on the same photos with the same options.

Per step it prints requests/s, p50/p95/p99 per operation (locust's figures), errors by
status, the app's RSS at start and end, and the CPU each process used (app, Azurite, locust)
in cores, since all three share this machine. Everything goes to bench-results/load-<time>/
too (locust's CSV files, report.txt). The last line is

    load: R req/s at C clients (engine bound E req/s, ratio X), p95 P ms, 5xx N

with R, C and P from the best detect-only step, X = R / E, and N the 5xx count of all steps.
--soak instead runs one mixed step of that many seconds at --soak-clients, after a 60 s
warm-up step at the same load, and reports RSS growth over the soak and its 5xx. The app gets this process's environment, so FUNCTIONS_WORKER_PROCESS_COUNT,
PYTHON_THREADPOOL_THREAD_COUNT and FACE_ORT_THREADS set here apply to it (first line of the
report); RSS and CPU count all of the devhost's processes. Throttling is switched off in the app under test (FACE_RATE_*=0): the
benchmark measures capacity, not the per-credential limits. BENCH_RECOGNITION_MODEL (default
recognition_01) is the recognition model of every detect, of the group and of the engine bound;
recognition_04 measures its default, the fused dlib+SFace template.
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests

from bench_identify import (GROUP, MODEL, PERSONS_DIR, REPO_ROOT, configure, enrol_directly, free_port,
                            real_templates, start_azurite, synthetic_vectors, train)

LOCUST = REPO_ROOT / ".venv" / "bin" / "locust"
LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
RESULTS = REPO_ROOT / "bench-results"
MIXED, DETECT_ONLY = "FaceClientUser", "DetectUser"
TICKS = os.sysconf("SC_CLK_TCK")
APP_START_SECONDS = 180
# Host and engine settings that change the figures (passed to the app from the environment).
SOAK_WARM_UP_SECONDS = 60
TUNING = ("FUNCTIONS_WORKER_PROCESS_COUNT", "PYTHON_THREADPOOL_THREAD_COUNT", "FACE_ORT_THREADS")


def photos() -> list[Path]:
    return sorted(PERSONS_DIR.glob("*/*.jpg"))


# --- the processes under test -------------------------------------------------------------

class App:
    """`python -m devhost` in its own process, with this process's settings."""

    def __init__(self, env: dict[str, str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen([sys.executable, "-m", "devhost", "--app-dir", str(REPO_ROOT)],
                                        cwd=REPO_ROOT, env={**env, "PORT": str(self.port)},
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + APP_START_SECONDS
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                raise RuntimeError("the app did not start:\n" + self.log.read().decode(errors="replace")[-3000:])
            time.sleep(0.5)

    def _ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/health", timeout=60).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def process_tree(pid: int) -> list[int]:
    """A process and its descendants (the devhost's worker processes, if any)."""
    children = [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                for child in (task / "children").read_text().split()]
    return [pid] + [descendant for child in children for descendant in process_tree(child)]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants."""
    total = 0
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process and its running descendants."""
    total = 0
    for member in process_tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def children_cpu_seconds() -> float:
    """CPU time of this process's finished children (locust, once a step has ended)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- one locust step ----------------------------------------------------------------------

@dataclass
class Operation:
    name: str
    requests: int
    rps: float
    p50: float
    p95: float
    p99: float


@dataclass
class Step:
    label: str
    clients: int
    seconds: float
    total: Operation
    operations: list[Operation]
    errors: dict[str, int]  # "status 503" -> count
    rss_start: float
    rss_end: float
    cpu: dict[str, float]  # process -> cores used on average
    rss_samples: list[float] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.errors.items() if status.startswith("status 5"))

    def lines(self) -> list[str]:
        cores = ", ".join(f"{name} {used:.2f}" for name, used in self.cpu.items())
        lines = [f"{self.label} C={self.clients}: {self.total.rps:.1f} req/s over {self.seconds:.0f} s, "
                 f"p50/p95/p99 {self.total.p50:.0f}/{self.total.p95:.0f}/{self.total.p99:.0f} ms, "
                 f"RSS {self.rss_start:.0f} -> {self.rss_end:.0f} MB, cores used: {cores}"]
        lines += [f"    {op.name:<13} {op.requests:>6} req {op.rps:7.1f} req/s  p50 {op.p50:5.0f}  "
                  f"p95 {op.p95:5.0f}  p99 {op.p99:5.0f} ms" for op in self.operations]
        errors = ", ".join(f"{status}: {count}" for status, count in sorted(self.errors.items())) or "none"
        lines.append(f"    errors: {errors}")
        return lines


class Runner:
    def __init__(self, app: App, azurite_pid: int, env: dict[str, str], out: Path):
        self.app, self.azurite_pid, self.env, self.out = app, azurite_pid, env, out

    def step(self, user_class: str, clients: int, seconds: int, label: str) -> Step:
        prefix = self.out / f"{label}-{clients}"
        processes = {"app": self.app.process.pid, "azurite": self.azurite_pid}
        before = {name: cpu_seconds(pid) for name, pid in processes.items()}
        locust_before, rss_start, started = children_cpu_seconds(), rss_mb(self.app.process.pid), time.monotonic()
        samples, done = [rss_start], threading.Event()
        sampler = threading.Thread(target=self._sample_rss, args=(samples, done), daemon=True)
        sampler.start()
        with open(f"{prefix}.log", "wb") as log:
            subprocess.run(
                [str(LOCUST), "-f", str(LOCUSTFILE), user_class, "--headless", "--users", str(clients),
                 "--spawn-rate", str(clients), "--run-time", f"{seconds}s", "--reset-stats", "--only-summary",
                 "--stop-timeout", "10", "--host", self.app.url, "--csv", str(prefix),
                 "--exit-code-on-error", "0", "--loglevel", "WARNING"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, check=True, timeout=seconds + 120)
        done.set()
        sampler.join()
        elapsed = time.monotonic() - started
        cpu = {name: (cpu_seconds(pid) - before[name]) / elapsed for name, pid in processes.items()}
        cpu["locust"] = (children_cpu_seconds() - locust_before) / elapsed
        total, operations = read_stats(f"{prefix}_stats.csv")
        return Step(label, clients, elapsed, total, operations, read_errors(f"{prefix}_failures.csv"),
                    rss_start, rss_mb(self.app.process.pid), cpu, samples)

    def _sample_rss(self, samples: list[float], done: threading.Event) -> None:
        while not done.wait(10):
            samples.append(rss_mb(self.app.process.pid))


def read_stats(path: str) -> tuple[Operation, list[Operation]]:
    operations = []
    with open(path, newline="") as file:
        for row in csv.DictReader(file):
            operations.append(Operation(row["Name"], int(row["Request Count"]), float(row["Requests/s"]),
                                        _ms(row["50%"]), _ms(row["95%"]), _ms(row["99%"])))
    total = next(op for op in operations if op.name == "Aggregated")
    return total, [op for op in operations if op.name != "Aggregated"]


def _ms(value: str) -> float:
    return float(value) if value not in ("", "N/A") else float("nan")


def read_errors(path: str) -> dict[str, int]:
    """Failures by "status <code>" (locustfile.py's names; locust wraps them in CatchResponseError)."""
    errors: dict[str, int] = {}
    with open(path, newline="") as file:
        for row in csv.DictReader(file):
            status = re.search(r"status \d+", row["Error"])
            name = status.group(0) if status else row["Error"]
            errors[name] = errors.get(name, 0) + int(row["Occurrences"])
    return errors


# --- the engine's own bound ---------------------------------------------------------------

def engine_bound(images: list[bytes], seconds: float) -> tuple[float, int]:
    """Best detect+embed images/s in this process, with one and with two threads per core."""
    from shared.engine.engine import get_engine
    from shared.engine.types import DetectOptions

    engine = get_engine()
    options = DetectOptions(detection_model="detection_01", recognition_models=(MODEL,), max_faces=100)
    for image in images[:4]:
        engine.detect(image, options)
    def work(offset: int, deadline: float) -> int:
        done = 0
        while time.monotonic() < deadline:
            engine.detect(images[(offset + done) % len(images)], options)
            done += 1
        return done

    results = []
    for threads in (os.cpu_count() or 1, 2 * (os.cpu_count() or 1)):
        started = time.monotonic()
        with ThreadPoolExecutor(threads) as pool:
            counts = pool.map(work, range(0, threads * 7, 7), [started + seconds / 2] * threads)
            count = sum(counts)
        results.append((count / (time.monotonic() - started), threads))
    return max(results)


# --- the whole benchmark ------------------------------------------------------------------

def enrol_group(app: App, key: str, persons: int) -> None:
    from shared.galleries import repository
    from shared.galleries.kinds import LARGE_PERSON_GROUP

    session = requests.Session()
    session.headers["Ocp-Apim-Subscription-Key"] = key
    group_url = f"{app.url}/face/v1.2/largepersongroups/{GROUP}"
    session.put(group_url, json={"name": "bench-load", "recognitionModel": MODEL}).raise_for_status()
    real, _ = real_templates()
    dims = next(iter(real.values()))[0].vector.size
    synthetic = synthetic_vectors(max(0, persons - len(real)), 1, dims, np.random.default_rng(7))
    started = time.perf_counter()
    enrol_directly(repository.get_container(LARGE_PERSON_GROUP, GROUP), real, synthetic)
    train(session, group_url)
    say(f"enrolled and trained a LargePersonGroup of {persons} persons in {time.perf_counter() - started:.1f} s")


def warm_up(app: App, key: str, images: list[bytes]) -> None:
    """One call of each operation, so no step pays for loading a snapshot or a model."""
    session = requests.Session()
    session.headers["Ocp-Apim-Subscription-Key"] = key
    api = f"{app.url}/face/v1.2"
    face_ids = []
    for image in images[:2]:
        response = session.post(f"{api}/detect?recognitionModel={MODEL}&returnFaceId=true", data=image,
                                headers={"Content-Type": "application/octet-stream"})
        response.raise_for_status()
        face_ids += [face["faceId"] for face in response.json()]
    for path, body in (("verify", {"faceId1": face_ids[0], "faceId2": face_ids[1]}),
                       ("identify", {"faceIds": face_ids[:1], "largePersonGroupId": GROUP}),
                       ("findsimilars", {"faceId": face_ids[0], "faceIds": face_ids[1:]})):
        session.post(f"{api}/{path}", json=body).raise_for_status()


_report: list[str] = []


def say(line: str) -> None:
    _report.append(line)
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="1,4,16,64", help="mixed-load client counts")
    parser.add_argument("--detect-steps", default="4,16,64", help="detect-only client counts")
    parser.add_argument("--step-seconds", type=int, default=40)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--engine-seconds", type=float, default=20)
    parser.add_argument("--soak", type=int, default=0, help="run only a soak of this many seconds")
    parser.add_argument("--soak-clients", type=int, default=64)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT))
    out = RESULTS / time.strftime("load-%Y%m%d-%H%M%S")
    out.mkdir(parents=True)
    location = tempfile.mkdtemp(prefix="bench-load-azurite-")
    azurite, connection = start_azurite(location)
    try:
        key = configure(connection)
        env = {**os.environ, "LOAD_KEY": key, "LOAD_GROUP": GROUP, "LOAD_API_VERSION": "v1.2",
               "LOAD_PHOTOS": os.pathsep.join(map(str, photos()))}
        app = App(env)
        try:
            run(args, Runner(app, azurite.pid, env, out), key)
        finally:
            app.stop()
    finally:
        azurite.terminate()
        azurite.wait(timeout=10)
        shutil.rmtree(location, ignore_errors=True)
        (out / "report.txt").write_text("\n".join(_report) + "\n")


def run(args, runner: Runner, key: str) -> None:
    images = [path.read_bytes() for path in photos()]
    say(f"app: {len(process_tree(runner.app.process.pid))} worker process(es), "
        + ", ".join(f"{name}={os.environ.get(name) or 'default'}" for name in TUNING))
    enrol_group(runner.app, key, args.persons)
    warm_up(runner.app, key, images)
    if args.soak:
        soak(runner, args.soak_clients, args.soak)
        return
    steps = [runner.step(MIXED, clients, args.step_seconds, "mixed") for clients in _counts(args.steps)]
    steps += [runner.step(DETECT_ONLY, clients, args.step_seconds, "detect") for clients in _counts(args.detect_steps)]
    for step in steps:
        for line in step.lines():
            say(line)
    bound, threads = engine_bound(images, args.engine_seconds)
    say(f"engine in-process detect+embed ({len(images)} photos, {threads} threads): {bound:.1f} images/s")
    detect_steps = [step for step in steps if step.label == "detect"]
    server_errors = sum(step.server_errors for step in steps)
    if detect_steps:
        best = max(detect_steps, key=lambda step: step.total.rps)
        say(f"load: {best.total.rps:.1f} req/s at {best.clients} clients (engine bound {bound:.1f} req/s, "
            f"ratio {best.total.rps / bound:.2f}), p95 {best.total.p95:.0f} ms, 5xx {server_errors}")


def soak(runner: Runner, clients: int, seconds: int) -> None:
    """Growth is measured from the working set of ``clients`` concurrent requests, not from
    an idle app: a warm-up step at the same load comes first."""
    for line in runner.step(MIXED, clients, SOAK_WARM_UP_SECONDS, "soak-warm-up").lines():
        say(line)
    step = runner.step(MIXED, clients, seconds, "soak")
    for line in step.lines():
        say(line)
    growth = (step.rss_end - step.rss_start) / step.rss_start
    say(f"RSS samples every 10 s (MB): {' '.join(f'{value:.0f}' for value in step.rss_samples)}")
    say(f"soak: {seconds} s at {clients} clients, {step.total.rps:.1f} req/s, RSS {step.rss_start:.0f} -> "
        f"{step.rss_end:.0f} MB ({growth:+.1%}, max {max(step.rss_samples):.0f} MB), 5xx {step.server_errors}")


def _counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


if __name__ == "__main__":
    main()
