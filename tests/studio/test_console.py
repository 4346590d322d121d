"""Face Studio in a real browser (Debian's chromium under Playwright), against the running app
and Azurite, driven as a user would: sign in with a key; detect with the landmarks drawn
(pixels checked on the screenshot where each landmark is); verify; create a person group,
enrol three persons from the shared photos, train it and identify a held-out photo; run a
liveness session to its result on the capture page; read the inventory before and after an
erase. A recognizer key meets no write control and no inventory. Screenshots of each screen
land in test-artifacts/studio/ (gitignored). The tests share one browser and run in order.
"""
from __future__ import annotations

import json
import uuid

import cv2
import numpy as np
import pytest
import requests

from browser_support import CHROMIUM, CHROMIUM_FLAGS, write_y4m
from inventory_scan import assert_inventory_matches
from studio_support import REPO_ROOT, SHARED_DIR, photos

ARTIFACTS = REPO_ROOT / "test-artifacts" / "studio"
LIVE_SAMPLE = SHARED_DIR / "data" / "liveness" / "live" / "image_T1.jpg"
PEOPLE = ("obama", "kit_harington", "alex_lacamoire")
WAIT = 120_000  # ms: page states, not sleeps; generous for a slow shared machine
GREEN = np.array([0, 255, 0])  # detect.js LANDMARK_COLOUR, as RGB

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="make setup installs Debian's chromium")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("studio-browser")
    video = folder / "camera.y4m"
    write_y4m(LIVE_SAMPLE, video)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(folder / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={video}"],
            viewport={"width": 1100, "height": 900}, permissions=["camera"])
        context.set_default_timeout(WAIT)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def requested(browser) -> list[str]:
    seen: list[str] = []
    browser.on("request", lambda request: seen.append(request.url))
    return seen


@pytest.fixture(scope="module")
def page(browser, service, requested):
    page = browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, service.url, service.admin_key)
    return page


@pytest.fixture(scope="module")
def state() -> dict:
    return {}


def sign_in(page, url: str, key: str) -> None:
    page.goto(f"{url}/studio")
    page.get_by_label("Subscription key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("body[data-state=signed-in]")


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_detect_draws_every_landmark(page, service):
    page.get_by_label("Photo to detect", exact=True).set_input_files(str(photos("obama")[0]))
    page.get_by_role("button", name="Detect faces").click()
    page.wait_for_selector("body[data-detected]")
    canvas = page.locator("#detect-canvas")
    found = json.loads(canvas.get_attribute("data-result"))
    scale = float(canvas.get_attribute("data-scale"))
    assert len(found) == 1 and len(found[0]["faceLandmarks"]) == 27
    pixels = cv2.cvtColor(cv2.imdecode(np.frombuffer(canvas.screenshot(), np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    for name, point in found[0]["faceLandmarks"].items():
        x, y = round(point["x"] * scale), round(point["y"] * scale)
        assert np.abs(pixels[y, x].astype(int) - GREEN).max() < 60, (name, pixels[y, x])
    box = found[0]["faceRectangle"]
    middle_of_box_edge = pixels[round(box["top"] * scale), round((box["left"] + box["width"] / 2) * scale)]
    assert np.abs(middle_of_box_edge.astype(int) - GREEN).max() > 60  # the box is drawn, and not in landmark green
    assert page.locator(".countdown").first.inner_text().startswith("expires in")
    assert "qualityForRecognition" in page.locator("#detect-faces").inner_text()
    shot(page, "detect")


def test_verify_two_photos(page):
    page.get_by_label("Photo 1", exact=True).set_input_files(str(photos("obama")[1]))
    page.get_by_label("Photo 2", exact=True).set_input_files(str(photos("obama")[2]))
    page.get_by_role("button", name="Compare").click()
    answer = page.wait_for_selector("#verify-answer[data-confidence]")
    assert answer.inner_text().startswith("Same person")
    assert float(answer.get_attribute("data-confidence")) > 0.5
    shot(page, "verify")


def test_enrol_train_and_identify_the_held_out_photo(page, state):
    group = "studio-" + uuid.uuid4().hex[:8]
    state["group"] = group
    page.get_by_role("tab", name="Galleries").click()
    page.get_by_label("Kind", exact=True).select_option("persongroups")
    page.get_by_label("Id (not for directory persons)").fill(group)
    page.get_by_label("Name", exact=True).first.fill("Studio group")
    page.get_by_role("button", name="Create", exact=True).click()
    page.get_by_role("button", name="Open Studio group").first.click()
    page.wait_for_selector(f"#container[data-id='{group}']")
    for count, person in enumerate(PEOPLE, start=1):
        panel = page.locator("fieldset.enrol")
        panel.get_by_label("Name", exact=True).fill(person)
        panel.get_by_label("Photos of the person", exact=True).set_input_files([str(p) for p in photos(person)[:-1]])
        page.get_by_role("button", name="Enrol person").click()
        page.wait_for_selector(f"body[data-enrolled='{count}']")
        bars = page.locator("#enrol-progress progress")
        assert bars.count() == len(photos(person)) - 1
        assert all(bars.nth(i).get_attribute("value") == "100" for i in range(bars.count())), person
    shot(page, "enrol")
    page.get_by_role("button", name="Train").click()
    page.wait_for_selector("#train-state[data-status=succeeded]")
    page.get_by_label("Photo to search with", exact=True).set_input_files(str(photos("obama")[-1]))
    page.get_by_role("button", name="Identify").click()
    results = page.wait_for_selector("#search-results[data-candidates]")
    candidates = json.loads(results.get_attribute("data-candidates"))
    assert candidates and candidates[0]["name"] == "obama", candidates
    state["obama"] = candidates[0]["personId"]
    assert "templates" in page.locator("#search-results").inner_text()
    shot(page, "identify")


def test_directory_enrol_and_identify_without_training(page):
    page.get_by_label("Kind", exact=True).select_option("directory")
    tools = page.locator("#directory-tools")
    person = "deepface_person02"
    tools.locator("fieldset.enrol").get_by_label("Name", exact=True).fill(person)
    tools.get_by_label("Photos of the person", exact=True).set_input_files([str(p) for p in photos(person)[:3]])
    enrolled = int(page.evaluate("document.body.dataset.enrolled"))
    tools.get_by_role("button", name="Enrol person").click()
    page.wait_for_selector(f"body[data-enrolled='{enrolled + 1}']")
    tools.get_by_label("Photo to search with", exact=True).set_input_files(str(photos(person)[-1]))
    tools.get_by_role("button", name="Identify").click()
    candidates = json.loads(page.wait_for_selector("#search-results[data-candidates]").get_attribute("data-candidates"))
    assert candidates and candidates[0]["name"] == person, candidates
    shot(page, "directory")


def test_liveness_session_to_its_result(page, browser, requested):
    page.get_by_role("tab", name="Liveness").click()
    page.get_by_label("Mode", exact=True).select_option("Passive")
    page.get_by_role("button", name="Create session").click()
    link = page.wait_for_selector("#liveness-open").get_attribute("href")
    assert page.wait_for_selector("#liveness-qr").evaluate("image => image.complete && image.naturalWidth > 0")
    code = cv2.imdecode(np.frombuffer(page.locator("#liveness-qr").screenshot(), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert cv2.QRCodeDetector().detectAndDecode(code)[0] == link  # a phone scanning it gets the capture page
    device = browser.new_page()
    try:
        device.goto(link)
        device.get_by_role("button", name="Start the camera").click()
        device.wait_for_selector("body[data-state=done], body[data-state=error]")
        assert device.evaluate("document.body.dataset.state") == "done"  # the decision goes to the studio only
    finally:
        device.close()
    page.wait_for_selector("body[data-liveness=realface]")
    shot(page, "liveness")


def test_liveness_with_verify_session_is_created_from_a_form(page, service):
    page.locator("#liveness-kind").select_option("detectLivenessWithVerify")
    page.get_by_label("Verify image (with verify only)", exact=True).set_input_files(str(photos("obama")[0]))
    page.get_by_role("button", name="Create session").click()
    link = page.wait_for_selector("#liveness-open[href*='kind=detectLivenessWithVerify']").get_attribute("href")
    session_id = page.locator("#liveness-handoff code").first.inner_text()
    read = requests.get(f"{service.url}/face/v1.2/detectLivenessWithVerify-sessions/{session_id}",
                        headers={"Ocp-Apim-Subscription-Key": service.admin_key}, timeout=60).json()
    assert read["results"]["verifyReferences"][0]["qualityForRecognition"] in ("high", "medium")
    assert "authToken=" in link
    page.get_by_role("button", name="Cancel").click()  # stop waiting for a device
    page.wait_for_selector("#liveness-create:not([disabled])")


def test_inventory_before_and_after_an_erase(page, service, state):
    page.get_by_role("tab", name="Data inventory").click()
    page.wait_for_selector("#inventory-report")
    before = requests.get(f"{service.url}/inventory", headers={"Ocp-Apim-Subscription-Key": service.admin_key},
                          timeout=120).json()
    group = _container(before, state["group"])
    assert (group["persons"], group["faces"]) == (3, sum(len(photos(p)) - 1 for p in PEOPLE))
    assert "When held data goes away" in page.inner_text("#screen-inventory")
    shot(page, "inventory-before")
    page.get_by_label("personId").fill(state["obama"])
    page.get_by_role("button", name="Find everything held").click()
    page.wait_for_selector("#subject-result[data-holdings='1']")
    page.get_by_role("button", name="Erase everywhere").click()
    page.wait_for_selector("#subject-result[data-holdings='0']")
    page.wait_for_selector("#inventory-refresh:not([disabled])")
    after = requests.get(f"{service.url}/inventory", headers={"Ocp-Apim-Subscription-Key": service.admin_key},
                         timeout=120).json()
    assert _container(after, state["group"])["persons"] == 2
    assert_inventory_matches(after)
    shot(page, "inventory-after")


def test_every_control_is_labelled_and_reachable_by_keyboard(page):
    """After the screens above were built: every input and select has a label, every button a
    name, and the tabs move with the arrow keys."""
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, button')]
        .filter((node) => !(node.labels && node.labels.length) && !node.getAttribute('aria-label')
                          && !(node.tagName === 'BUTTON' && node.textContent.trim()))
        .map((node) => node.outerHTML)""")
    assert unlabelled == []
    page.get_by_role("tab", name="Detect").focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-galleries"
    assert page.get_by_role("tab", name="Galleries").get_attribute("aria-selected") == "true"


def test_recognizer_meets_no_write_control_and_no_inventory(browser, service, state):
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    try:
        sign_in(page, service.url, service.recognizer_key)
        assert page.locator("#tab-inventory, #screen-inventory").count() == 0
        for tab in ("Detect", "Galleries", "Liveness"):
            page.get_by_role("tab", name=tab).click()
            assert page.locator("[data-write], [data-admin]").count() == 0, tab
        for name in ("Create", "Train", "Enrol person", "Erase everywhere"):
            assert page.get_by_role("button", name=name, exact=True).count() == 0, name
        page.get_by_role("tab", name="Galleries").click()
        page.get_by_label("Gallery id (directory: leave empty)").fill(state["group"])
        page.get_by_role("button", name="Search this gallery").click()
        page.get_by_label("Photo to search with", exact=True).set_input_files(str(photos("kit_harington")[-1]))
        page.get_by_role("button", name="Identify").click()
        candidates = json.loads(page.wait_for_selector("#search-results[data-candidates]").get_attribute("data-candidates"))
        assert candidates and candidates[0]["name"] is None  # names need an admin key
        shot(page, "recognizer-phone")
        refused = page.evaluate("""async () => (await fetch('/inventory', {headers: {'Ocp-Apim-Subscription-Key':
                                   sessionStorage.getItem('faceStudioKey')}})).status""")
        assert refused == 403
    finally:
        page.close()


def test_easyauth_signs_in_without_a_key(browser, service, monkeypatch):
    import base64

    monkeypatch.setenv("FACE_TRUST_EASYAUTH", "true")  # the app runs in this process and reads it per request
    principal = {"auth_typ": "aad", "claims": [{"typ": "roles", "val": "Face.Admin"}]}
    page = browser.new_page()
    try:
        page.set_extra_http_headers({"X-MS-CLIENT-PRINCIPAL": base64.b64encode(json.dumps(principal).encode()).decode()})
        page.goto(f"{service.url}/studio")
        page.wait_for_selector("body[data-state=signed-in][data-role=admin]")
        assert page.evaluate("sessionStorage.getItem('faceStudioKey')") is None
    finally:
        page.close()


def test_the_key_never_travels_in_a_url(requested, service):
    assert requested
    assert all(service.admin_key not in url and service.recognizer_key not in url for url in requested)
    assert all(url.startswith(service.url) or url.startswith(("blob:", "data:")) for url in requested), \
        [url for url in requested if not url.startswith(service.url)]


def test_console_files_are_served_with_a_strict_policy(service):
    for path, kind in (("studio", "text/html"), ("studio/app.js", "text/javascript"), ("studio/api.js", "text/javascript"),
                       ("studio/studio.css", "text/css")):
        answer = requests.get(f"{service.url}/{path}", timeout=30)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith(kind)
        policy = answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "http" not in policy and "unsafe" not in policy
    assert requests.get(f"{service.url}/studio/../function_app.py", timeout=30).status_code == 404
    assert requests.get(f"{service.url}/studio/site.py", timeout=30).status_code == 404


def _container(inventory: dict, container_id: str) -> dict:
    galleries = next(source for source in inventory["sources"] if source["name"] == "galleries")
    return next(c for c in galleries["containers"] if c["containerId"] == container_id)
