"""geo.atomic: temporary names, rename on success, nothing left on failure."""

from __future__ import annotations

import pytest

from geo import atomic


def test_temporary_name_keeps_the_suffix_asked_for_and_is_renamed(tmp_path):
    target = tmp_path / "out.gpkg"
    with atomic.atomic_path(target, suffix=".tmp.gpkg") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".out.gpkg.") and tmp.name.endswith(".tmp.gpkg")
        tmp.write_bytes(b"done")
    assert target.read_bytes() == b"done"
    assert [p.name for p in tmp_path.iterdir()] == ["out.gpkg"]


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer died")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
