"""The estimate engine against hand-computed times, and the shared interface's validation."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geo.errors import CRSError, TravelError
from geo.travel import (EngineUnavailable, NoIDColumnError, NonUniqueIDError, UnknownModeError, access_summary,
                        parameter_table, summarise_minutes, travel_time_matrix)
from geo.travel.estimate import distance_for_minutes, minutes_for_distance

X0, Y0 = 500_000.0, 250_000.0


def pts(offsets, prefix="p", col="id", **extra):
    return gpd.GeoDataFrame({col: [f"{prefix}{i}" for i in range(len(offsets))], **extra},
                            geometry=gpd.points_from_xy([X0 + dx for dx, _ in offsets], [Y0 + dy for _, dy in offsets]),
                            crs=27700)


def matrix(origins, sites, mode, **params):
    m = travel_time_matrix(origins, sites, mode, engine="estimate", origin_id="id", destination_id="id", **params)
    return m["minutes"].to_numpy().reshape(len(origins), len(sites)), m


def test_hand_computed_minutes_for_each_mode():
    o = pts([(0, 0)])
    s = pts([(3000, 4000)], "s")  # 5 km straight line, 6 km routed at circuity 1.2
    walk, frame = matrix(o, s, "walk")
    assert list(frame.columns) == ["from_id", "to_id", "minutes"]
    assert walk[0, 0] == pytest.approx(6000 / 80)                  # 4.8 km/h = 80 m/min -> 75 min
    assert matrix(o, s, "cycle")[0][0, 0] == pytest.approx(6000 / (16000 / 60) + 5)        # 22.5 + 5 parking
    assert matrix(o, s, "car")[0][0, 0] == pytest.approx(6000 / (40900 / 60) + 5)          # 8.80 + 5 parking
    # bus: 2 x 400 m walk (10 min) + half a 20-minute headway (10) + 6 km at 20 km/h (18) = 38 min
    assert matrix(o, s, "bus")[0][0, 0] == pytest.approx(38.0)
    assert "estimate" in frame.attrs["label"] and frame.attrs["params"]["walk_speed_kmh"] == 4.8


def test_bus_is_bus_or_walk_whichever_is_quicker():
    near = minutes_for_distance(np.array([500.0]), "bus")[0]
    assert near == pytest.approx(500 * 1.2 / 80)  # 7.5 min on foot beats 10 + 10 min before the bus
    assert minutes_for_distance(np.array([0.0]), "bus")[0] == 0.0


def test_parameters_are_adjustable_and_checked():
    o, s = pts([(0, 0)]), pts([(0, 8000)], "s")
    m, frame = matrix(o, s, "bus", bus_headway_min=60, bus_speed_kmh=30, bus_circuity=1.5)
    assert m[0, 0] == pytest.approx(10 + 30 + 12000 / 500)
    assert frame.attrs["params"]["bus_headway_min"] == 60
    with pytest.raises(TravelError, match="unknown estimate parameter"):
        matrix(o, s, "walk", speed=3)
    with pytest.raises(TravelError, match="must be positive"):
        matrix(o, s, "walk", walk_speed_kmh=0)


def test_max_minutes_marks_unreachable_as_nan_not_zero():
    m, _ = matrix(pts([(0, 0)]), pts([(0, 1000), (0, 20000)], "s"), "walk", max_minutes=60)
    assert m[0, 0] == pytest.approx(15.0) and np.isnan(m[0, 1])


def test_inverse_distance_matches_forward_time():
    for mode in ("walk", "cycle", "car", "bus"):
        for t in (3.0, 12.0, 30.0, 45.0, 60.0):
            r = distance_for_minutes(t, mode)
            if r >= 0:
                assert minutes_for_distance(np.array([r]), mode)[0] == pytest.approx(t)
                assert minutes_for_distance(np.array([r + 1]), mode)[0] > t
    assert distance_for_minutes(3.0, "car") == -1  # parking alone takes 5 minutes


def test_fast_summary_equals_the_full_matrix():
    rng = np.random.default_rng(1)
    origins = pts([tuple(v) for v in rng.uniform(-30_000, 30_000, (400, 2))], "o")
    sites = pts([tuple(v) for v in rng.uniform(-30_000, 30_000, (25, 2))], "s", jobs=rng.integers(0, 5000, 25).astype(float))
    for mode in ("walk", "cycle", "car", "bus"):
        fast = access_summary(origins, sites, mode, engine="estimate", weight="jobs", origin_id="id", destination_id="id")
        full, _ = matrix(origins, sites, mode)
        ref = summarise_minutes(full, (30, 45, 60), sites["jobs"].to_numpy())
        assert np.allclose(fast["nearest_minutes"], ref["nearest_minutes"])
        assert list(fast["nearest_id"]) == list(sites["id"].to_numpy()[ref["nearest_index"]])
        for t in (30, 45, 60):
            assert (fast[f"n_within_{t}"].to_numpy() == ref[f"n_within_{t}"]).all()
            assert np.allclose(fast[f"jobs_within_{t}"], ref[f"w_within_{t}"])
        assert fast["n_within_60"].sum() > 0


def test_summarise_minutes_never_counts_unreachable():
    minutes = np.array([[np.nan, 50.0], [np.nan, np.nan]])
    out = summarise_minutes(minutes, (30, 60), np.array([100.0, 7.0]))
    assert list(out["nearest_index"]) == [1, -1]
    assert out["nearest_minutes"][0] == 50 and np.isnan(out["nearest_minutes"][1])
    assert list(out["n_within_60"]) == [1, 0] and list(out["w_within_60"]) == [7.0, 0.0]
    assert list(out["n_within_30"]) == [0, 0]


def test_one_validator_for_ids_crs_and_geometry():
    o, s = pts([(0, 0), (10, 0)]), pts([(0, 5)], "s")
    with pytest.raises(NoIDColumnError, match="no id column 'code'"):
        travel_time_matrix(o, s, "walk", engine="estimate", destination_id="id")
    dup = o.assign(id=["a", "a"])
    with pytest.raises(NonUniqueIDError, match="'a' appears more than once"):
        travel_time_matrix(dup, s, "walk", engine="estimate", origin_id="id", destination_id="id")
    with pytest.raises(CRSError, match="EPSG:27700"):
        travel_time_matrix(o.to_crs(4326), s, "walk", engine="estimate", origin_id="id", destination_id="id")
    with pytest.raises(TravelError, match="must be points"):
        travel_time_matrix(o.set_geometry(o.buffer(5)), s, "walk", engine="estimate", origin_id="id", destination_id="id")
    with pytest.raises(UnknownModeError, match="unknown mode 'tram'"):
        travel_time_matrix(o, s, "tram", engine="estimate", origin_id="id", destination_id="id")
    with pytest.raises(EngineUnavailable, match="unknown travel-time engine 'r5'"):
        travel_time_matrix(o, s, "walk", engine="r5", origin_id="id", destination_id="id")


def test_engine_comes_from_config_when_not_named(monkeypatch):
    o, s = pts([(0, 0)]), pts([(0, 5)], "s")
    monkeypatch.setenv("WARDSCOPE_TRAVEL_ENGINE", "network")
    with pytest.raises(TravelError, match="needs a road network"):
        travel_time_matrix(o, s, "walk", origin_id="id", destination_id="id")
    monkeypatch.delenv("WARDSCOPE_TRAVEL_ENGINE")
    assert travel_time_matrix(o, s, "walk", origin_id="id", destination_id="id").attrs["engine"] == "estimate"


def test_every_parameter_has_a_unit_and_a_source():
    for engine in ("estimate", "network"):
        table = parameter_table(engine)
        assert table["unit"].str.len().gt(0).all() and table["source"].str.len().gt(10).all()


def test_a_rural_origin_at_the_same_distance_gets_the_rural_figures():
    # two origins 8 km from their site, one flagged rural (as the LSOA layer's urban_rural says)
    o = pts([(0, 0), (0, 50_000)], urban_rural=["Urban", "Rural"])
    s = pts([(8000, 0), (8000, 50_000)], "s")
    car, frame = matrix(o, s, "car")
    assert car[0, 0] == pytest.approx(8000 * 1.2 / (40900 / 60) + 5)          # urban: 1.2 at 40.9 km/h
    assert car[1, 1] == pytest.approx(8000 * 1.3 / (56300 / 60) + 5)          # rural: 1.3 at 56.3 km/h
    bus, _ = matrix(o, s, "bus")
    assert bus[0, 0] == pytest.approx(10 + 10 + 8000 * 1.2 / (20000 / 60))    # 20-minute headway
    assert bus[1, 1] == pytest.approx(10 + 30 + 8000 * 1.4 / (28000 / 60))    # hourly: 64 min
    assert "1 of 2 origins are rural" in frame.attrs["notes"][0]
    # the fast summary answers rural origins with the rural radius too
    summary = access_summary(o, s, "bus", engine="estimate", origin_id="id", destination_id="id")
    assert summary["nearest_minutes"].tolist() == pytest.approx([bus[0, 0], bus[1, 1]])
    assert summary["n_within_60"].tolist() == [1, 0]
    # rural values are parameters like any other, and checked the same way
    m, _ = matrix(o, s, "bus", bus_headway_min_rural=20, bus_speed_kmh_rural=20, bus_circuity_rural=1.2)
    assert m[1, 1] == pytest.approx(bus[0, 0])
    with pytest.raises(TravelError, match="must be positive"):
        matrix(o, s, "car", car_speed_kmh_rural=0)
    # without the classification every origin is urban
    plain = pts([(0, 0), (0, 50_000)])
    assert matrix(plain, s, "car")[0][1, 1] == pytest.approx(car[0, 0])
    assert set(parameter_table("estimate")["name"]) >= {f"{n}_rural" for n in
                                                        ("car_speed_kmh", "bus_headway_min", "circuity")}
