"""The capture page in a real browser: Debian's chromium driven by Playwright, its camera a
fake device playing a y4m made here from a liveness sample. Passive sessions: the live sample
ends realface, each spoof sample spoofface; in a PassiveActive session the (still) live
sample cannot pass the head-turn challenge. A screenshot of each final page is kept under
test-artifacts/liveness/ (gitignored). Every request the page makes is recorded: the token
never appears in a URL.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from browser_support import CHROMIUM, CHROMIUM_FLAGS, write_y4m
from live_support import LIVE_SAMPLE, REPO_ROOT, SPOOF_SAMPLES

ARTIFACTS = REPO_ROOT / "test-artifacts" / "liveness"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="make setup installs Debian's chromium")


def run_page(service, api, tmp_path: Path, sample: Path, mode: str, screenshot: str) -> tuple[dict, str, list[str]]:
    """Create a session, open the page with its token, press Start, wait for the end.
    Returns (the page's final state, its final URL, every URL it requested)."""
    from playwright.sync_api import sync_playwright

    session = api.create(livenessOperationMode=mode, sendResultsToClient=True).json()
    video = tmp_path / "camera.y4m"
    write_y4m(sample, video)
    requested: list[str] = []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={video}"],
            viewport={"width": 480, "height": 900}, permissions=["camera"])
        try:
            context.on("request", lambda request: requested.append(request.url))
            page = context.new_page()
            page.goto(f"{service.url}/liveness#authToken={session['authToken']}&kind=detectLiveness")
            page.get_by_role("button", name="Start the camera").click(timeout=30_000)
            page.wait_for_selector("body[data-state=done], body[data-state=error]", timeout=90_000)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{screenshot}.png"), full_page=True)
            state = page.evaluate("({state: document.body.dataset.state, decision: document.body.dataset.decision,"
                                  " intact: document.getElementById('integrity').dataset.intact})")
            final_url = page.url
        finally:
            context.close()
    assert state["state"] == "done", f"the page ended in {state}: see {ARTIFACTS / screenshot}.png"
    assert requested and all(session["authToken"] not in url for url in requested), requested
    assert session["authToken"] not in final_url and "#" not in final_url
    read = api.session(f"detectLiveness-sessions/{session['sessionId']}").json()
    assert read["results"]["attempts"][-1]["result"]["livenessDecision"] == state["decision"]
    return state, final_url, requested


@pytest.mark.parametrize("sample, expected", [(LIVE_SAMPLE, "realface"), *((path, "spoofface") for path in SPOOF_SAMPLES)],
                         ids=lambda value: value.stem if isinstance(value, Path) else value)
def test_capture_page_runs_a_passive_check(service, api, tmp_path, sample, expected):
    state, _, requested = run_page(service, api, tmp_path, sample, "Passive", sample.stem)
    assert state["decision"] == expected and state["intact"] == "true"
    assert any(url.endswith("/face/v1.2/detectLiveness/singleModal") for url in requested)


def test_a_still_camera_cannot_pass_the_active_challenge(service, api, tmp_path):
    """The live sample itself, but as a still picture: the head never turns."""
    state, _, _ = run_page(service, api, tmp_path, LIVE_SAMPLE, "PassiveActive", "active-still")
    assert state["decision"] == "spoofface"


def test_page_files_are_served_with_a_strict_policy(service):
    for path, kind in (("liveness", "text/html"), ("liveness/capture.js", "text/javascript"),
                       ("liveness/capture.css", "text/css")):
        answer = requests.get(f"{service.url}/{path}", timeout=30)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith(kind)
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert requests.get(f"{service.url}/liveness/../function_app.py", timeout=30).status_code == 404
    assert requests.get(f"{service.url}/liveness/other.js", timeout=30).status_code == 404
