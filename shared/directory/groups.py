"""Dynamic person groups: named sets of directory persons, referenced, never copied.

Tables (each name gets FACE_STORAGE_PREFIX):
- ``dirgroups``: PartitionKey "dpg", RowKey = dynamicPersonGroupId; Name, UserData, Created,
  Incarnation (a fresh id per create) and Version, bumped by every membership change so that
  the row's ETag tells a cached member set that it is stale.
- ``dirmembers``: PartitionKey = the group's incarnation, RowKey = personId (listing order).
- ``dirrefs``: PartitionKey = personId, RowKey = group id, Incarnation: the groups a person
  belongs to (the references listing, and what a person delete must leave).

Adding a member writes its ref, then its member row, then bumps the group; removing goes in
the opposite order, so every member row has its ref and a person delete that reads the refs
finds every group to leave. Membership writes then confirm: persons deleted meanwhile, and
everything written into a group deleted (or re-created) meanwhile, are removed again.
Identify reads the group row first and the members again only when its ETag changed, so a
removal is in force from the moment its request is answered.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from shared.clock import timestamp
from shared.directory import counts, repository
from shared.directory.records import DynamicGroup
from shared.errors import Conflict, NotFound
from shared.galleries import quotas, validation
from shared.galleries.records import patched
from shared.galleries.repository import person_not_found
from shared.storage.rows import delete_as_read, mutate, read
from shared.galleries.versioned_cache import VersionedCache
from shared.operations import store as operations
from shared.operations.status import FAILED, SUCCEEDED
from shared.operations.store import Operation
from shared.storage.tables import BATCH_LIMIT, EntityExists, Table

GROUPS, MEMBERS, REFS = "dirgroups", "dirmembers", "dirrefs"
PARTITION = "dpg"
COUNTER = f"{quotas.DIRECTORY}-dynamicpersongroups"
CREATE_KIND, UPDATE_KIND, DELETE_KIND = "createDynamicPersonGroup", "updateDynamicPersonGroup", \
    "deleteDynamicPersonGroup"
MAX_PERSON_IDS = 10_000  # per request, addPersonIds and removePersonIds each (ours: Azure sets none)
_writers = ThreadPoolExecutor(max_workers=16, thread_name_prefix="dpg-write")


def groups_table() -> Table:
    return Table(GROUPS)


def members_table() -> Table:
    return Table(MEMBERS)


def refs_table() -> Table:
    return Table(REFS)


def group_not_found(group_id: str) -> NotFound:
    return NotFound(f"Dynamic person group '{group_id}' is not found.", code="DynamicPersonGroupNotFound")


def resource(group_id: str) -> str:
    return f"dynamicpersongroups/{group_id}"


def _to_row(group: DynamicGroup) -> dict:
    row = {"PartitionKey": PARTITION, "RowKey": group.group_id, "Name": group.name,
           "Incarnation": group.incarnation, "Version": 0}
    if group.user_data is not None:
        row["UserData"] = group.user_data
    return row


def _from_row(row: dict) -> DynamicGroup:
    return DynamicGroup(row["RowKey"], row["Name"], row.get("UserData"), row["Incarnation"],
                        getattr(row, "metadata", {}).get("etag", ""))


def find(group_id: str) -> DynamicGroup | None:
    row = groups_table().get(PARTITION, group_id)
    return None if row is None else _from_row(row)


def get(group_id: str) -> DynamicGroup:
    return read(groups_table(), PARTITION, group_id, _from_row, lambda: group_not_found(group_id))


def listing(start: str, top: int) -> list[dict]:
    rows = groups_table().query("PartitionKey eq @pk and RowKey gt @start", {"pk": PARTITION, "start": start})
    return [_from_row(row).as_json() for row, _ in zip(rows, range(top))]


# ---------------------------------------------------------------- create / update / delete

def create(group_id: str, body: dict, add_ids: list[str] | None) -> Operation | None:
    """200 (None) without ``add_ids``; else an operation that fails, with nothing written, when
    one of the persons does not exist."""
    group = DynamicGroup(group_id, validation.name(body.get("name"), required=True),
                         validation.user_data(body.get("userData")), uuid.uuid4().hex)
    if find(group_id) is not None:
        raise _exists(group_id)
    if add_ids is None:
        _insert(group)
        return None
    operation = operations.start(CREATE_KIND, resource(group_id), {"groupId": group_id})
    with operations.failing(operation):
        if missing := _missing_persons(add_ids):
            return operations.advance(operation.operation_id, FAILED, missing)
        _insert(group)
        _add_members(group, add_ids)
    return operations.advance(operation.operation_id, SUCCEEDED)


def update(group_id: str, body: dict, add_ids: list[str] | None, remove_ids: list[str] | None) -> Operation | None:
    """200 (None) for a name/userData change alone; with member changes, an operation."""
    name = validation.name(body.get("name"), required=False)
    user_data = validation.user_data(body.get("userData"))
    group = get(group_id)
    if add_ids is None and remove_ids is None:
        _rename(group, name, user_data)
        return None
    operation = operations.start(UPDATE_KIND, resource(group_id), {"groupId": group_id})
    with operations.failing(operation):
        if missing := _missing_persons(add_ids or []):
            return operations.advance(operation.operation_id, FAILED, missing)
        _rename(group, name, user_data)
        _add_members(group, add_ids or [])
        _remove_members(group, remove_ids or [])
    return operations.advance(operation.operation_id, SUCCEEDED)


def _insert(group: DynamicGroup) -> None:
    counts.add(COUNTER, 1, quotas.directory_limit("dynamicpersongroups"), "dynamic person groups")
    try:
        groups_table().insert({**_to_row(group), "Created": timestamp()})
    except EntityExists:
        counts.add(COUNTER, -1, None, "dynamic person groups")
        raise _exists(group.group_id) from None


def _rename(group: DynamicGroup, name: str | None, user_data: str | None) -> None:
    if name is not None or user_data is not None:
        _change(group, lambda row: {**row, **_to_row(patched(_from_row(row), name, user_data))})


def delete(group_id: str) -> Operation:
    """The group row first (404 everywhere from then on), then its members and their refs."""
    group = get(group_id)
    operation = operations.start(DELETE_KIND, resource(group_id), {"groupId": group_id,
                                                                   "incarnation": group.incarnation})
    with operations.failing(operation):
        row = delete_as_read(groups_table(), PARTITION, group_id, lambda _: None, lambda: group_not_found(group_id))
    counts.add(COUNTER, -1, None, "dynamic person groups")
    drop_members(_from_row(row))
    _MEMBERS.forget(group_id)
    return operations.advance(operation.operation_id, SUCCEEDED)


def _missing_persons(person_ids: list[str]) -> str | None:
    """The failure message naming the persons that do not exist, if any."""
    missing = sorted(set(person_ids) - repository.existing_persons(set(person_ids)))
    if not missing:
        return None
    shown = ", ".join(f"'{person_id}'" for person_id in missing[:10])
    return f"Person {shown} is not found." if len(missing) == 1 else f"Persons {shown} are not found."


def _exists(group_id: str) -> Conflict:
    return Conflict(f"Dynamic person group '{group_id}' already exists.", code="DynamicPersonGroupExists")


# ---------------------------------------------------------------- membership

def _change(group: DynamicGroup, change) -> None:
    """Read-modify-write of the group row, 404 once it is deleted or re-created; every change
    bumps Version, so the ETag that member caches compare changes too."""
    def guarded(row: dict) -> dict:
        if row["Incarnation"] != group.incarnation:
            raise group_not_found(group.group_id)
        updated = change(row)
        return {**updated, "Version": int(row.get("Version", 0)) + 1}

    mutate(groups_table(), PARTITION, group.group_id, guarded, lambda: group_not_found(group.group_id))


def _add_members(group: DynamicGroup, person_ids: Iterable[str]) -> None:
    wanted = sorted(set(person_ids))
    if not wanted:
        return
    list(_writers.map(lambda person_id: refs_table().transact(
        [("upsert", {"PartitionKey": person_id, "RowKey": group.group_id, "Incarnation": group.incarnation})]),
        wanted))
    _link_members(group, wanted)
    try:
        _change(group, lambda row: row)
    except NotFound:  # deleted (or re-created) meanwhile: its delete may have missed our rows
        _unlink(group, wanted)
        raise
    gone = set(wanted) - repository.existing_persons(wanted)
    if gone:  # deleted meanwhile: their delete may have read the refs before ours were written
        _remove_members(group, gone)


def _remove_members(group: DynamicGroup, person_ids: Iterable[str]) -> None:
    leaving = sorted(set(person_ids))
    if not leaving:
        return
    members_table().delete_rows(group.incarnation, leaving)
    try:
        _change(group, lambda row: row)
    except NotFound:
        pass  # the group is gone: its delete removes what is left
    list(_writers.map(lambda person_id: refs_table().delete(person_id, group.group_id), leaving))


def _unlink(group: DynamicGroup, person_ids: list[str]) -> None:
    members_table().delete_rows(group.incarnation, person_ids)
    list(_writers.map(lambda person_id: refs_table().delete(person_id, group.group_id), person_ids))


def _link_members(group: DynamicGroup, person_ids: list[str]) -> None:
    table = members_table()
    for start in range(0, len(person_ids), BATCH_LIMIT):
        table.transact([("upsert", {"PartitionKey": group.incarnation, "RowKey": person_id})
                        for person_id in person_ids[start:start + BATCH_LIMIT]])


def drop_members(group: DynamicGroup) -> None:
    """Every member row of a deleted group, with the refs that point at it."""
    members = [row["RowKey"] for row in members_table().partition(group.incarnation, select=["RowKey"])]
    _unlink(group, members)


def remove_person_everywhere(person_id: str) -> None:
    """A deleted person leaves every group it was in."""
    for ref in list(refs_table().partition(person_id)):
        group = find(ref["RowKey"])
        if group is not None and group.incarnation == ref["Incarnation"]:
            _remove_members(group, [person_id])
        else:
            refs_table().delete(person_id, ref["RowKey"])


# ---------------------------------------------------------------- reads for listing and identify

def members(group_id: str, start: str, top: int) -> list[str]:
    group = get(group_id)
    rows = members_table().query("PartitionKey eq @pk and RowKey gt @start",
                                 {"pk": group.incarnation, "start": start}, select=["RowKey"])
    return [row["RowKey"] for row, _ in zip(rows, range(top))]


def references(person_id: str, start: str, top: int) -> list[str]:
    """The groups the person is a member of: refs confirmed by their member row (a ref is
    written before its member row and removed after it)."""
    if repository.find_person(person_id) is None:
        raise person_not_found(person_id)
    rows = refs_table().query("PartitionKey eq @pk and RowKey gt @start", {"pk": person_id, "start": start})
    found = []
    for row in rows:
        found.append(row)
        if len(found) == top:
            break
    member_rows = members_table().get_each((row["Incarnation"], person_id) for row in found)
    present = {row["PartitionKey"] for row in member_rows}
    return [row["RowKey"] for row in found if row["Incarnation"] in present]


# Member sets of recently used groups, kept while the group row's ETag is unchanged.
_MEMBERS: VersionedCache[frozenset[str]] = VersionedCache(max_entries=64)


def member_set(group_id: str) -> frozenset[str]:
    """The group's current members, for identify (404 when the group does not exist)."""
    group = get(group_id)

    def load() -> frozenset[str]:
        return frozenset(row["RowKey"] for row in members_table().partition(group.incarnation, select=["RowKey"]))

    return _MEMBERS.get(group_id, group.version, load)
