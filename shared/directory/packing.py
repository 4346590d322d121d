"""Many sealed templates, and long texts, in one Table row.

A person's faces of one recognition model, and one journal commit, each live in a single row:
one entity per person and model instead of one per face (the Tables SDK spends about a
millisecond per entity in a transaction, whatever its size). Limits respected: a binary
property holds at most 64 KiB, a string property 32K characters, a row 1 MiB (248 faces with
1 KB of userData each take ~660 KB).

Each template is sealed on its own (storage codec), bound to the row's location and to its
face id, and the sealed items, all of one size, are concatenated into ``<prefix>0``,
``<prefix>1``... The model columns (embedder, version, recognition model) are the row's; every
template of a row must share them.
"""
from __future__ import annotations

from collections.abc import Sequence

from shared.engine.types import Template
from shared.storage.templates import EMBEDDER, EMBEDDER_VERSION, RECOGNITION_MODEL, seal, unseal

BINARY_LIMIT = 64 * 1024
TEXT_LIMIT = 30_000


def put_templates(row: dict, prefix: str, where: str, items: Sequence[tuple[str, Template]]) -> None:
    """Seal ``items`` (id, template) into ``row`` under ``prefix``, in order."""
    if not items:
        return
    first = items[0][1]
    model = (first.embedder, first.embedder_version, first.recognition_model)
    for _, template in items:
        if (template.embedder, template.embedder_version, template.recognition_model) != model:
            raise ValueError(f"one row holds the templates of one model, not {model} and {template.embedder}")
    row[EMBEDDER], row[EMBEDDER_VERSION], row[RECOGNITION_MODEL] = model
    sealed = [seal(template, f"{where}/{item_id}") for item_id, template in items]
    size = len(sealed[0])
    per_chunk = BINARY_LIMIT // size
    row[f"{prefix}Size"] = size
    for chunk in range(0, len(sealed), per_chunk):
        row[f"{prefix}{chunk // per_chunk}"] = b"".join(sealed[chunk:chunk + per_chunk])


def templates(row: dict, prefix: str, where: str, ids: Sequence[str]) -> list[Template]:
    """The templates ``put_templates`` stored for ``ids`` (the same ids, in the same order)."""
    if not ids:
        return []
    size, chunks, data = int(row[f"{prefix}Size"]), 0, []
    while f"{prefix}{chunks}" in row:
        data.append(bytes(row[f"{prefix}{chunks}"]))
        chunks += 1
    blob = b"".join(data)
    return [unseal(blob[i * size:(i + 1) * size], f"{where}/{item_id}", row[EMBEDDER], row[EMBEDDER_VERSION],
                   row[RECOGNITION_MODEL]) for i, item_id in enumerate(ids)]


def put_text(row: dict, prefix: str, text: str) -> None:
    for chunk in range(0, max(len(text), 1), TEXT_LIMIT):
        row[f"{prefix}{chunk // TEXT_LIMIT}"] = text[chunk:chunk + TEXT_LIMIT]


def text(row: dict, prefix: str) -> str:
    parts, chunk = [], 0
    while f"{prefix}{chunk}" in row:
        parts.append(row[f"{prefix}{chunk}"])
        chunk += 1
    return "".join(parts)
