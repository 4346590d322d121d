// Galleries: face lists, person groups (large ones too), and the PersonDirectory's persons and
// dynamic groups. List, create, delete; enrol a person from several photos at once with a
// progress bar per photo; train until the operation ends; identify or find similar with a
// photo, showing the candidates' names, confidences and their enrolled faces' metadata (no
// enrolled image exists to show: none is stored). Write controls carry data-write and are
// removed for a recognizer key.
import { pause, request } from "./api.js";
import { adminOnly, el, field, photoBody, photoPicker, runTask, select, showInfo, statusLine, table } from "./ui.js";
import { detectQuery } from "./detect.js";

const GA = "/face/v1.2";
const DIRECTORY = "/face/v1.1-preview.1";
const RECOGNITION_MODELS = ["recognition_04", "recognition_03", "recognition_02", "recognition_01"];
const KINDS = {
  persongroups: { label: "Person groups", idField: "personGroupId", persons: true, trained: true },
  largepersongroups: { label: "Large person groups", idField: "largePersonGroupId", persons: true, trained: true },
  facelists: { label: "Face lists", idField: "faceListId", persons: false, trained: false },
  largefacelists: { label: "Large face lists", idField: "largeFaceListId", persons: false, trained: true },
  directory: { label: "PersonDirectory persons", persons: true, trained: false, directory: true },
  dynamicpersongroups: { label: "Dynamic person groups", persons: false, trained: false, directory: true },
};
let role = "recognizer";

const containerPath = (kind, id) => `${GA}/${kind}/${encodeURIComponent(id)}`;

// ---------------------------------------------------------------- listing and creating

function listPanel(open, close) {
  const status = statusLine();
  const kind = select(Object.keys(KINDS), "persongroups");
  kind.id = "gallery-kind";
  const list = el("div", { id: "gallery-list" });
  const refresh = el("button", { type: "button", id: "gallery-refresh", text: "Refresh" });

  async function load(signal) {
    showInfo(status, "Loading…");
    const chosen = kind.value;
    let rows, columns;
    if (chosen === "directory") {
      rows = await request("GET", `${DIRECTORY}/persons?top=1000`, { signal });
      columns = [{ label: "Name", value: (row) => row.name }, { label: "personId", value: (row) => el("code", { text: row.personId }) }];
    } else if (chosen === "dynamicpersongroups") {
      rows = await request("GET", `${DIRECTORY}/dynamicpersongroups?top=1000`, { signal });
      columns = [{ label: "Name", value: (row) => row.name }, { label: "dynamicPersonGroupId", value: (row) => row.dynamicPersonGroupId }];
    } else {
      const top = chosen === "facelists" ? "" : "&top=1000";
      rows = await request("GET", `${GA}/${chosen}?returnRecognitionModel=true${top}`, { signal });
      columns = [{ label: "Name", value: (row) => row.name }, { label: "Id", value: (row) => row[KINDS[chosen].idField] },
        { label: "Recognition model", value: (row) => row.recognitionModel }];
    }
    const idOf = (row) => row.personId || row.dynamicPersonGroupId || row[KINDS[chosen].idField];
    columns.push({ label: "Actions", value: (row) => el("div", { class: "row" },
      chosen === "dynamicpersongroups" ? null : el("button", { type: "button", text: `Open ${row.name}`, onclick: () => open(chosen, idOf(row), row) }),
      el("button", { type: "button", class: "danger", "data-write": true, text: `Delete ${row.name}`,
        onclick: (event) => remove(event.target, chosen, idOf(row), row.name) })) });
    list.replaceChildren(table(columns, rows, KINDS[chosen].label));
    showInfo(status, `${rows.length} ${KINDS[chosen].label.toLowerCase()}.`);
  }

  async function remove(button, chosen, id, name) {
    if (!window.confirm(`Delete ${name} and every template it holds?`)) return;
    await runTask(button, status, async (signal) => {
      const path = chosen === "directory" ? `${DIRECTORY}/persons/${id}` : chosen === "dynamicpersongroups"
        ? `${DIRECTORY}/dynamicpersongroups/${id}` : containerPath(chosen, id);
      await request("DELETE", path, { signal });
      await load(signal);
    });
  }

  // The directory has no container to open: its enrolment and identify sit under its list.
  const directoryTools = el("div", { id: "directory-tools" });
  const showDirectoryTools = () => directoryTools.replaceChildren(...(kind.value === "directory"
    ? [adminOnly(enrolForm("directory", null, "recognition_04", status, () => runTask(refresh, status, load)), role),
      searchPanel("directory", null, "recognition_04")] : []));
  refresh.addEventListener("click", () => runTask(refresh, status, load));
  kind.addEventListener("change", () => { close(); showDirectoryTools(); runTask(refresh, status, load); });
  const panel = el("section", { "aria-labelledby": "gallery-list-title" },
    el("h2", { id: "gallery-list-title", text: "Galleries" }),
    el("div", { class: "row" }, field("Kind", kind), refresh), createForm(kind, status, () => runTask(refresh, status, load)),
    status, list, directoryTools);
  panel.load = () => runTask(refresh, status, load);
  return panel;
}

function createForm(kind, status, reload) {
  const id = el("input", { type: "text", pattern: "[a-z0-9_-]{1,64}", placeholder: "my-group" });
  const name = el("input", { type: "text", required: true });
  const model = select(RECOGNITION_MODELS, "recognition_04");
  const create = el("button", { type: "button", id: "gallery-create", text: "Create" });
  create.addEventListener("click", () => runTask(create, status, async (signal) => {
    const chosen = kind.value;
    if (chosen === "directory") {
      await request("POST", `${DIRECTORY}/persons`, { json: { name: name.value }, signal });
    } else if (chosen === "dynamicpersongroups") {
      await request("PUT", `${DIRECTORY}/dynamicpersongroups/${encodeURIComponent(id.value)}`, { json: { name: name.value }, signal });
    } else {
      await request("PUT", containerPath(chosen, id.value), { json: { name: name.value, recognitionModel: model.value }, signal });
    }
    showInfo(status, `Created ${name.value}.`);
    reload();
  }));
  return el("fieldset", { "data-write": true }, el("legend", { text: "Create" }),
    el("div", { class: "row" }, field("Id (not for directory persons)", id), field("Name", name), field("Recognition model", model), create));
}

// ---------------------------------------------------------------- one container

async function addPhotos(photos, pathOf, list, signal) {
  // One row per photo with its own progress bar; photos go one after the other.
  const rows = photos.map((photo) => {
    const bar = el("progress", { max: "100", value: "0", "aria-label": `Upload of ${photo.name}` });
    const state = el("span", { class: "small", text: "waiting" });
    list.append(el("li", {}, el("span", { text: photo.name }), bar, state));
    return { photo, bar, state };
  });
  let added = 0;
  for (const row of rows) {
    row.bar.removeAttribute("value");  // indeterminate while the face is detected and stored
    row.state.textContent = "uploading";
    try {
      await request("POST", pathOf(), { ...photoBody(row.photo), signal });
      row.bar.value = 100;
      row.state.textContent = "added";
      added += 1;
    } catch (error) {
      row.bar.value = 0;
      row.state.textContent = `${error.code || "failed"}: ${error.message}`;
      row.state.className = "small error";
      if (signal.aborted) throw error;
    }
  }
  return added;
}

function enrolForm(kind, id, model, status, reload) {
  const name = el("input", { type: "text", id: "enrol-name", required: true });
  let photos = [];
  const progress = el("ul", { class: "uploads", id: "enrol-progress" });
  const enrol = el("button", { type: "button", id: "enrol-run", text: "Enrol person", disabled: true });
  const picker = photoPicker("Photos of the person", (picked) => {
    photos = picked;
    enrol.disabled = false;
    showInfo(status, `${picked.length} photo${picked.length === 1 ? "" : "s"} ready.`);
  }, { multiple: true, url: false });
  enrol.addEventListener("click", () => runTask(enrol, status, async (signal) => {
    progress.replaceChildren();
    let personId;
    let faces;
    if (KINDS[kind].directory) {
      personId = (await request("POST", `${DIRECTORY}/persons`, { json: { name: name.value }, signal })).personId;
      faces = () => `${DIRECTORY}/persons/${personId}/recognitionModels/${model}/persistedfaces?detectionModel=detection_03`;
    } else {
      personId = (await request("POST", `${containerPath(kind, id)}/persons`, { json: { name: name.value }, signal })).personId;
      faces = () => `${containerPath(kind, id)}/persons/${personId}/persistedfaces?detectionModel=detection_03`;
    }
    const added = await addPhotos(photos, faces, progress, signal);
    showInfo(status, `Enrolled ${name.value} with ${added} of ${photos.length} photos.`);
    document.body.dataset.enrolled = String(Number(document.body.dataset.enrolled || 0) + 1);
    reload();
  }));
  return el("fieldset", { "data-write": true, class: "enrol" }, el("legend", { text: "Enrol a person" }),
    field("Name", name), picker, el("div", { class: "row" }, enrol), progress);
}

function addFacesForm(kind, id, status, reload) {
  const progress = el("ul", { class: "uploads" });
  const picker = photoPicker("Faces to add", (photos) => runTask(picker.input, status, async (signal) => {
    progress.replaceChildren();
    const added = await addPhotos(photos, () => `${containerPath(kind, id)}/persistedfaces?detectionModel=detection_03`, progress, signal);
    showInfo(status, `Added ${added} of ${photos.length} faces.`);
    reload();
  }), { multiple: true, url: false });
  return el("fieldset", { "data-write": true }, el("legend", { text: "Add faces" }), picker, progress);
}

function trainControl(kind, id, status) {
  const train = el("button", { type: "button", id: "train-run", text: "Train" });
  const bar = el("progress", { max: "100", value: "0", id: "train-progress", "aria-label": "Training progress" });
  const state = el("output", { id: "train-state", text: "" });
  train.addEventListener("click", () => runTask(train, status, async (signal) => {
    await request("POST", `${containerPath(kind, id)}/train`, { signal });
    bar.removeAttribute("value");
    const started = Date.now();
    for (;;) {
      const training = await request("GET", `${containerPath(kind, id)}/training`, { signal });
      state.textContent = `${training.status} (${Math.round((Date.now() - started) / 1000)} s)`;
      state.dataset.status = training.status;
      if (training.status === "succeeded" || training.status === "failed") {
        bar.value = 100;
        showInfo(status, training.status === "succeeded" ? "Training succeeded." : `Training failed: ${training.message}`);
        return;
      }
      await pause(500, signal);
    }
  }));
  return el("div", { class: "row", "data-write": true }, train, bar, state);
}

async function personDetails(kind, id, personIds, signal) {
  // Names and enrolled faces' metadata of candidate persons (admin only; ids for others).
  const details = {};
  for (const personId of personIds) {
    const path = KINDS[kind].directory ? `${DIRECTORY}/persons/${personId}` : `${containerPath(kind, id)}/persons/${personId}`;
    try {
      details[personId] = await request("GET", path, { signal });
    } catch (error) {
      if (signal.aborted) throw error;
      details[personId] = null;
    }
  }
  return details;
}

function searchPanel(kind, id, model) {
  const status = statusLine();
  const results = el("div", { id: "search-results" });
  const run = el("button", { type: "button", id: "search-run", text: KINDS[kind].persons ? "Identify" : "Find similar", disabled: true });
  const recognition = select(RECOGNITION_MODELS, model || "recognition_04");
  let photo = null;
  const picker = photoPicker("Photo to search with", ([picked]) => { photo = picked; run.disabled = false; });
  run.addEventListener("click", () => runTask(run, status, async (signal) => {
    showInfo(status, "Searching…");
    const query = detectQuery({ detectionModel: "detection_03", recognitionModel: recognition.value, landmarks: false, attributes: [], ttl: 120 });
    const faces = await request("POST", query, { ...photoBody(photo), signal });
    if (!faces.length) throw Object.assign(new Error("No face found in the photo."), { code: "InvalidImage", advice: "Use a photo with a face." });
    let rows;
    if (KINDS[kind].persons) {
      const target = KINDS[kind].directory ? { personIds: ["*"] } : { [KINDS[kind].idField]: id };
      const found = await request("POST", `${KINDS[kind].directory ? DIRECTORY : GA}/identify`,
        { json: { faceIds: [faces[0].faceId], maxNumOfCandidatesReturned: 5, confidenceThreshold: 0.3, ...target }, signal });
      const candidates = found[0].candidates;
      const details = await personDetails(kind, id, candidates.map((c) => c.personId), signal);
      rows = candidates.map((c) => ({ ...c, person: details[c.personId] }));
      results.replaceChildren(table([
        { label: "Name", value: (row) => (row.person ? row.person.name : "(needs an admin key)") },
        { label: "personId", value: (row) => el("code", { text: row.personId }) },
        { label: "Confidence", value: (row) => row.confidence.toFixed(3) },
        { label: "Enrolled faces (metadata; no image is stored)", value: (row) => (row.person && row.person.persistedFaceIds
          ? `${row.person.persistedFaceIds.length} templates: ${row.person.persistedFaceIds.map((f) => f.slice(0, 8)).join(", ")}` : "-") },
      ], rows, "Candidates"));
    } else {
      const target = kind === "facelists" ? { faceListId: id } : { largeFaceListId: id };
      rows = await request("POST", `${GA}/findsimilars`, { json: { faceId: faces[0].faceId, maxNumOfCandidatesReturned: 5, ...target }, signal });
      results.replaceChildren(table([
        { label: "persistedFaceId", value: (row) => el("code", { text: row.persistedFaceId }) },
        { label: "Confidence", value: (row) => row.confidence.toFixed(3) },
      ], rows, "Similar faces"));
    }
    results.dataset.candidates = JSON.stringify(rows.map((row) => ({ personId: row.personId, persistedFaceId: row.persistedFaceId,
      name: row.person ? row.person.name : null, confidence: row.confidence })));
    showInfo(status, `${rows.length} candidate${rows.length === 1 ? "" : "s"}.`);
  }));
  return el("section", { "aria-labelledby": "search-title" },
    el("h3", { id: "search-title", text: KINDS[kind].persons ? "Identify" : "Find similar" }),
    picker, field("Recognition model of the photo", recognition), el("div", { class: "row" }, run), status, results);
}

function containerPanel(kind, id, row) {
  const status = statusLine();
  const members = el("div", { id: "container-members" });
  const model = row.recognitionModel || "recognition_04";

  async function load(signal) {
    if (kind === "directory") {
      const faces = await request("GET", `${DIRECTORY}/persons/${id}/recognitionModels/${model}/persistedfaces`, { signal });
      members.replaceChildren(el("p", { text: `${faces.persistedFaceIds.length} faces of ${model}.` }));
    } else if (KINDS[kind].persons) {
      const persons = await request("GET", `${containerPath(kind, id)}/persons?top=1000`, { signal });
      members.replaceChildren(table([
        { label: "Name", value: (p) => p.name }, { label: "personId", value: (p) => el("code", { text: p.personId }) },
        { label: "Faces (templates)", value: (p) => p.persistedFaceIds.length },
        { label: "Actions", value: (p) => adminOnly(el("div", {}, el("button", { type: "button", class: "danger", "data-write": true,
          text: `Delete ${p.name}`, onclick: (event) => runTask(event.target, status, async (s) => {
            await request("DELETE", `${containerPath(kind, id)}/persons/${p.personId}`, { signal: s });
            await load(s);
          }) })), role) },
      ], persons, "Persons"));
    } else {
      const faces = kind === "facelists" ? (await request("GET", containerPath(kind, id), { signal })).persistedFaces
        : await request("GET", `${containerPath(kind, id)}/persistedfaces?top=1000`, { signal });
      members.replaceChildren(table([{ label: "persistedFaceId", value: (f) => el("code", { text: f.persistedFaceId }) },
        { label: "userData", value: (f) => f.userData }], faces, "Faces"));
    }
  }
  const reload = () => runTask(refresh, status, load);
  const refresh = el("button", { type: "button", text: "Refresh" });
  refresh.addEventListener("click", reload);
  const panel = el("section", { id: "container", "aria-labelledby": "container-title", "data-kind": kind, "data-id": id },
    el("h3", { id: "container-title", tabindex: "-1", text: `${KINDS[kind].label}: ${row.name}` }),
    el("div", { class: "row" }, refresh), status, members,
    KINDS[kind].persons && kind !== "directory" ? enrolForm(kind, id, model, status, reload) : null,
    !KINDS[kind].persons ? addFacesForm(kind, id, status, reload) : null,
    KINDS[kind].trained ? trainControl(kind, id, status) : null,
    kind === "directory" ? null : searchPanel(kind, id, model));
  reload();
  return adminOnly(panel, role);
}

// ---------------------------------------------------------------- the screen

function recognizerSearch(detail) {
  // A recognizer cannot list galleries: it names the one to search.
  const kind = select(Object.keys(KINDS).filter((key) => key !== "dynamicpersongroups"), "persongroups");
  const id = el("input", { type: "text", id: "search-target" });
  const open = el("button", { type: "button", text: "Search this gallery",
    onclick: () => detail.replaceChildren(searchPanel(kind.value, id.value, null)) });
  return el("section", { "aria-labelledby": "gallery-search-title" },
    el("h2", { id: "gallery-search-title", text: "Identify or find similar" }),
    el("p", { text: "This key may search galleries but not list or change them." }),
    el("div", { class: "row" }, field("Kind", kind), field("Gallery id (directory: leave empty)", id), open));
}

export function build(panel, callerRole) {
  role = callerRole;
  const detail = el("div", { id: "gallery-detail" });
  if (role !== "admin") {
    panel.append(recognizerSearch(detail), detail);
    return;
  }
  const list = listPanel((kind, id, row) => {
    detail.replaceChildren(containerPanel(kind, id, row));
    detail.querySelector("h3").focus();
  }, () => detail.replaceChildren());
  panel.append(list, detail);
  list.load();
}
