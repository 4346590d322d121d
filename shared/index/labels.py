"""Row metadata of a gallery index: caller labels, face ids and person ids per row.

Rows are the index's internal positions 0..n-1. Ids are kept as fixed-width byte arrays
rather than Python strings: at 1M faces a list of UUID strings costs ~100 MB and a dict
from id to row ~150 MB more; the arrays cost ~40 MB and look ids up by binary search.
Person ids are stored once (sorted) with an int32 code per row, -1 for faces without a
person (LargeFaceList), so grouping by person is an integer operation.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Exclusions:
    """Ids that must never be returned: deleted since the index was built, and, with
    ``only_person_ids``, every face outside those persons (a dynamic group, a personIds
    list). An empty ``only_person_ids`` excludes everything; None restricts nothing."""

    face_ids: Collection[str] = frozenset()
    person_ids: Collection[str] = frozenset()
    only_person_ids: Collection[str] | None = None

    def __bool__(self) -> bool:
        return bool(self.face_ids) or bool(self.person_ids) or self.only_person_ids is not None


NO_EXCLUSIONS = Exclusions()


def _encode(ids: Sequence[str]) -> np.ndarray:
    encoded = [s.encode("utf-8") for s in ids]
    width = max((len(b) for b in encoded), default=1) or 1
    return np.array(encoded, dtype=f"S{width}")


def _find(sorted_ids: np.ndarray, wanted: Collection[str]) -> np.ndarray:
    """Positions in ``sorted_ids`` of the ``wanted`` ids that exist."""
    if not wanted or sorted_ids.size == 0:
        return np.empty(0, dtype=np.int64)
    keys = _encode(list(wanted))
    # Keys longer than the stored width are truncated for the search; the equality check
    # below compares full keys, so a truncated prefix never counts as a hit.
    at = np.searchsorted(sorted_ids, keys.astype(sorted_ids.dtype)).clip(0, sorted_ids.size - 1)
    return at[sorted_ids[at] == keys]


@dataclass(frozen=True)
class RowFilter:
    """Rows hidden from a query: deleted faces, all faces of deleted persons and, when
    ``allowed_codes`` is set, all faces of persons outside it (faces without a person too).
    One filter may serve many queries (GalleryIndex.prepare): what a backend derives from it
    is kept in ``derived``, made by the first query (a racing duplicate is harmless)."""

    rows: frozenset[int]
    person_codes: frozenset[int]
    codes_by_row: np.ndarray
    hidden: int  # number of distinct rows hidden
    allowed_codes: frozenset[int] | None = None
    derived: dict = field(default_factory=dict, compare=False, repr=False)

    def allows_code(self, code: int) -> bool:
        """Whether the faces of person ``code`` (-1: no person) may be returned at all."""
        if self.allowed_codes is not None and code not in self.allowed_codes:
            return False
        return code not in self.person_codes

    def allows(self, row: int) -> bool:
        return row not in self.rows and self.allows_code(int(self.codes_by_row[row]))

    def code_flags(self, codes: np.ndarray) -> np.ndarray:
        """Per element of ``codes`` (person codes, -1 = no person), 1 if that person's faces may
        be returned, else 0 (uint8): one lookup table over the codes, then one gather."""
        size = max([int(codes.max(initial=-1)), *self.person_codes, *(self.allowed_codes or ())]) + 2
        table = np.full(size, self.allowed_codes is None, np.uint8)  # slot 0 stands for code -1
        if self.allowed_codes is not None:
            table[np.array(list(self.allowed_codes), np.int64) + 1] = 1
        table[np.array(list(self.person_codes), np.int64) + 1] = 0
        return table[codes + 1]

    def group_filter(self, group_codes: np.ndarray, emptied: frozenset[int]) -> Callable[[int], bool]:
        """hnswlib filter over face groups (person code per group): the group's person is
        allowed and the group is not among ``emptied`` (all its faces deleted). A byte string's
        own item lookup, which hnswlib calls without a Python frame: at 200,000 groups it costs
        ~0.3 ms to make and a third of a lambda's time per call."""
        flags = self.code_flags(group_codes)
        flags[list(emptied)] = 0
        return flags.tobytes().__getitem__

    def hidden_by_person(self, per_code: np.ndarray, without_person: int) -> int:
        """How many of some unit (faces, groups) the person rules hide, given each person
        code's count of them and the count belonging to no person."""
        if self.allowed_codes is None:
            return int(per_code[list(self.person_codes)].sum())
        return int(per_code.sum()) + without_person - int(per_code[list(self.allowed_codes)].sum())

    @cached_property
    def deleted_rows(self) -> np.ndarray:
        """The rows deleted one by one, sorted."""
        return np.array(sorted(self.rows), dtype=np.int64)

    def mask(self) -> np.ndarray:
        """Boolean mask over all rows, True = hidden (for brute-force scans)."""
        hidden = self.code_flags(self.codes_by_row) == 0
        hidden[list(self.rows)] = True
        return hidden


@dataclass(frozen=True)
class LabelMap:
    labels: np.ndarray  # int64 (n,): the caller's label per row
    face_ids: np.ndarray  # S<w> (n,)
    person_codes: np.ndarray  # int32 (n,): index into persons, -1 = no person
    persons: np.ndarray  # S<w> (p,), sorted unique person ids

    @classmethod
    def create(
        cls, labels: Sequence[int] | np.ndarray, face_ids: Sequence[str], person_ids: Sequence[str | None]
    ) -> "LabelMap":
        n = len(face_ids)
        if len(labels) != n or len(person_ids) != n:
            raise ValueError(f"labels ({len(labels)}), face_ids ({n}) and person_ids ({len(person_ids)}) differ in length")
        if len(set(face_ids)) != n:
            raise ValueError("face ids must be unique")
        rows = [i for i, p in enumerate(person_ids) if p is not None]
        persons, inverse = np.unique(_encode([person_ids[i] for i in rows]), return_inverse=True)
        codes = np.full(n, -1, dtype=np.int32)
        codes[rows] = inverse
        return cls(np.asarray(labels, dtype=np.int64), _encode(face_ids), codes, persons)

    def __len__(self) -> int:
        return int(self.labels.size)

    def take(self, rows: np.ndarray) -> "LabelMap":
        """The same faces in the order ``rows`` (an index keeps its rows in its own order)."""
        return LabelMap(self.labels[rows], self.face_ids[rows], self.person_codes[rows], self.persons)

    @cached_property
    def _sorted_faces(self) -> tuple[np.ndarray, np.ndarray]:
        # Built on first use (only queries with exclusions need it); a racing duplicate
        # computation in another thread is harmless.
        order = np.argsort(self.face_ids, kind="stable")
        return self.face_ids[order], order

    def face_id(self, row: int) -> str:
        return self.face_ids[row].decode("utf-8")

    def person_id(self, row: int) -> str | None:
        code = int(self.person_codes[row])
        return None if code < 0 else self.persons[code].decode("utf-8")

    def row_filter(self, exclusions: Exclusions) -> RowFilter | None:
        """The filter for ``exclusions``, or None when nothing known is excluded."""
        rows = frozenset()
        if exclusions.face_ids:
            sorted_ids, order = self._sorted_faces
            rows = frozenset(order[_find(sorted_ids, exclusions.face_ids)].tolist())
        codes = frozenset(_find(self.persons, exclusions.person_ids).tolist())
        allowed = None
        if exclusions.only_person_ids is not None:
            allowed = frozenset(_find(self.persons, exclusions.only_person_ids).tolist()) - codes
        if not rows and not codes and allowed is None:
            return None
        row_filter = RowFilter(rows, codes, self.person_codes, 0, allowed)
        by_person = row_filter.hidden_by_person(self.faces_per_person, self.faces_without_person)
        alone = sum(1 for row in rows if row_filter.allows_code(int(self.person_codes[row])))
        return replace(row_filter, hidden=by_person + alone)

    @cached_property
    def _rows_by_person(self) -> tuple[np.ndarray, np.ndarray]:
        # Rows ordered by person code, and where each code's rows begin in that order.
        order = np.argsort(self.person_codes, kind="stable")
        return order, np.searchsorted(self.person_codes[order], np.arange(self.persons.size + 1))

    def allowed_rows(self, row_filter: RowFilter) -> np.ndarray:
        """The rows a restricted filter (``allowed_codes`` set) lets through, ascending: read
        off the allowed persons' own rows, so a narrow allow-list costs its faces, not a
        pass over the whole index."""
        order, starts = self._rows_by_person
        rows = [order[starts[code]:starts[code + 1]] for code in row_filter.allowed_codes]
        rows = np.sort(np.concatenate(rows)) if rows else np.empty(0, np.int64)
        return rows[~np.isin(rows, list(row_filter.rows))] if row_filter.rows else rows

    @cached_property
    def faces_per_person(self) -> np.ndarray:
        return np.bincount(self.person_codes[self.person_codes >= 0], minlength=self.persons.size)

    @cached_property
    def faces_without_person(self) -> int:
        return int(np.count_nonzero(self.person_codes < 0))

    @cached_property
    def max_faces_per_person(self) -> int:
        return int(self.faces_per_person.max()) if self.persons.size else 1
