"""Compaction: fold a recognition model's journal into a new published snapshot.

Queued (``directorycompaction``, {"model"}) when a commit brings the uncompacted entries to
FACE_DIRECTORY_DELTA_LIMIT, and by the maintenance sweep when removals have waited
FACE_DIRECTORY_PURGE_SECONDS or a compaction died. One run:

1. claim: the head gets this run's token (ETag-matched); a live claim of another run makes
   this one drop its message. T = the head's last entry at that moment.
2. build: the previous pack (the templates of the published snapshot) plus the entries after
   its position up to T, applied as sets: a face or person removed anywhere in the range is
   gone, whatever the order of its entries (ids never come back). Persons removed within
   FACE_DIRECTORY_REMOVAL_HOLD_SECONDS stay in the published "removed" list, so that an add
   for them still in flight when they were deleted stays hidden after this snapshot (that add
   commits its own ``removeFace`` when it finds the person gone, or the sweep does for it).
3. write the index, pack and removed blobs under names carrying T and the token.
4. publish: one ETag-matched write of the head switches readers to the new blobs, if the
   claim is still ours; else the blobs are deleted and the run ends (superseded).
5. clean up: journal entries up to T, and the blobs of the previous snapshot.

A run that dies before step 4 changes nothing readers see: its blobs are never named by the
head and the maintenance sweep deletes them once the claim is stale. A run that dies after
step 4 leaves entries up to T that readers skip (they are at or below the head's position)
and old blobs; the next run or the sweep removes both.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np

from shared import clock
from shared.directory import artifacts, journal
from shared.directory.artifacts import Pack
from shared.directory.journal import ADD, REMOVE_FACE, Entry, Head
from shared.engine.types import RECOGNITION_MODELS
from shared.index.gallery import EmbedderInfo, build_index
from shared.index.params import IndexParams
from shared.settings import env_int

logger = logging.getLogger(__name__)


class Superseded(Exception):
    """Another run claimed the model (this one's claim had gone stale)."""


class Busy(Exception):
    """A live compaction of the model is running."""


def run(message: dict) -> None:
    """The queue worker's job for one message."""
    model = message.get("model")
    if model not in RECOGNITION_MODELS:
        logger.warning("compaction message for unknown model dropped: %s", message)
        return
    token = uuid.uuid4().hex
    try:
        claimed = journal.change_head(model, lambda head: _claimed(head, token))
    except Busy:
        logger.info("compaction of %s already running; message dropped", model)
        return
    try:
        compact(model, claimed, token)
    except Superseded:
        logger.warning("compaction of %s superseded by a newer run", model)
    except Exception:
        _release(model, token, claimed.removals_since)
        raise  # the queue retries the message


def _claimed(head: Head, token: str) -> Head:
    now = clock.now()
    if head.claim_live(now):
        raise Busy()
    # Removals committed from now on set removals_since again; the ones up to T are this run's.
    return replace(head, compaction=token, compaction_started=now, compaction_queued=None, removals_since=None)


def _release(model: str, token: str, removals_since: datetime | None) -> None:
    def release(head: Head) -> Head:
        if head.compaction != token:
            return head
        pending = min(filter(None, (head.removals_since, removals_since)), default=None)
        return replace(head, compaction="", compaction_started=None, removals_since=pending)

    journal.change_head(model, release)


def compact(model: str, claimed: Head, token: str) -> None:
    """Steps 2-5 for a head this run has claimed."""
    through = claimed.seq
    if through == claimed.snapshot_seq:
        _release(model, token, None)  # nothing new since the published snapshot
        return
    entries = list(journal.entries_between(model, claimed.snapshot_seq, through))
    if sorted({entry.seq for entry in entries}) != list(range(claimed.snapshot_seq + 1, through + 1)):
        raise RuntimeError(f"journal of {model} has gaps between {claimed.snapshot_seq} and {through}")
    base = artifacts.load_pack(claimed.pack) if claimed.pack else Pack.empty()
    recent = artifacts.load_removed(claimed.removed) if claimed.removed else {}
    pack, removed = _applied(base, entries, recent)
    index_blob, pack_blob, removed_blob = artifacts.blob_names(model, through, token)
    if not len(pack):
        index_blob = ""  # every face removed: no index until faces come again
    written = [blob for blob in (index_blob, pack_blob, removed_blob) if blob]
    if index_blob:
        index = build_index(pack.vectors, np.arange(len(pack)), pack.face_ids.astype(str).tolist(),
                            pack.person_ids.astype(str).tolist(), IndexParams.from_env(), pack.embedder)
        artifacts.put_index(index_blob, index)
    artifacts.put_pack(pack_blob, pack)
    artifacts.put_removed(removed_blob, removed)
    published = replace(claimed, snapshot=index_blob, pack=pack_blob, removed=removed_blob)
    try:
        journal.change_head(model, lambda head: _published(head, token, published))
    except Superseded:
        for blob in written:
            artifacts.delete(blob)
        raise
    journal.drop_through(model, through)
    for blob in (claimed.snapshot, claimed.pack, claimed.removed):
        if blob:
            artifacts.delete(blob)


def _published(head: Head, token: str, built: Head) -> Head:
    """The current head switched to the snapshot ``built`` (the claimed head with its new
    blobs), if the claim is still this run's."""
    if head.compaction != token:
        raise Superseded()
    return replace(head, snapshot_seq=built.seq, snapshot_entries=built.entries, snapshot=built.snapshot,
                   pack=built.pack, removed=built.removed, compaction="", compaction_started=None)


def _applied(base: Pack, entries: list[Entry], recent: dict[str, str]) -> tuple[Pack, dict[str, str]]:
    """The pack after ``entries``, and the persons removed within the hold time."""
    now, hold = clock.now(), timedelta(seconds=env_int("FACE_DIRECTORY_REMOVAL_HOLD_SECONDS", 3600))
    removed = {person: when for person, when in recent.items() if now - clock.parse(when) < hold}
    gone_faces = {entry.face_id for entry in entries if entry.kind == REMOVE_FACE}
    gone_persons = set(removed)
    for entry in entries:
        if entry.kind not in (ADD, REMOVE_FACE):
            gone_persons.add(entry.person_id)
            when = entry.committed or now
            if now - when < hold:
                removed[entry.person_id] = clock.timestamp(when)
    # The last add of each face (the sweep may repeat the add of an interrupted operation).
    adds = list({entry.face_id: entry for entry in entries if entry.kind == ADD
                 and entry.face_id not in gone_faces and entry.person_id not in gone_persons}.values())
    keep = ~(np.isin(base.face_ids, _ids(gone_faces)) | np.isin(base.person_ids, _ids(gone_persons)))
    embedder = base.embedder
    if adds and not embedder.name:
        embedder = EmbedderInfo(adds[0].template.embedder, adds[0].template.embedder_version)
    vectors = [base.vectors[keep]] if len(base) else []
    vectors += [np.stack([np.asarray(entry.template.vector, np.float32) for entry in adds])] if adds else []
    pack = Pack(np.concatenate([base.face_ids[keep], _ids(entry.face_id for entry in adds)]),
                np.concatenate([base.person_ids[keep], _ids(entry.person_id for entry in adds)]),
                np.concatenate(vectors) if vectors else np.empty((0, 0), np.float32), embedder)
    return pack, removed


def _ids(values) -> np.ndarray:
    return np.array(sorted(values) if isinstance(values, set) else list(values), dtype="S36")

