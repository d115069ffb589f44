"""Files read once and again when they change (geo.filememo): a saved change is always seen, a failure never kept."""

from __future__ import annotations

import os

import pytest

from geo import atomic
from geo.filememo import read_memoised


def test_a_file_is_read_once_until_it_changes(tmp_path):
    path = tmp_path / "areas.yaml"
    path.write_text("one", encoding="utf-8")
    reads = []

    def make(p):
        reads.append(p)
        return p.read_text(encoding="utf-8")

    assert read_memoised(path, make) == "one" and read_memoised(path, make) == "one"
    assert len(reads) == 1
    atomic.write_bytes(path, b"two")  # as Wardscope saves: a new file renamed over the old, within the same tick
    assert read_memoised(path, make) == "two" and len(reads) == 2
    path.write_text("tw0", encoding="utf-8")  # edited in place by hand, a moment later: same inode, same size
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert read_memoised(path, make) == "tw0" and len(reads) == 3


def test_what_fails_is_not_kept(tmp_path):
    path = tmp_path / "damaged.yaml"
    path.write_text("bad", encoding="utf-8")
    calls = []

    def make(p):
        calls.append(1)
        if p.read_text(encoding="utf-8") == "bad":
            raise ValueError("damaged")
        return "fixed"

    for _ in range(2):
        with pytest.raises(ValueError):
            read_memoised(path, make)
    assert len(calls) == 2
    with pytest.raises(FileNotFoundError):
        read_memoised(tmp_path / "missing.yaml", make)


def test_saved_areas_are_seen_as_soon_as_they_are_saved(tmp_env, store):
    from geo.areas import resolve_area, save_area, user_areas

    districts = store.districts()
    before = len(user_areas())
    save_area("Memo test area", ["E06000032"], districts)
    assert resolve_area("Memo test area", districts).lad_codes == ("E06000032",)
    save_area("Memo test area", ["E06000032", "E06000055"], districts, replace=True)
    assert resolve_area("Memo test area", districts).lad_codes == ("E06000032", "E06000055")
    assert len(user_areas()) == before + 1
