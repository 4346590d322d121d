"""Gallery write operations to interrupt, each with the state it needs and how to tell that it
happened. The state is made in the test process straight through shared.galleries (fast:
templates are random unit vectors, nothing is detected); the operation itself goes to the
app over HTTP, exactly as a client sends it.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import requests

from reliability_support import AppProcess, person_photo
from shared.engine.types import Template
from shared.galleries import containers, persons, repository, snapshots
from shared.galleries.kinds import FACE_LIST, LARGE_PERSON_GROUP, PERSON_GROUP, ContainerKind
from shared.galleries.records import PersistedFace
from shared.galleries.training_status import SUCCEEDED
from shared.index.gallery import build_index


def template(seed: int) -> Template:
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return Template(vector / np.linalg.norm(vector), "dlib_resnet_v1", "1", "recognition_01")


@dataclass
class Gallery:
    """A container made for one scenario: its persons and their faces (or the list's faces)."""

    kind: ContainerKind
    container_id: str
    incarnation: str
    faces: dict[str, list[str]] = field(default_factory=dict)  # person id ("" in lists) -> face ids

    @property
    def path(self) -> str:
        return f"face/v1.2/{self.kind.route}/{self.container_id}"

    @property
    def person(self) -> str:
        return next(person for person in self.faces if person)

    def gone(self) -> bool:
        return repository.find_container(self.kind, self.container_id) is None


def make_gallery(kind: ContainerKind, people: int = 2, faces_each: int = 2, trained: bool = False) -> Gallery:
    container = containers.create(kind, "s-" + uuid.uuid4().hex[:12], {"name": "scenario"})
    gallery = Gallery(kind, container.container_id, container.incarnation)
    owners = [persons.create(kind, container.container_id, {"name": f"p{n}"}) for n in range(people)] \
        if kind.has_persons else [""]
    for owner in owners:
        gallery.faces[owner] = [_add_face(gallery, owner, seed) for seed in range(faces_each)]
    if trained:
        _publish_snapshot(gallery)
    return gallery


def _add_face(gallery: Gallery, person_id: str, seed: int) -> str:
    face = PersistedFace(str(uuid.uuid4()), person_id, None)
    if person_id:
        repository.insert_face(gallery.incarnation, face, template(seed))
        repository.update_person(gallery.incarnation, person_id, lambda p: (p.face_ids.append(face.face_id), p)[1])
    else:
        def count(container):
            container.face_count += 1
            return container
        repository.update_container(gallery.kind, gallery.container_id, count)
        repository.insert_face(gallery.incarnation, face, template(seed))
    return face.face_id


def _publish_snapshot(gallery: Gallery) -> None:
    """What a finished training leaves: a published snapshot blob of generation 1."""
    container = repository.get_container(gallery.kind, gallery.container_id)
    container.generation = 1
    ids = [(face, person) for person, faces in gallery.faces.items() for face in faces]
    vectors = np.stack([template(seed).vector for seed in range(len(ids))])
    index = build_index(vectors, np.arange(len(ids)), [f for f, _ in ids], [p or None for _, p in ids])
    blob = snapshots.write(container, index)

    def publish(current):
        current.generation, current.snapshot = 1, blob
        return current

    repository.update_container(gallery.kind, gallery.container_id, publish)


@dataclass(frozen=True)
class Operation:
    """One API write: the state it starts from, the request, and whether its effect is there
    (True), absent (False); a failed request may leave either, never anything in between."""

    name: str
    setup: Callable[[], Gallery]
    request: Callable[[Gallery], tuple[str, str, bytes, str]]  # method, path, body, content type
    applied: Callable[[Gallery, AppProcess, requests.Response], bool]


def send(app: AppProcess, call: tuple[str, str, bytes, str], timeout: float = 60) -> requests.Response:
    method, path, body, content_type = call
    return app.request(method, path, body, content_type, timeout)


def storage_requests(app: AppProcess, plan, operation: Operation) -> list[bytes]:
    """The storage request lines the operation sends when nothing fails (on its second run:
    the first may also create tables and counts rows on first use)."""
    for _ in range(2):
        gallery = operation.setup()
        plan.reset_log()
        response = send(app, operation.request(gallery))
        assert response.status_code < 300, (operation.name, response.text)
        seen = list(plan.requests)
        drop(gallery)
    return seen


def is_write(request_line: bytes) -> bool:
    return not request_line.startswith((b"GET ", b"HEAD "))


def drop(gallery: Gallery) -> None:
    """Delete a scenario's container, so the next audit has less to read."""
    if not gallery.gone():
        containers.delete(gallery.kind, gallery.container_id)


def _get(app: AppProcess, path: str) -> requests.Response:
    return requests.get(f"{app.url}/{path}", headers=app.headers(), timeout=30)


def _listed_faces(app: AppProcess, gallery: Gallery, person_id: str) -> list[str]:
    if person_id:
        return _get(app, f"{gallery.path}/persons/{person_id}").json()["persistedFaceIds"]
    return [face["persistedFaceId"] for face in _get(app, gallery.path).json()["persistedFaces"]]


def trained(gallery: Gallery, timeout: float = 30.0) -> bool:
    """Whether the training asked for succeeded, once the app's worker is done with it;
    False if none was recorded. A training recorded but never finishing fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        state = repository.get_container(gallery.kind, gallery.container_id).training
        if state is None or not state.in_progress:
            return state is not None and state.status == SUCCEEDED
        assert time.monotonic() < deadline, f"training of {gallery.container_id} stuck {state.status}"
        time.sleep(0.2)


_JSON, _OCTETS = "application/json", "application/octet-stream"

OPERATIONS = {operation.name: operation for operation in [
    Operation("create container",
              lambda: Gallery(PERSON_GROUP, "s-" + uuid.uuid4().hex[:12], ""),
              lambda g: ("PUT", g.path, b'{"name": "created"}', _JSON),
              lambda g, app, _: _get(app, g.path).status_code == 200),
    Operation("delete container",
              lambda: make_gallery(LARGE_PERSON_GROUP, trained=True),
              lambda g: ("DELETE", g.path, b"", _JSON),
              lambda g, app, _: _get(app, g.path).status_code == 404),
    Operation("create person",
              lambda: make_gallery(PERSON_GROUP, people=1, faces_each=1),
              lambda g: ("POST", f"{g.path}/persons", b'{"name": "new"}', _JSON),
              lambda g, app, response: len(_get(app, f"{g.path}/persons").json()) == 2),
    Operation("delete person",
              lambda: make_gallery(LARGE_PERSON_GROUP, trained=True),
              lambda g: ("DELETE", f"{g.path}/persons/{g.person}", b"", _JSON),
              lambda g, app, _: _get(app, f"{g.path}/persons/{g.person}").status_code == 404),
    Operation("add person face",
              lambda: make_gallery(PERSON_GROUP, people=1, faces_each=1),
              lambda g: ("POST", f"{g.path}/persons/{g.person}/persistedfaces", person_photo(), _OCTETS),
              lambda g, app, _: len(_listed_faces(app, g, g.person)) == 2),
    Operation("delete person face",
              lambda: make_gallery(LARGE_PERSON_GROUP, people=1, trained=True),
              lambda g: ("DELETE", f"{g.path}/persons/{g.person}/persistedfaces/{g.faces[g.person][0]}", b"", _JSON),
              lambda g, app, _: g.faces[g.person][0] not in _listed_faces(app, g, g.person)),
    Operation("add list face",
              lambda: make_gallery(FACE_LIST, faces_each=1),
              lambda g: ("POST", f"{g.path}/persistedfaces", person_photo(), _OCTETS),
              lambda g, app, _: len(_listed_faces(app, g, "")) == 2),
    Operation("train",
              lambda: make_gallery(LARGE_PERSON_GROUP),
              lambda g: ("POST", f"{g.path}/train", b"", _JSON),
              lambda g, app, _: trained(g)),
    Operation("delete list face",
              lambda: make_gallery(FACE_LIST, faces_each=2),
              lambda g: ("DELETE", f"{g.path}/persistedfaces/{g.faces[''][0]}", b"", _JSON),
              lambda g, app, _: g.faces[""][0] not in _listed_faces(app, g, "")),
]}
