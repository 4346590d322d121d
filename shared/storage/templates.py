"""Template <-> table columns, with the embedding encrypted.

A row keeps what produced the template (embedder, version, recognition model) as plain
columns so queries can filter on them, and the vector only as AES-GCM ciphertext. The
associated data binds the ciphertext to its location (``where``: e.g. table/partition/row)
and to those plain columns, so neither swapping ciphertexts between rows nor editing the
model columns goes unnoticed.
"""
from __future__ import annotations

import numpy as np

from shared.engine.types import Template
from shared.storage import crypto

TEMPLATE = "Template"
EMBEDDER = "Embedder"
EMBEDDER_VERSION = "EmbedderVersion"
RECOGNITION_MODEL = "RecognitionModel"


def row_location(table: str, partition_key: str, row_key: str) -> str:
    return f"{table}/{partition_key}/{row_key}"


def template_columns(template: Template, where: str) -> dict:
    return {
        TEMPLATE: seal(template, where),
        EMBEDDER: template.embedder,
        EMBEDDER_VERSION: template.embedder_version,
        RECOGNITION_MODEL: template.recognition_model,
    }


def template_from_columns(entity: dict, where: str) -> Template:
    return unseal(bytes(entity[TEMPLATE]), where, entity[EMBEDDER],
                  entity[EMBEDDER_VERSION], entity[RECOGNITION_MODEL])


def seal(template: Template, where: str) -> bytes:
    vector = np.ascontiguousarray(template.vector, dtype="<f4")
    aad = _aad(where, template.embedder, template.embedder_version, template.recognition_model)
    return crypto.encrypt(vector.tobytes(), aad)


def unseal(blob: bytes, where: str, embedder: str, embedder_version: str,
           recognition_model: str) -> Template:
    plaintext = crypto.decrypt(blob, _aad(where, embedder, embedder_version, recognition_model))
    vector = np.frombuffer(plaintext, dtype="<f4").astype(np.float32)
    return Template(vector=vector, embedder=embedder, embedder_version=embedder_version,
                    recognition_model=recognition_model)


def _aad(where: str, embedder: str, embedder_version: str, recognition_model: str) -> bytes:
    return "\x1f".join(("template", where, embedder, embedder_version, recognition_model)).encode()
