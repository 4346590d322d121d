// The console's shell: sign-in (a subscription key in this tab's sessionStorage, or EasyAuth
// where the app is behind it), the caller's role, and the tabs of the four screens.
import { ApiError, request, saveKey, savedKey } from "./api.js";
import { showError } from "./ui.js";
import * as detect from "./detect.js";
import * as galleries from "./galleries.js";
import * as liveness from "./liveness.js";
import * as inventory from "./inventory.js";

const SCREENS = { detect, galleries, liveness, inventory };
const built = new Set();
let role = null;

function show(name) {
  if (!SCREENS[name] || !document.getElementById(`tab-${name}`)) name = "detect";
  for (const key of Object.keys(SCREENS)) {
    const tab = document.getElementById(`tab-${key}`);
    const panel = document.getElementById(`screen-${key}`);
    if (!tab || !panel) continue;
    const active = key === name;
    tab.setAttribute("aria-selected", String(active));
    tab.tabIndex = active ? 0 : -1;
    panel.hidden = !active;
  }
  const panel = document.getElementById(`screen-${name}`);
  if (!built.has(name)) {
    built.add(name);
    SCREENS[name].build(panel, role);
  } else if (SCREENS[name].refresh) {
    SCREENS[name].refresh();
  }
  document.body.dataset.screen = name;
}

function wireTabs() {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => show(tab.id.slice(4)));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = tabs[(index + step + tabs.length) % tabs.length];
      next.focus();
      show(next.id.slice(4));
    });
  });
}

async function signIn() {
  const me = await request("GET", "/studio/me");
  role = me.role;
  if (role !== "admin") document.querySelectorAll("[data-admin]").forEach((node) => node.remove());
  document.getElementById("who").textContent = `Signed in as ${role === "admin" ? "an admin" : "a recognizer"}`;
  document.getElementById("sign-in").hidden = true;
  document.getElementById("tabs").hidden = false;
  document.getElementById("sign-out").hidden = false;
  document.body.dataset.state = "signed-in";
  document.body.dataset.role = role;
  show("detect");
}

async function start() {
  wireTabs();
  const form = document.getElementById("sign-in-form");
  const error = document.getElementById("sign-in-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    saveKey(form.key.value.trim());
    form.key.value = "";
    try {
      await signIn();
    } catch (failure) {
      saveKey("");
      error.hidden = false;
      showError(error, failure);
    }
  });
  document.getElementById("sign-out").addEventListener("click", () => {
    saveKey("");
    window.location.reload();
  });
  // A key kept in this tab, or EasyAuth's session cookie: either may already prove a role.
  try {
    await signIn();
  } catch (failure) {
    if (savedKey() && failure instanceof ApiError && failure.status === 401) saveKey("");
    document.getElementById("key").focus();
  }
}

start();
