"""ONS Open Geography Portal downloads against recorded ArcGIS responses."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo.arcgis import fetch_arcgis
from geo.boundaries import read_boundary_file
from geo.errors import OfflineError, PublisherError
from geo.sources import dataset


def _square(x, y, d=0.01):
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


def arcgis_service(records, *, cap=2, geojson=True):
    """An ArcGIS query endpoint over ``records`` that returns at most ``cap`` features a page."""

    def handler(query):
        offset = int(query.get("resultOffset", 0))
        count = min(int(query.get("resultRecordCount", 1000)), cap)
        page = records[offset: offset + count]
        more = offset + count < len(records)
        fields = query["outFields"].split(",")
        if query.get("f") == "geojson":
            body = {"type": "FeatureCollection",
                    "features": [{"type": "Feature", "id": i,
                                  "properties": {k: r[k] for k in fields if k in r},
                                  "geometry": r.get("geometry")} for i, r in enumerate(page)]}
            if more:
                body["properties"] = {"exceededTransferLimit": True}
        else:
            body = {"objectIdFieldName": "ObjectId", "features": [{"attributes": {k: r[k] for k in fields if k in r}} for r in page]}
            if more:
                body["exceededTransferLimit"] = True
        return 200, "application/json", json.dumps(body).encode()

    return handler


LADS = [{"LAD24CD": f"E0600003{i}", "LAD24NM": f"District {i}", "BNG_E": 1, "geometry": _square(-0.5 + i / 10, 51.9)} for i in range(5)]


def test_polygons_are_paged_and_written_as_geojson(fake_http, tmp_path, monkeypatch):
    monkeypatch.setenv("WARDSCOPE_ONS_ARCGIS", fake_http.url)
    fake_http.route("/Local_Authority_Districts_May_2024_Boundaries_UK_BUC/FeatureServer/0/query", arcgis_service(LADS, cap=2))
    path = fetch_arcgis(dataset("lad_boundaries"), tmp_path / "lad.geojson")
    offsets = [int(q["resultOffset"]) for _, q in fake_http.requests]
    assert offsets == [0, 2, 4]  # advanced by what came back, not by what was asked
    assert all(q["outSR"] == "4326" and q["f"] == "geojson" for _, q in fake_http.requests)
    layer = read_boundary_file(path, code_field="LAD24CD", name_field="LAD24NM", level="lad")
    assert list(layer["code"]) == [r["LAD24CD"] for r in LADS]
    assert layer.crs.to_epsg() == 27700


def test_tables_are_written_as_csv_with_the_dataset_fields(fake_http, tmp_path, monkeypatch):
    monkeypatch.setenv("WARDSCOPE_ONS_ARCGIS", fake_http.url)
    rows = [{"LSOA21CD": f"E0100000{i}", "LSOA21NM": f"Luton 00{i}A", "WD24CD": "E05000001", "WD24NM": "Biscot",
             "LAD24CD": "E06000032", "LAD24NM": "Luton", "ObjectId": i} for i in range(3)]
    fake_http.route("/LSOA21_WD24_LAD24_EW_LU/FeatureServer/0/query", arcgis_service(rows, cap=2, geojson=False))
    path = fetch_arcgis(dataset("lsoa21_ward24_lad24"), tmp_path / "lk.csv")
    frame = pd.read_csv(path, dtype=str)
    assert list(frame.columns) == ["LSOA21CD", "LSOA21NM", "WD24CD", "WD24NM", "LAD24CD", "LAD24NM"]
    assert list(frame["LSOA21CD"]) == [r["LSOA21CD"] for r in rows]


def test_points_become_lon_lat_csv(fake_http, tmp_path, monkeypatch):
    monkeypatch.setenv("WARDSCOPE_ONS_ARCGIS", fake_http.url)
    rows = [{"LSOA21CD": "E01015693", "geometry": {"type": "Point", "coordinates": [-0.41, 51.88]}}]
    fake_http.route("/LSOA_PopCentroids_EW_2021_V4/FeatureServer/0/query", arcgis_service(rows))
    frame = pd.read_csv(fetch_arcgis(dataset("lsoa21_centroids"), tmp_path / "c.csv"))
    assert list(frame.columns) == ["LSOA21CD", "LONG", "LAT"]
    assert frame.iloc[0].tolist() == ["E01015693", -0.41, 51.88]


def test_error_body_with_http_200_is_reported(fake_http, tmp_path, monkeypatch):
    monkeypatch.setenv("WARDSCOPE_ONS_ARCGIS", fake_http.url)
    body = {"error": {"code": 400, "message": "Cannot perform query. Invalid query parameters.", "details": []}}
    fake_http.route("/Local_Authority_Districts_May_2024_Boundaries_UK_BUC/FeatureServer/0/query",
                    lambda q: (200, "application/json", json.dumps(body).encode()))
    with pytest.raises(PublisherError, match="answered error 400: Cannot perform query"):
        fetch_arcgis(dataset("lad_boundaries"), tmp_path / "lad.geojson")
    assert not (tmp_path / "lad.geojson").exists()


def test_html_page_is_reported(fake_http, tmp_path, monkeypatch):
    monkeypatch.setenv("WARDSCOPE_ONS_ARCGIS", fake_http.url)
    fake_http.route("/Local_Authority_Districts_May_2024_Boundaries_UK_BUC/FeatureServer/0/query",
                    lambda q: (200, "text/html", b"<html>Service unavailable</html>"))
    with pytest.raises(PublisherError, match="did not answer with JSON"):
        fetch_arcgis(dataset("lad_boundaries"), tmp_path / "lad.geojson")


def test_no_network_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("WARDSCOPE_ONS_ARCGIS", "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(OfflineError, match="unreachable.*install --from DIR"):
        fetch_arcgis(dataset("lad_boundaries"), tmp_path / "lad.geojson")
