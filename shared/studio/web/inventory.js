// The data inventory for a privacy officer (admin only): what biometric data is held, per
// store and container, by recognition model; when what expires goes away (a timeline); and a
// subject-access request per personId with an erase that deletes it everywhere.
import { request } from "./api.js";
import { el, field, runTask, showInfo, statusLine, table, when } from "./ui.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_TIMELINE_ROWS = 12;

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text) node.textContent = text;
  return node;
}

// Everything that expires, as bars from now to its deletion time.
function timeline(inventory) {
  const now = new Date(inventory.generatedDateTime).getTime();
  const items = [];
  for (const source of inventory.sources) {
    if (source.name === "livenessSessions") {
      for (const session of source.sessions.filter((s) => !s.expired)) {
        items.push({ label: `Liveness session ${session.sessionId.slice(0, 8)}`, at: session.deletionDateTime });
      }
    } else if (source.lastExpiry) {
      items.push({ label: `${source.title}: the last one`, at: source.lastExpiry });
      if (source.nextExpiry && source.nextExpiry !== source.lastExpiry) items.push({ label: `${source.title}: the next one`, at: source.nextExpiry });
    }
  }
  items.sort((a, b) => a.at.localeCompare(b.at));
  const shown = items.slice(0, MAX_TIMELINE_ROWS);
  if (!shown.length) return el("p", { text: "Nothing held here expires: enrolled templates stay until they are deleted." });
  const end = Math.max(...shown.map((item) => new Date(item.at).getTime()), now + 1);
  const row = 26, left = 330, width = 640;
  const chart = svg("svg", { viewBox: `0 0 ${left + width + 20} ${row * shown.length + 30}`, role: "img",
    "aria-labelledby": "timeline-title", class: "timeline" });
  chart.append(svg("title", { id: "timeline-title" }, "Expiry timeline: when held data is deleted"));
  shown.forEach((item, index) => {
    const y = index * row + 18;
    const x = left + ((new Date(item.at).getTime() - now) / (end - now)) * width;
    chart.append(svg("text", { x: 4, y: y + 4, class: "label" }, item.label),
      svg("line", { x1: left, y1: y, x2: x, y2: y, class: "bar" }),
      svg("circle", { cx: x, cy: y, r: 5, class: "end" }),
      svg("text", { x: Math.min(x + 8, left + width - 150), y: y - 6, class: "when" }, when(item.at)));
  });
  chart.append(svg("text", { x: left, y: row * shown.length + 26, class: "when" }, `now (${when(inventory.generatedDateTime)})`));
  return el("figure", {}, chart, el("figcaption", { text: items.length > shown.length ? `The first ${shown.length} of ${items.length} expiries.` : "Every expiry." }));
}

function totals(byKey, keyLabel) {
  return table([{ label: keyLabel, value: (row) => row.key }, ...["containers", "persons", "personsWithFaces", "faces", "templates",
    "journalEntriesNotCompacted"].filter((name) => Object.values(byKey).some((entry) => name in entry))
    .map((name) => ({ label: name, value: (row) => row[name] }))], Object.entries(byKey).map(([key, entry]) => ({ key, ...entry })));
}

const RENDER = {
  galleries: (source) => [
    totals(source.byKind, "Kind"), totals(source.byRecognitionModel, "Recognition model"),
    table([{ label: "Kind", value: (c) => c.kind }, { label: "Id", value: (c) => c.containerId }, { label: "Name", value: (c) => c.name },
      { label: "Recognition model", value: (c) => c.recognitionModel }, { label: "Persons", value: (c) => c.persons },
      { label: "Faces", value: (c) => c.faces }, { label: "Templates", value: (c) => c.templates },
      { label: "Training", value: (c) => c.trainingStatus }], source.containers, "Every container")],
  directory: (source) => [
    el("p", { text: `${source.persons} persons, ${source.dynamicPersonGroups} dynamic person groups.` }),
    totals(source.byRecognitionModel, "Recognition model")],
  faceIds: (source) => [
    el("p", { text: `${source.live} live faceIds (a template each); ${source.expiredAwaitingSweep} expired, refused already and awaiting the sweep. The last expires ${when(source.lastExpiry)}.` }),
    totals(Object.fromEntries(Object.entries(source.byRecognitionModel).map(([model, count]) => [model, { templates: count }])), "Recognition model")],
  livenessSessions: (source) => [
    el("p", { text: `${source.count} sessions, ${source.sessionImages} encrypted session images, ${source.templates} verify templates.` }),
    table([{ label: "Session", value: (s) => el("code", { text: s.sessionId }) }, { label: "Kind", value: (s) => s.kind },
      { label: "Mode", value: (s) => s.mode }, { label: "Attempts", value: (s) => s.attempts },
      { label: "Created", value: (s) => when(s.createdDateTime) }, { label: "Deleted at", value: (s) => when(s.deletionDateTime) }],
    source.sessions, "Sessions, each deleted with all its data at the time shown")],
  postgresVectors: (source) => (source.engine !== "postgres" ? [el("p", { text: "The embedded search engine is in use: PostgreSQL holds nothing." })] : [
    table([{ label: "Container", value: (c) => c.container }, { label: "Vectors", value: (c) => c.vectors },
      { label: "Person centroids", value: (c) => c.centroids }],
      source.containers, "Copies of templates searched in PostgreSQL, and each person's mean template (what the index holds)")]),
  snapshots: (source) => [
    el("p", { text: `${source.blobs} encrypted blobs, ${(source.bytes / 1024).toFixed(1)} KiB in all.` }),
    table([{ label: "Owner", value: (o) => o.owner }, { label: "Blobs", value: (o) => o.blobs }, { label: "Bytes", value: (o) => o.bytes }],
      source.owners, "Copies of templates in trained indexes")],
};

// A source registered later (vectors in PostgreSQL, abuse-monitoring templates) still shows
// its scalar numbers until it gets its own rendering.
function generic(source) {
  const scalars = Object.entries(source).filter(([name, value]) => !["name", "title"].includes(name) && (typeof value !== "object" || value === null));
  return [table([{ label: "Measure", value: (row) => row[0] }, { label: "Value", value: (row) => row[1] }], scalars)];
}

function report(inventory) {
  return el("div", { id: "inventory-report" },
    el("p", { class: "headline", id: "inventory-total", text: `${inventory.templates} biometric templates held (as of ${when(inventory.generatedDateTime)}). No image is stored except a liveness session image its creator asked for.` }),
    el("h3", { text: "When held data goes away" }), timeline(inventory),
    inventory.sources.map((source) => el("section", { "aria-labelledby": `source-${source.name}`, "data-source": source.name },
      el("h3", { id: `source-${source.name}`, text: source.templates === undefined ? source.title : `${source.title}: ${source.templates} templates` }),
      ...(RENDER[source.name] || generic)(source))));
}

function holdingsView(holdings) {
  if (!holdings.length) return el("p", { text: "Nothing is held about this personId." });
  return table([
    { label: "Store", value: (h) => h.kind }, { label: "Container", value: (h) => h.containerId || "-" },
    { label: "Name", value: (h) => h.name }, { label: "userData", value: (h) => h.userData },
    { label: "Templates", value: (h) => h.templates },
    { label: "Faces (metadata)", value: (h) => (h.persistedFaces || []).map((f) => `${f.persistedFaceId.slice(0, 8)} (${f.recognitionModel})`).join(", ") || "-" },
  ], holdings, "Held about this person");
}

function subjectPanel(afterErase) {
  const status = statusLine();
  const personId = el("input", { type: "text", id: "subject-id", spellcheck: "false", pattern: "[0-9a-fA-F-]{36}" });
  const find = el("button", { type: "button", id: "subject-find", text: "Find everything held" });
  const erase = el("button", { type: "button", id: "subject-erase", class: "danger", text: "Erase everywhere", disabled: true });
  const found = el("div", { id: "subject-result" });
  find.addEventListener("click", () => runTask(find, status, async (signal) => {
    const answer = await request("GET", `/inventory/persons/${encodeURIComponent(personId.value.trim())}`, { signal });
    found.replaceChildren(holdingsView(answer.holdings), el("details", {}, el("summary", { text: "As JSON" }), el("pre", { text: JSON.stringify(answer, null, 2) })));
    found.dataset.holdings = String(answer.holdings.length);
    erase.disabled = !answer.holdings.length;
    showInfo(status, `${answer.holdings.length} holdings.`);
  }));
  erase.addEventListener("click", () => runTask(erase, status, async (signal) => {
    if (!window.confirm("Erase every template and record of this personId, in every container?")) return;
    const answer = await request("DELETE", `/inventory/persons/${encodeURIComponent(personId.value.trim())}`, { signal });
    found.replaceChildren(el("p", { text: `Erased from ${answer.erased.length} place(s); ${answer.remaining.length} holdings remain.` }),
      el("pre", { text: JSON.stringify(answer, null, 2) }));
    found.dataset.holdings = String(answer.remaining.length);
    erase.disabled = true;
    showInfo(status, "Erased.");
    afterErase();
  }));
  return el("section", { "aria-labelledby": "subject-title" },
    el("h3", { id: "subject-title", text: "Subject-access request" }),
    el("div", { class: "row" }, field("personId", personId), find, erase), status, found);
}

let reload = () => {};

export function build(panel) {
  const status = statusLine();
  const body = el("div", {});
  const refresh = el("button", { type: "button", id: "inventory-refresh", text: "Refresh" });
  reload = () => runTask(refresh, status, async (signal) => {
    showInfo(status, "Counting what the stores hold…");
    const inventory = await request("GET", "/inventory", { signal });
    body.replaceChildren(report(inventory));
    body.dataset.templates = String(inventory.templates);
    showInfo(status, "Counted from the stores just now.");
  });
  refresh.addEventListener("click", reload);
  panel.append(el("section", { "aria-labelledby": "inventory-title" },
    el("h2", { id: "inventory-title", text: "Data inventory" }),
    el("div", { class: "row" }, refresh), status, subjectPanel(() => reload()), body));
  reload();
}

export function refresh() {
  reload();
}
