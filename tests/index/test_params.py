from __future__ import annotations

from shared.index import IndexParams


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("FACE_INDEX_THREADS", "3")
    monkeypatch.setenv("FACE_INDEX_M", "12")
    monkeypatch.setenv("FACE_INDEX_EF", "40")
    params = IndexParams.from_env()
    assert (params.threads, params.m, params.ef_search) == (3, 12, 40)
    assert params.ef_construction == IndexParams().ef_construction


def test_ef_grows_with_gallery_size_up_to_the_cap():
    params = IndexParams(ef_search=64, ef_reference_size=100_000, ef_max=512)
    assert params.ef_for(5_000) == params.ef_for(100_000) == 64
    assert params.ef_for(400_000) == 128
    assert params.ef_for(1_000_000) == 202
    assert params.ef_for(100_000_000) == 512


def test_grouping_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("FACE_INDEX_GROUP_FACES", "0")
    monkeypatch.setenv("FACE_INDEX_RERANK_GROUPS", "4")
    params = IndexParams.from_env()
    assert (params.group_faces, params.rerank_groups) == (0, 4)
