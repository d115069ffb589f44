"""ONS Open Geography Portal downloads against recorded ArcGIS responses."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from geo.arcgis import fetch_arcgis as _fetch_arcgis
from geo.boundaries import read_boundary_file
from geo.download_cache import Downloader
from geo.errors import OfflineError, PublisherError
from geo.sources import dataset
from tests import publishers as pub


def fetch_arcgis(ds, dest):
    """A layer downloaded through a download cache beside ``dest`` (empty: every page is asked for)."""
    return _fetch_arcgis(ds, dest, Downloader(dest.parent / "downloads"))


def _square(x, y, d=0.01):
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


def arcgis_service(records, *, cap=2, geojson=True):
    """An ArcGIS query endpoint over ``records`` that returns at most ``cap`` features a page."""

    def handler(query):
        if query.get("returnCountOnly") == "true":
            return 200, "application/json", json.dumps({"count": len(records)}).encode()
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
    pages = [q for _, q in fake_http.requests if "returnCountOnly" not in q]
    assert [int(q["resultOffset"]) for q in pages] == [0, 2, 4]  # advanced by what came back, not by what was asked
    assert all(q["outSR"] == "4326" and q["f"] == "geojson" for q in pages)
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
    with pytest.raises(PublisherError, match="ONS service Local_Authority_Districts_May_2024_Boundaries_UK_BUC "
                                             "returned a web page, not the data"):
        fetch_arcgis(dataset("lad_boundaries"), tmp_path / "lad.geojson")


def test_text_that_is_not_json_is_reported(fake_http, tmp_path, monkeypatch):
    monkeypatch.setenv("WARDSCOPE_ONS_ARCGIS", fake_http.url)
    fake_http.route("/Local_Authority_Districts_May_2024_Boundaries_UK_BUC/FeatureServer/0/query",
                    lambda q: (200, "application/json", b'{"features": [ cut'))
    with pytest.raises(PublisherError, match="did not answer with JSON"):
        fetch_arcgis(dataset("lad_boundaries"), tmp_path / "lad.geojson")
    assert not list((tmp_path / "downloads").glob("refs/*"))  # a page that fails its check is not cached


def test_no_network_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("WARDSCOPE_ONS_ARCGIS", "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(OfflineError, match=r"unreachable.*install --from DIR \(tried 4 times\)"):
        fetch_arcgis(dataset("lad_boundaries"), tmp_path / "lad.geojson")


def _change_rows(n_split=10):
    """LSOA 2011 -> 2021 rows: one 2011 LSOA split into ``n_split`` 2021 LSOAs, among unchanged ones."""
    rows = [{"LSOA11CD": f"E0100{i:04d}", "LSOA21CD": f"E0100{i:04d}", "CHGIND": "U"} for i in range(1, 8)]
    rows += [{"LSOA11CD": "E01000008", "LSOA21CD": f"E0103{i:04d}", "CHGIND": "S"} for i in range(n_split)]
    for r in rows:
        r.update(LSOA11NM=r["LSOA11CD"], LSOA21NM=r["LSOA21CD"], LAD22CD="E06000032", LAD22NM="Luton", LAD22NMW=None)
    return rows


CHANGE_FIELDS = ["LSOA11CD", "LSOA11NM", "LSOA21CD", "LSOA21NM", "CHGIND", "LAD22CD", "LAD22NM", "LAD22NMW"]
CHANGE_PATH = "/LSOA11_LSOA21_LAD22_EW_LU_v5/FeatureServer/0/query"


def test_pages_are_ordered_by_a_unique_key(fake_http, tmp_path, monkeypatch):
    monkeypatch.setenv("WARDSCOPE_ONS_ARCGIS", fake_http.url)
    rows = _change_rows()
    # a page boundary inside the split LSOA's rows, which tie on LSOA11CD and come back in any order
    fake_http.route(CHANGE_PATH, pub.ArcGISLayer(rows, CHANGE_FIELDS, max_records=10, oid="ObjectId"))
    frame = pd.read_csv(fetch_arcgis(dataset("lsoa11_lsoa21_lad22"), tmp_path / "lk.csv"), dtype=str)
    assert sorted(zip(frame["LSOA11CD"], frame["LSOA21CD"])) == sorted((r["LSOA11CD"], r["LSOA21CD"]) for r in rows)
    pages = [q for _, q in fake_http.requests if "returnCountOnly" not in q]
    assert {q["orderByFields"] for q in pages} == {"LSOA11CD,LSOA21CD"} and len(pages) == 2


def test_overlapping_pages_are_refused(fake_http, tmp_path, monkeypatch):
    monkeypatch.setenv("WARDSCOPE_ONS_ARCGIS", fake_http.url)
    fake_http.route(CHANGE_PATH, pub.ArcGISLayer(_change_rows(), CHANGE_FIELDS, max_records=10, oid="ObjectId"))
    ds = dataset("lsoa11_lsoa21_lad22")
    by_code_only = dataclasses.replace(ds, online={k: v for k, v in ds.online.items() if k != "key"})
    with pytest.raises(PublisherError, match=r"sent E01000008 twice \(its pages overlap\)"):
        fetch_arcgis(by_code_only, tmp_path / "lk.csv")
    assert not (tmp_path / "lk.csv").exists()


def test_fewer_features_than_the_service_holds_are_refused(fake_http, tmp_path, monkeypatch):
    monkeypatch.setenv("WARDSCOPE_ONS_ARCGIS", fake_http.url)
    layer = arcgis_service(LADS, cap=2)

    def handler(query):
        if query.get("returnCountOnly") == "true":
            return 200, "application/json", json.dumps({"count": len(LADS) + 3}).encode()
        return layer(query)

    fake_http.route("/Local_Authority_Districts_May_2024_Boundaries_UK_BUC/FeatureServer/0/query", handler)
    with pytest.raises(PublisherError, match="sent 5 features but says it holds 8"):
        fetch_arcgis(dataset("lad_boundaries"), tmp_path / "lad.geojson")


def test_a_service_ons_renamed_says_where_to_change_it(fake_http, tmp_path, monkeypatch):
    monkeypatch.setenv("WARDSCOPE_ONS_ARCGIS", fake_http.url)
    fake_http.fallback = pub.arcgis_fallback("/")  # the host answers "Invalid URL" for services it lacks
    with pytest.raises(PublisherError, match=r"no longer has a service named Local_Authority_Districts_May_2024_"
                                             r"Boundaries_UK_BUC .*update geo/sources\.yaml"):
        fetch_arcgis(dataset("lad_boundaries"), tmp_path / "lad.geojson")


def test_cached_pages_of_a_layer_that_changed_since_are_fetched_again(fake_http, tmp_path, monkeypatch):
    """Pages cached by an earlier install that no longer fit the layer (it grew) are all asked for again, once."""
    monkeypatch.setenv("WARDSCOPE_ONS_ARCGIS", fake_http.url)
    path = "/Local_Authority_Districts_May_2024_Boundaries_UK_BUC/FeatureServer/0/query"
    fake_http.route(path, arcgis_service(LADS[:4], cap=2))
    dl = Downloader(tmp_path / "downloads")
    _fetch_arcgis(dataset("lad_boundaries"), tmp_path / "a.geojson", dl)
    first = len(fake_http.requests)
    more = LADS + [{**LADS[0], "LAD24CD": "E06000099", "LAD24NM": "New district"}]
    fake_http.route(path, arcgis_service(more, cap=2))  # republished with two more features
    got = _fetch_arcgis(dataset("lad_boundaries"), tmp_path / "b.geojson", Downloader(tmp_path / "downloads"))
    layer = read_boundary_file(got, code_field="LAD24CD", name_field="LAD24NM", level="lad")
    assert sorted(layer["code"]) == sorted(r["LAD24CD"] for r in more)
    asked = [int(q.get("resultOffset", -1)) for _, q in fake_http.requests[first:] if "returnCountOnly" not in q]
    assert asked == [0, 2, 4]  # the cached pages no longer add up to the count: every page afresh, once
    assert sum("returnCountOnly" in q for _, q in fake_http.requests[first:]) == 2  # the count is always asked
