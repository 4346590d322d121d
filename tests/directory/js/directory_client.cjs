// Drives every PersonDirectory route of the service with the official JS REST client
// (@azure-rest/ai-vision-face 1.0.0-beta.1, v1.1-preview.1): long-running operations polled to
// the end with the client's own poller, paging, and errors. Run by tests/directory/test_js_client.py:
//
//     node directory_client.cjs <config.json>
//
// config: {endpoint, adminKey, recognizerKey, persons: {name: [photo paths]}, photoUrl, groupPrefix}.
// Prints one JSON line: {"routes": ["METHOD /path/template", ...]} after every check passed; any
// failed check throws (exit code 1, message on stderr).
"use strict";

const fs = require("node:fs");
const assert = require("node:assert/strict");
const Face = require("face-rest-v1-1-preview");

const createClient = Face.default;
const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const options = { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } };
const client = createClient(config.endpoint, { key: config.adminKey }, options);
const recognizer = createClient(config.endpoint, { key: config.recognizerKey }, options);
const MODEL = "recognition_04";
const routes = new Set();

function call(template, ...args) {
  const methods = client.path(template, ...args);
  return new Proxy(methods, {
    get(target, method) {
      routes.add(`${method.toUpperCase()} ${template}`);
      return target[method].bind(target);
    },
  });
}

function expectStatus(response, status, what) {
  assert.equal(String(response.status), String(status), `${what}: ${response.status} ${JSON.stringify(response.body)}`);
  return response;
}

function expectError(response, status, code, what) {
  expectStatus(response, status, what);
  assert.equal(response.body.error.code, code, `${what}: ${JSON.stringify(response.body)}`);
  assert.equal(response.headers["x-ms-error-code"], code, what);
}

// The client's own poller, to the end; returns the final operation state.
async function settle(initial, what) {
  expectStatus(initial, 202, what);
  const operationUrl = initial.headers["operation-location"];
  assert.match(operationUrl, /\/face\/v1\.1-preview\.1\/operations\/[0-9a-f-]{36}$/, what);
  const poller = await Face.getLongRunningPoller(client, initial, { intervalInMs: 20 });
  await poller.pollUntilDone();
  const state = poller.getOperationState();
  const operationId = operationUrl.split("/").pop();
  const status = expectStatus(await call("/operations/{operationId}", operationId).get(), 200, what).body;
  assert.equal(status.operationId, operationId, what);
  assert.ok(status.createdTime && status.lastActionTime, what);
  return { state: state.status, status };
}

async function detect(path) {
  const response = await client.path("/detect").post({
    contentType: "application/octet-stream",
    queryParameters: { detectionModel: "detection_03", recognitionModel: MODEL, returnFaceId: true },
    body: fs.readFileSync(path),
  });
  return expectStatus(response, 200, `detect ${path}`).body[0].faceId;
}

async function pagedIds(template, args, field, key) {
  const seen = [];
  let start = "";
  for (;;) {
    const page = expectStatus(await call(template, ...args).get({ queryParameters: { start, top: 1 } }), 200,
      `page of ${template}`).body;
    const items = field ? page[field] : page.map((item) => item[key]);
    assert.ok(items.length <= 1, `top=1 returned ${items.length}`);
    if (items.length === 0) return seen;
    seen.push(items[0]);
    start = items[0];
  }
}

async function main() {
  const names = Object.keys(config.persons);
  const [first, second] = names;

  // Persons: create (202 + personId + Operation-Location + Location), read, update, list.
  const personIds = {};
  for (const name of names) {
    const created = await call("/persons").post({ body: { name, userData: `user ${name}` } });
    assert.match(created.body.personId, /^[0-9a-f-]{36}$/);
    assert.ok(created.headers.location.endsWith(`/persons/${created.body.personId}`));
    const { state } = await settle(created, `create ${name}`);
    assert.equal(state, "succeeded");
    personIds[name] = created.body.personId;
  }
  const person = expectStatus(await call("/persons/{personId}", personIds[first]).get(), 200, "get person").body;
  assert.deepEqual(person, { personId: personIds[first], name: first, userData: `user ${first}` });
  expectStatus(await call("/persons/{personId}", personIds[first]).patch({ body: { name: "renamed" } }), 200,
    "update person");
  assert.equal((await call("/persons/{personId}", personIds[first]).get()).body.name, "renamed");
  const listed = await pagedIds("/persons", [], null, "personId");
  assert.deepEqual(listed, [...listed].sort(), "persons listed in id order");
  for (const id of Object.values(personIds)) assert.ok(listed.includes(id), "every person listed");

  // Faces: add from bytes (with targetFace, detectionModel, userData) and from a URL; list, get, update.
  const faceIds = {};
  for (const name of names) {
    faceIds[name] = [];
    for (const path of config.persons[name].slice(0, -1)) {
      const added = await call("/persons/{personId}/recognitionModels/{recognitionModel}/persistedfaces",
        personIds[name], MODEL).post({
        contentType: "application/octet-stream",
        queryParameters: { detectionModel: "detection_03", userData: `face of ${name}` },
        body: fs.readFileSync(path),
      });
      assert.match(added.body.persistedFaceId, /^[0-9a-f-]{36}$/);
      assert.equal((await settle(added, `add face ${path}`)).state, "succeeded");
      faceIds[name].push(added.body.persistedFaceId);
    }
  }
  const fromUrl = await call("/persons/{personId}/recognitionModels/{recognitionModel}/persistedfaces",
    personIds[second], MODEL).post({ body: { url: config.photoUrl }, queryParameters: { detectionModel: "detection_03" } });
  assert.equal((await settle(fromUrl, "add face from url")).state, "succeeded");
  faceIds[second].push(fromUrl.body.persistedFaceId);
  const faceList = expectStatus(await call("/persons/{personId}/recognitionModels/{recognitionModel}/persistedfaces",
    personIds[second], MODEL).get(), 200, "list faces").body;
  assert.deepEqual(faceList, { personId: personIds[second], persistedFaceIds: faceIds[second] });
  const faceUrl = "/persons/{personId}/recognitionModels/{recognitionModel}/persistedfaces/{persistedFaceId}";
  const oneFace = [personIds[first], MODEL, faceIds[first][0]];
  assert.deepEqual(expectStatus(await call(faceUrl, ...oneFace).get(), 200, "get face").body,
    { persistedFaceId: faceIds[first][0], userData: `face of ${first}` });
  expectStatus(await call(faceUrl, ...oneFace).patch({ body: { userData: "changed" } }), 200, "update face");
  assert.equal((await call(faceUrl, ...oneFace).get()).body.userData, "changed");

  // Identify and verify without training: the whole directory, a personIds list.
  const queries = {};
  for (const name of names) queries[name] = await detect(config.persons[name].at(-1));
  // (The directory may hold other tests' persons with the same photos: ours is among the top ten.)
  for (const name of names) {
    const all = expectStatus(await client.path("/identify").post({ body: { faceIds: [queries[name]], personIds: ["*"],
      maxNumOfCandidatesReturned: 10 } }), 200, `identify ${name}`).body;
    assert.ok(all[0].candidates.some((c) => c.personId === personIds[name]), `identify ${name} in the directory`);
    const ours = (await client.path("/identify").post({ body: { faceIds: [queries[name]],
      personIds: Object.values(personIds) } })).body;
    assert.equal(ours[0].candidates[0].personId, personIds[name], `identify ${name} among the listed persons`);
  }
  const listedOnly = (await client.path("/identify").post({
    body: { faceIds: [queries[first]], personIds: [personIds[second]] } })).body;
  assert.ok(listedOnly[0].candidates.every((c) => c.personId === personIds[second]), "personIds restrict");
  const verified = (await recognizer.path("/verify").post({ body: { faceId: queries[first], personId: personIds[first] } })).body;
  assert.equal(verified.isIdentical, true);

  // Dynamic person groups: create (200 without persons, 202 with), get, list, update, members, references.
  const groupA = `${config.groupPrefix}-a`;
  const groupB = `${config.groupPrefix}-b`;
  expectStatus(await call("/dynamicpersongroups/{dynamicPersonGroupId}", groupA).put({ body: { name: "a" } }), 200,
    "create empty group");
  const withPersons = await call("/dynamicpersongroups/{dynamicPersonGroupId}", groupB).put({
    body: { name: "b", userData: "group b", addPersonIds: [personIds[first]] } });
  assert.equal((await settle(withPersons, "create group with persons")).state, "succeeded");
  assert.deepEqual(expectStatus(await call("/dynamicpersongroups/{dynamicPersonGroupId}", groupB).get(), 200, "get group").body,
    { dynamicPersonGroupId: groupB, name: "b", userData: "group b" });
  const groups = await pagedIds("/dynamicpersongroups", [], null, "dynamicPersonGroupId");
  assert.ok(groups.includes(groupA) && groups.includes(groupB), "groups listed");
  expectStatus(await call("/dynamicpersongroups/{dynamicPersonGroupId}", groupA).patch({ body: { name: "a2" } }), 200,
    "rename group");
  const changed = await call("/dynamicpersongroups/{dynamicPersonGroupId}", groupB).patch({
    body: { addPersonIds: [personIds[second], ...names.slice(2).map((n) => personIds[n])], removePersonIds: [personIds[first]] } });
  assert.equal((await settle(changed, "update group members")).state, "succeeded");
  const members = await pagedIds("/dynamicpersongroups/{dynamicPersonGroupId}/persons", [groupB], "personIds");
  assert.deepEqual(members, names.slice(1).map((n) => personIds[n]).sort(), "members after the update");
  const refs = expectStatus(await call("/persons/{personId}/dynamicPersonGroupReferences", personIds[second]).get(),
    200, "references").body;
  assert.deepEqual(refs.dynamicPersonGroupIds, [groupB]);
  assert.deepEqual((await call("/persons/{personId}/dynamicPersonGroupReferences", personIds[first]).get())
    .body.dynamicPersonGroupIds, [], "removed member has no reference");
  const inGroup = (await client.path("/identify").post({ body: { faceIds: [queries[first]], dynamicPersonGroupId: groupB } })).body;
  assert.ok(inGroup[0].candidates.every((c) => c.personId !== personIds[first]), "a removed member is never returned");
  const ofSecond = (await client.path("/identify").post({ body: { faceIds: [queries[second]], dynamicPersonGroupId: groupB } })).body;
  assert.equal(ofSecond[0].candidates[0].personId, personIds[second]);
  const missing = "00000000-0000-4000-8000-000000000000";
  const failing = await call("/dynamicpersongroups/{dynamicPersonGroupId}", `${config.groupPrefix}-c`).put({
    body: { name: "c", addPersonIds: [personIds[first], missing] } });
  const failed = await settle(failing, "group with a missing person");
  assert.equal(failed.state, "failed");
  assert.ok(failed.status.message.includes(missing), failed.status.message);
  expectError(await call("/dynamicpersongroups/{dynamicPersonGroupId}", `${config.groupPrefix}-c`).get(), 404,
    "DynamicPersonGroupNotFound", "failed create leaves no group");

  // Errors.
  expectError(await call("/persons/{personId}", missing).get(), 404, "PersonNotFound", "unknown person");
  expectError(await client.path("/persons").post({ body: { userData: "no name" } }), 400, "BadArgument", "no name");
  expectError(await client.path("/persons/{personId}/recognitionModels/{recognitionModel}/persistedfaces",
    personIds[first], "recognition_09").get(), 400, "BadArgument", "unknown model");
  expectError(await client.path("/identify").post({ body: { faceIds: [queries[first]], personIds: ["*"],
    dynamicPersonGroupId: groupB } }), 400, "BadArgument", "two targets");
  expectError(await client.path("/identify").post({ body: { faceIds: [queries[first]],
    personIds: Array(31).fill(personIds[first]) } }), 400, "BadArgument", "31 personIds");
  expectError(await client.path("/operations/{operationId}", missing).get(), 404, "OperationNotFound", "unknown operation");
  expectError(await recognizer.path("/persons").post({ body: { name: "x" } }), 403, "PermissionDenied", "recognizer writes");
  expectError(await call("/dynamicpersongroups/{dynamicPersonGroupId}", groupA).put({ body: { name: "again" } }), 409,
    "DynamicPersonGroupExists", "group exists");

  // Deletes: 202 + operation, and gone at once.
  const faceGone = await call(faceUrl, ...oneFace).delete();
  assert.equal((await settle(faceGone, "delete face")).state, "succeeded");
  expectError(await call(faceUrl, ...oneFace).get(), 404, "PersistedFaceNotFound", "deleted face");
  const personGone = await call("/persons/{personId}", personIds[second]).delete();
  assert.equal((await settle(personGone, "delete person")).state, "succeeded");
  const afterDelete = (await client.path("/identify").post({ body: { faceIds: [queries[second]], personIds: ["*"] } })).body;
  assert.ok(afterDelete[0].candidates.every((c) => c.personId !== personIds[second]), "a deleted person is never returned");
  for (const group of [groupA, groupB]) {
    const groupGone = await call("/dynamicpersongroups/{dynamicPersonGroupId}", group).delete();
    assert.equal((await settle(groupGone, "delete group")).state, "succeeded");
  }
  expectError(await call("/dynamicpersongroups/{dynamicPersonGroupId}/persons", groupB).get(), 404,
    "DynamicPersonGroupNotFound", "deleted group");
  for (const name of names.filter((n) => n !== second)) {
    assert.equal((await settle(await call("/persons/{personId}", personIds[name]).delete(), "cleanup")).state, "succeeded");
  }

  // Gallery training is an operation too: the client's poller follows it to the end.
  const group = `${config.groupPrefix}-lpg`;
  expectStatus(await client.path("/largepersongroups/{largePersonGroupId}", group).put({
    body: { name: "lpg", recognitionModel: MODEL } }), 200, "create lpg");
  const lpgPerson = (await client.path("/largepersongroups/{largePersonGroupId}/persons", group).post({
    body: { name: first } })).body.personId;
  expectStatus(await client.path("/largepersongroups/{largePersonGroupId}/persons/{personId}/persistedfaces", group,
    lpgPerson).post({ contentType: "application/octet-stream", queryParameters: { detectionModel: "detection_03" },
    body: fs.readFileSync(config.persons[first][0]) }), 200, "lpg face");
  const trained = await settle(await client.path("/largepersongroups/{largePersonGroupId}/train", group).post(), "train");
  assert.equal(trained.state, "succeeded");
  expectStatus(await client.path("/largepersongroups/{largePersonGroupId}", group).delete(), 200, "delete lpg");

  console.log(JSON.stringify({ routes: [...routes].sort() }));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
