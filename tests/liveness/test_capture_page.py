"""The capture page in a real browser: Debian's chromium driven by Playwright, its camera a
fake device playing a y4m made here from the shared photos (camera_videos.py).

The page gets a client-assets access token beside the session token, loads the in-browser face
detector with it, and guides: a video made for each cue (face too small, off-centre, too dark,
two faces, too close, no face) shows that cue; a head turning through the session's challenge
passes PassiveActive. Passive sessions: the live sample ends realface, each spoof sample
spoofface; a still camera cannot pass the head turns. A screenshot of each state and each
final page is kept under test-artifacts/liveness/ (gitignored). Every request the page makes
is recorded: no token ever appears in a URL.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from browser_support import CHROMIUM, CHROMIUM_FLAGS
from camera_videos import cue_frames, framed, read_photo, write_y4m
from live_support import LIVE_SAMPLE, PERSONS_DIR, REPO_ROOT, SPOOF_SAMPLES
from shared.liveness import client_assets
from shared.liveness.challenge import TURN_LEFT, TURN_RIGHT

ARTIFACTS = REPO_ROOT / "test-artifacts" / "liveness"
PHONE = {"width": 390, "height": 844}  # a phone's viewport, in CSS pixels
CLIENT_ASSETS = ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm", "face-detector.onnx")
# guidance.js CUES, as the page shows them.
CUE_TEXTS = {
    "moveCloser": "Move closer to the camera.",
    "centre": "Centre your face in the oval.",
    "tooDark": "It is too dark.",
    "multipleFaces": "More than one face is in view.",
    "moveBack": "Move back a little.",
    "noFace": "We can't see a face.",
    TURN_LEFT: "Turn your head to your left.",
    TURN_RIGHT: "Turn your head to your right.",
    "ok": "Good. Hold still.",
}

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="make setup installs Debian's chromium")


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def run_page(service, api, tmp_path: Path, video: Path, mode: str, name: str, guided: bool = True,
             during: Callable | None = None, wait_for_end: bool = True) -> tuple[dict, dict, list[str]]:
    """Create a session, open the page with its token (and an assets token when ``guided``),
    press Start, run ``during(page)``, wait for the end. Returns (the session, the page's final
    state, every URL it requested)."""
    from playwright.sync_api import sync_playwright

    session = api.create(livenessOperationMode=mode, sendResultsToClient=True).json()
    assets_token = client_assets.mint().token
    fragment = f"authToken={session['authToken']}&kind=detectLiveness"
    if guided:
        fragment += f"&assetsToken={assets_token}"
    requested: list[str] = []
    state: dict = {}
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={video}"],
            viewport=PHONE, is_mobile=True, has_touch=True, permissions=["camera"])
        try:
            context.on("request", lambda request: requested.append(request.url))
            page = context.new_page()
            page.goto(f"{service.url}/liveness#{fragment}")
            page.get_by_role("button", name="Start the camera").click(timeout=60_000)
            assert page.evaluate("document.body.dataset.guidance") == ("on" if guided else "off")
            try:
                if during:
                    during(page)
                if wait_for_end:
                    page.wait_for_selector("body[data-state=done], body[data-state=error]", timeout=120_000)
            finally:
                screenshot(page, name)
            if wait_for_end:
                state = page.evaluate("({state: document.body.dataset.state, decision: document.body.dataset.decision,"
                                      " intact: document.getElementById('integrity').dataset.intact})")
            final_url = page.url
        finally:
            context.close()
    for secret in (session["authToken"], assets_token):
        assert requested and all(secret not in url for url in requested), requested
        assert secret not in final_url and "#" not in final_url
    if wait_for_end:
        assert state["state"] == "done", f"the page ended in {state}: see {ARTIFACTS / name}.png"
        read = api.session(f"detectLiveness-sessions/{session['sessionId']}").json()
        assert read["results"]["attempts"][-1]["result"]["livenessDecision"] == state["decision"]
    return session, state, requested


def sample_video(tmp_path: Path, sample: Path) -> Path:
    return write_y4m([(read_photo(sample), 1.0)], tmp_path / "camera.y4m")


def shown_cue(page) -> tuple[str | None, str]:
    """The page's cue and the live region's text, read together (the page sets both at once)."""
    return tuple(page.evaluate("[document.body.dataset.cue || null, document.getElementById('cue').textContent]"))


def wait_for_cue(page, cue: str, timeout_s: float = 90) -> None:
    """Until the page shows ``cue`` (a cue can end between two reads: then wait for the next)."""
    deadline = time.monotonic() + timeout_s
    while True:
        page.wait_for_selector(f"body[data-cue={cue}]", timeout=max(1, deadline - time.monotonic()) * 1000)
        shown, text = shown_cue(page)
        if shown == cue:
            break
    assert CUE_TEXTS[cue] in text, text
    screenshot(page, f"cue-{cue}")
    box = page.locator("#cue").bounding_box()
    assert box and box["y"] + box["height"] <= PHONE["height"], f"the cue is out of view on a phone: {box}"


@pytest.mark.parametrize("sample, expected", [(LIVE_SAMPLE, "realface"), *((path, "spoofface") for path in SPOOF_SAMPLES)],
                         ids=lambda value: value.stem if isinstance(value, Path) else value)
def test_capture_page_runs_a_passive_check(service, api, tmp_path, sample, expected):
    good_framing = (lambda page: wait_for_cue(page, "ok")) if sample == LIVE_SAMPLE else None
    _, state, requested = run_page(service, api, tmp_path, sample_video(tmp_path, sample), "Passive", sample.stem,
                                   during=good_framing)
    assert state["decision"] == expected and state["intact"] == "true"
    assert any(url.endswith("/face/v1.2/detectLiveness/singleModal") for url in requested)
    assert {url.rsplit("/", 1)[-1] for url in requested if "/liveness/assets/" in url} == set(CLIENT_ASSETS)


def test_without_an_assets_token_the_page_still_works_unguided(service, api, tmp_path):
    _, state, requested = run_page(service, api, tmp_path, sample_video(tmp_path, LIVE_SAMPLE), "Passive",
                                   "unguided", guided=False)
    assert state["decision"] == "realface"
    assert not any("/liveness/assets/" in url for url in requested)


def test_each_framing_problem_gets_its_cue(service, api, tmp_path):
    """One video cycling through a framing problem every 2.5 s; each cue must appear, in the
    live region, with its text (and a screenshot of each)."""
    frames = cue_frames(LIVE_SAMPLE)
    video = write_y4m([(frame, 2.5) for frame in frames.values()], tmp_path / "cues.y4m")

    def every_cue(page):
        assert page.get_attribute("#cue", "aria-live") == "polite"
        for cue in frames:
            wait_for_cue(page, cue)
        page.keyboard.press("Escape")  # Stop, from the keyboard: back to the start, nothing sent
        page.wait_for_selector("body[data-state=ready]", timeout=30_000)
        assert page.is_hidden("#camera") and page.evaluate("document.activeElement.id") == "start"

    session, _, _ = run_page(service, api, tmp_path, video, "Passive", "cues", during=every_cue, wait_for_end=False)
    assert api.session(f"detectLiveness-sessions/{session['sessionId']}").json()["results"]["attempts"] == []


def test_following_the_turns_passes_the_active_check(service, api, tmp_path):
    """A head that looks straight (3 s), then turns to its right, back, to its left, back
    (1.2 s each, three times), looping: the page asks for each turn of the challenge and
    captures the frames that show it, and the server decides realface. Each pose comes back
    within 8 s, inside the page's 10 s patience for a turn."""
    kit = sorted((PERSONS_DIR / "kit_harington").glob("*.jpg"))
    straight, right, left = framed(kit[0], 0.3), framed(kit[1], 0.3), framed(kit[1], 0.3, mirrored=True)
    turns_once = [(right, 1.2), (straight, 1.2), (left, 1.2), (straight, 1.2)]
    video = write_y4m([(straight, 3.0), *turns_once * 3], tmp_path / "turns.y4m")
    seen: set[str] = set()

    def turns(page):
        page.wait_for_selector("body[data-state=capturing]", timeout=30_000)
        deadline = time.monotonic() + 120
        while page.evaluate("document.body.dataset.state") == "capturing" and time.monotonic() < deadline:
            cue, text = shown_cue(page)
            if cue in (TURN_LEFT, TURN_RIGHT) and cue not in seen:
                assert CUE_TEXTS[cue] in text, text
                seen.add(cue)
                screenshot(page, f"cue-{cue}")
            page.wait_for_timeout(100)

    _, state, _ = run_page(service, api, tmp_path, video, "PassiveActive", "active-turns", during=turns)
    assert state["decision"] == "realface" and state["intact"] == "true"
    assert seen == {TURN_LEFT, TURN_RIGHT}  # every challenge has both


def test_a_still_camera_cannot_pass_the_active_challenge(service, api, tmp_path):
    """The live sample itself, but as a still picture: the head never turns (the page waits
    for each turn, then sends what it saw; the server decides)."""
    _, state, _ = run_page(service, api, tmp_path, sample_video(tmp_path, LIVE_SAMPLE), "PassiveActive", "active-still")
    assert state["decision"] == "spoofface"


def test_page_files_are_served_with_a_strict_policy(service):
    for path, kind in (("liveness", "text/html"), ("liveness/capture.js", "text/javascript"),
                       ("liveness/guidance.js", "text/javascript"), ("liveness/capture.css", "text/css")):
        answer = requests.get(f"{service.url}/{path}", timeout=30)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith(kind)
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert requests.get(f"{service.url}/liveness/../function_app.py", timeout=30).status_code == 404
    assert requests.get(f"{service.url}/liveness/other.js", timeout=30).status_code == 404


def test_client_assets_need_a_valid_access_token(service, api, clock):
    url = f"{service.url}/liveness/assets"
    session_token = api.create().json()["authToken"]
    token = client_assets.mint()
    for refused in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer not-a-token"},
                    {"Authorization": f"Bearer {session_token}"}, {"Authorization": token.token},
                    {"Ocp-Apim-Subscription-Key": service.admin_key}):
        answer = requests.get(f"{url}/face-detector.onnx", headers=refused, timeout=30)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "401", (refused, answer.text)
    kinds = {"ort.wasm.bundle.min.mjs": "text/javascript", "ort-wasm-simd-threaded.wasm": "application/wasm",
             "face-detector.onnx": "application/octet-stream"}
    for presented in (token.token, token.base64_token):
        for name, kind in kinds.items():
            answer = requests.get(f"{url}/{name}", headers={"Authorization": f"Bearer {presented}"}, timeout=60)
            assert answer.status_code == 200 and answer.headers["Content-Type"].startswith(kind), name
            assert answer.headers["Cache-Control"].startswith("private") and len(answer.content) > 50_000
    unknown = requests.get(f"{url}/other.onnx", headers={"Authorization": f"Bearer {token.token}"}, timeout=30)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "404"
    clock.advance(client_assets.lifetime().total_seconds() + 1)
    expired = requests.get(f"{url}/face-detector.onnx", headers={"Authorization": f"Bearer {token.token}"}, timeout=30)
    assert expired.status_code == 401
