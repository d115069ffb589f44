"""Security figures: the hostile corpus through the upload gate, and what the gate costs.

``hostile_inputs_tried`` / ``_refused`` / ``_flagged`` run every case in
tests/hostile_corpus.py through accept_upload + its reader, as a page would;
a case counts as refused only with its expected error and message, and
``hostile_writes_outside_session`` counts files changed outside the session
directory (it must be 0). Timings: how fast the worst files are refused,
and the gate's cost on ordinary uploads (a 10 MB CSV, real LSOA boundaries).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.timing import best_of, once


def _tree(top: Path) -> dict[str, tuple]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for name in dirnames + filenames:
            info = os.lstat(os.path.join(dirpath, name))
            out[os.path.relpath(os.path.join(dirpath, name), top)] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return out


def run():
    from geo import saved
    from geo.upload.gate import TABLE_KINDS, VECTOR_KINDS, accept_upload, read_table_upload, read_vector_upload
    from geo.workspace import SessionWorkspace
    from tests.hostile_corpus import CASES, handled_as_expected, huge_polygon_geojson, run_case, zip_bomb

    with tempfile.TemporaryDirectory() as tmp:
        sentinel = Path(tmp)
        refused = flagged = escaped = 0
        for case in CASES:
            data = case.data()
            with SessionWorkspace(sentinel / "sessions") as ws:
                before = _tree(sentinel)
                outcome = run_case(case, ws, data)
                after = _tree(sentinel)
                changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
                escaped += sum(1 for p in changed if not ws.contains(sentinel / p))
            if handled_as_expected(case, outcome):
                if case.error is None:
                    flagged += 1
                else:
                    refused += 1
        yield "hostile_inputs_tried", len(CASES), "count"
        yield "hostile_inputs_refused", refused, "count"
        yield "hostile_inputs_flagged", flagged, "count"
        yield "hostile_writes_outside_session", escaped, "count"

        with SessionWorkspace(sentinel / "sessions") as ws:
            bomb = zip_bomb()

            def refuse_bomb():
                try:
                    accept_upload("bomb.zip", bomb, workspace=ws, kinds=VECTOR_KINDS)
                except Exception:
                    pass

            yield "zip_bomb_50mb_refused_ms", best_of(refuse_bomb, 5) * 1000, "ms"

            polygon = huge_polygon_geojson()

            def refuse_polygon():
                try:
                    read_vector_upload(accept_upload("huge.geojson", polygon, workspace=ws, kinds=VECTOR_KINDS))
                except Exception:
                    pass

            yield "polygon_1e6_vertices_refused_s", once(refuse_polygon)[0], "s"

            rows = "".join(f"E0{i:08d},Site {i},{i % 977}.5,LU{i % 9} 1AB\n" for i in range(250_000))
            csv = ("code,name,value,postcode\n" + rows).encode()
            seconds, frame = once(lambda: read_table_upload(accept_upload("big.csv", csv, workspace=ws, kinds=TABLE_KINDS)))
            assert len(frame) == 250_000
            yield "csv_upload_read_mb_per_s", len(csv) / 2**20 / seconds, "MB/s"

            try:
                from geo.areas import resolve_area
                from geo.store import Store

                store = Store()
                area = resolve_area("South Midlands", store.districts())
                lsoa = store.boundaries("lsoa", area.lad_codes)[["code", "name", "geometry"]]
                geojson = lsoa.to_crs(4326).to_json().encode()
            except Exception:  # no installed store: skip the real-data figure
                geojson = None
            if geojson is not None:
                seconds, gdf = once(lambda: read_vector_upload(
                    accept_upload("lsoa.geojson", geojson, workspace=ws, kinds=VECTOR_KINDS)))
                assert len(gdf) == len(lsoa)
                yield "geojson_upload_read_lsoa_south_midlands_s", seconds, "s"

        profile = {"name": "Growth", "weights": {f"indicator_{i}": round(1 / 12, 4) for i in range(12)}}
        path = sentinel / "user" / "profiles" / "growth.yaml"
        yield "save_profile_atomic_ms", best_of(lambda: saved.save_yaml(path, profile), 20) * 1000, "ms"
