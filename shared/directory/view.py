"""What one process knows of a recognition model's searchable faces, and the search over it.

State = the published snapshot (index, journal position S, persons removed shortly before S)
plus every journal entry after S that this process has read (the delta): added faces with
their templates, removed faces and removed persons. Every query first reads the journal head
(a point read), and when it shows new commits, the journal after its watermark (one range
query that also returns the head), so a change committed anywhere before the query began is
in the answer:

- a new snapshot (head.snapshot_seq > S) replaces the old one; delta entries up to it are
  dropped, since the snapshot holds them;
- new entries must continue the watermark without a gap; entries a compaction already removed
  are all at or below the head's snapshot position (the head is read after them);
- a removed face or person is excluded from both the snapshot and the delta, whatever the
  order of its entries, so a late add of a removed person stays hidden.

The delta is searched exactly. Its vectors live in an append-only buffer: a query works on
the rows that existed when it took its state, while a refresh appends after them.
"""
from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from shared.directory import artifacts, journal
from shared.directory.journal import ADD, REMOVE_FACE, Entry, Head
from shared.errors import ServiceUnavailable
from shared.index.gallery import EmbedderInfo, GalleryIndex, PreparedExclusions
from shared.index.labels import Exclusions


_ATTEMPTS = 3


class _Buffer:
    """Append-only rows of added faces; readers use a prefix of a known length."""

    def __init__(self, dims: int = 0, capacity: int = 1024):
        self.vectors = np.empty((capacity, dims), np.float32)
        self.squared = np.empty(capacity, np.float32)
        self.face_ids: list[str] = []
        self.person_ids: list[str] = []
        self.seqs: list[int] = []
        self.rows_of_person: dict[str, list[int]] = {}
        self.embedder: EmbedderInfo | None = None

    def __len__(self) -> int:
        return len(self.face_ids)

    def append(self, entry: Entry) -> "_Buffer":
        """Append in place, or into a bigger copy (returned) when full or of other dimensions."""
        buffer, vector = self, np.asarray(entry.template.vector, np.float32)
        if self.vectors.shape[1] != vector.size:
            if len(self):
                raise ValueError(f"templates of {self.vectors.shape[1]} and {vector.size} dimensions in one model")
            buffer = _Buffer(vector.size)
        elif len(self) == len(self.vectors):
            buffer = self._grown()
        row = len(buffer)
        buffer.vectors[row] = vector
        buffer.squared[row] = float(vector @ vector)
        buffer.seqs.append(entry.seq)
        buffer.person_ids.append(entry.person_id)
        buffer.rows_of_person.setdefault(entry.person_id, []).append(row)
        buffer.embedder = buffer.embedder or EmbedderInfo(entry.template.embedder, entry.template.embedder_version)
        buffer.face_ids.append(entry.face_id)  # last: len() now counts the row
        return buffer

    def _grown(self) -> "_Buffer":
        return self._copy(range(len(self)), 2 * len(self.vectors))

    def after(self, seq: int) -> "_Buffer":
        """A new buffer with the rows committed after ``seq``."""
        return self._copy([row for row in range(len(self)) if self.seqs[row] > seq], len(self.vectors))

    def _copy(self, rows, capacity: int) -> "_Buffer":
        copy = _Buffer(self.vectors.shape[1], max(1024, capacity))
        rows = np.asarray(rows, np.int64)
        copy.vectors[: len(rows)], copy.squared[: len(rows)] = self.vectors[rows], self.squared[rows]
        copy.seqs = [self.seqs[row] for row in rows]
        copy.person_ids = [self.person_ids[row] for row in rows]
        for position, person in enumerate(copy.person_ids):
            copy.rows_of_person.setdefault(person, []).append(position)
        copy.embedder = self.embedder
        copy.face_ids = [self.face_ids[row] for row in rows]
        return copy


@dataclass(frozen=True)
class State:
    snapshot_seq: int
    index: GalleryIndex | None
    watermark: int  # every entry up to here is applied
    buffer: _Buffer
    count: int  # rows of ``buffer`` this state covers
    removed_faces: Mapping[str, int]  # face id -> journal position of its removal
    removed_persons: Mapping[str, int]  # removed in the delta, or shortly before the snapshot

    @property
    def embedder(self) -> EmbedderInfo | None:
        """What made this model's templates (None while it has none)."""
        if self.index is not None and self.index.count:
            return self.index.embedder
        return self.buffer.embedder if self.count else None

    def search_persons(self, vector: np.ndarray, k: int, allow: Collection[str] | None) -> list[tuple[str, float]]:
        """The ``k`` nearest persons (distance of each one's nearest face), restricted to ``allow``
        when given: the snapshot's top k merged with the delta's, which is exact."""
        return self.search_each([vector], k, allow)[0]

    def search_each(self, vectors: list[np.ndarray], k: int,
                    allow: Collection[str] | None) -> list[list[tuple[str, float]]]:
        """``search_persons`` for each vector, with ``allow`` resolved once for all of them."""
        exclude = None
        if self.index is not None and self.index.count:
            exclude = self._removals if allow is None else \
                self.index.prepare(Exclusions(self.removed_faces.keys(), self.removed_persons.keys(), allow))
        rows = self._candidate_rows(allow)
        return [self._nearest(vector, k, exclude, rows) for vector in vectors]

    def _nearest(self, vector: np.ndarray, k: int, exclude: PreparedExclusions | None,
                 rows: np.ndarray | None) -> list[tuple[str, float]]:
        best: dict[str, float] = {}
        if exclude is not None:
            for match in self.index.search_persons(vector, k=k, exclude=exclude)[0]:
                best[match.person_id] = match.distance
        for person, distance in self._delta_persons(vector, k, rows).items():
            best[person] = min(distance, best.get(person, distance))
        return sorted(best.items(), key=lambda item: item[1])[:k]

    @cached_property
    def _removals(self) -> PreparedExclusions:
        """The removals, looked up in the snapshot once per state rather than per query."""
        return self.index.prepare(Exclusions(self.removed_faces.keys(), self.removed_persons.keys()))

    def _delta_persons(self, vector: np.ndarray, k: int, rows: np.ndarray | None) -> dict[str, float]:
        """The delta's k nearest persons among ``rows`` (None: all rows)."""
        if rows is not None and not len(rows):
            return {}
        buffer, query = self.buffer, np.asarray(vector, np.float32)
        matrix = buffer.vectors[: self.count] if rows is None else buffer.vectors[rows]
        squared = buffer.squared[: self.count] if rows is None else buffer.squared[rows]
        # |x - q|^2 = |x|^2 - 2 x.q + |q|^2: one matrix-vector product; winners recomputed below.
        scores = squared - 2.0 * (matrix @ query)
        found: dict[str, int] = {}
        for position in _nearest_first(scores, k):
            row = int(position if rows is None else rows[position])
            person = buffer.person_ids[row]
            if person in found or person in self.removed_persons or buffer.face_ids[row] in self.removed_faces:
                continue
            found[person] = row
            if len(found) == k:
                break
        return {person: float(np.linalg.norm(buffer.vectors[row] - query)) for person, row in found.items()}

    def _candidate_rows(self, allow: Collection[str] | None) -> np.ndarray | None:
        """Rows of the allowed persons (None: all rows), from the smaller of the two sides."""
        if allow is None:
            return None if self.count else np.empty(0, np.int64)
        people = self.buffer.rows_of_person
        persons = [p for p in allow if p in people] if len(allow) < len(people) else \
            [p for p in list(people) if p in allow]  # list(): one step, while a refresh may add persons
        rows = [row for person in persons for row in people[person] if row < self.count]
        return np.asarray(sorted(rows), np.int64)


def _nearest_first(scores: np.ndarray, k: int):
    """Positions in ascending score order: a partial sort first, everything only if needed."""
    wanted = min(len(scores), max(64, 8 * k))
    first = np.argpartition(scores, wanted - 1)[:wanted] if wanted < len(scores) else np.arange(len(scores))
    first = first[np.argsort(scores[first], kind="stable")]
    yield from first
    if wanted < len(scores):
        rest = np.setdiff1d(np.argsort(scores, kind="stable"), first, assume_unique=True)
        yield from rest[np.argsort(scores[rest], kind="stable")]


class ModelView:
    """One recognition model's state in this process, refreshed from the journal."""

    def __init__(self, model: str):
        self.model = model
        self._lock = threading.Lock()
        self._state: State | None = None

    def current(self) -> State:
        """The state including every change committed before this call: a point read of the head
        when nothing changed, else one range query for the new entries (and the head)."""
        for _ in range(_ATTEMPTS):
            try:
                state = self._state or self._initial()
                head = journal.read_head(self.model)
                if head.seq == state.watermark and head.snapshot_seq == state.snapshot_seq:
                    return state
                entries, head = journal.read_after(self.model, state.watermark)
                return self._advance(entries, head)
            except FileNotFoundError:
                continue  # a newer compaction removed the snapshot just named: read the head again
        raise ServiceUnavailable("The directory's snapshot changed during the read; please retry.", 1)

    def _initial(self) -> State:
        head = journal.read_head(self.model)
        index, removed = _published(self.model, head)
        state = State(head.snapshot_seq, index, head.snapshot_seq, _Buffer(), 0,
                      {}, dict.fromkeys(removed, head.snapshot_seq))
        with self._lock:
            if self._state is None:
                self._state = state
            return self._state

    def _advance(self, entries: list[Entry], head: Head) -> State:
        published = None
        if head.snapshot_seq > self._state.snapshot_seq:
            published = _published(self.model, head)  # outside the lock: loading takes a while
        with self._lock:
            state = self._state
            if published is not None and head.snapshot_seq > state.snapshot_seq:
                state = _rebased(state, head, *published)
            fresh = [entry for entry in entries if entry.seq > state.watermark]
            if fresh and fresh[0].seq != state.watermark + 1:
                # Entries are committed without gaps and removed only once a snapshot holds them.
                raise ServiceUnavailable("The directory's journal changed during the read; please retry.", 1)
            self._state = state = _applied(state, _contiguous(fresh, state.watermark))
            return state


def _published(model: str, head: Head) -> tuple[GalleryIndex | None, dict[str, str]]:
    index = artifacts.load_index(model, head.snapshot) if head.snapshot else None  # none while empty
    return index, artifacts.load_removed(head.removed) if head.removed else {}


def _rebased(state: State, head: Head, index: GalleryIndex | None, removed: dict[str, str]) -> State:
    """The state on a newer snapshot: delta rows and removals it holds are dropped, except the
    persons removed shortly before it (``removed``), whose late adds may still follow."""
    position = head.snapshot_seq
    buffer = state.buffer.after(position)
    persons = {**_after(state.removed_persons, position), **dict.fromkeys(removed, position)}
    return State(position, index, max(state.watermark, position), buffer, len(buffer),
                 _after(state.removed_faces, position), persons)


def _after(removals: Mapping[str, int], position: int) -> dict[str, int]:
    return {item: seq for item, seq in removals.items() if seq > position}


def _contiguous(entries: list[Entry], watermark: int) -> list[Entry]:
    """The entries up to the first gap in commit numbers (a commit's entries come together)."""
    run, last = [], watermark
    for entry in entries:
        if entry.seq not in (last, last + 1):
            break  # committed after the range was read past its position: the next query gets it
        run.append(entry)
        last = entry.seq
    return run


def _applied(state: State, entries: list[Entry]) -> State:
    if not entries:
        return state
    buffer, faces, persons = state.buffer, dict(state.removed_faces), dict(state.removed_persons)
    for entry in entries:
        if entry.kind == ADD:
            buffer = buffer.append(entry)
        elif entry.kind == REMOVE_FACE:
            faces[entry.face_id] = entry.seq
        else:
            persons[entry.person_id] = entry.seq
    return State(state.snapshot_seq, state.index, entries[-1].seq, buffer, len(buffer),
                 faces, persons)


_views: dict[str, ModelView] = {}
_views_lock = threading.Lock()


def view(model: str) -> ModelView:
    with _views_lock:
        return _views.setdefault(model, ModelView(model))
