"""1:N search index for face galleries (face lists, person groups); storage-agnostic.

See docs/index.md for the design, snapshot format and benchmark numbers.
"""
from shared.index.cache import SnapshotCache
from shared.index.framing import FramingError, decrypt_stream, encrypt_stream, open_decrypted
from shared.index.gallery import EmbedderInfo, FaceMatch, GalleryIndex, PersonMatch, build_index
from shared.index.labels import Exclusions
from shared.index.params import IndexParams
from shared.index.snapshot import SnapshotError, load_snapshot, write_snapshot

__all__ = [
    "EmbedderInfo",
    "Exclusions",
    "FaceMatch",
    "FramingError",
    "GalleryIndex",
    "IndexParams",
    "PersonMatch",
    "SnapshotCache",
    "SnapshotError",
    "build_index",
    "decrypt_stream",
    "encrypt_stream",
    "load_snapshot",
    "open_decrypted",
    "write_snapshot",
]
