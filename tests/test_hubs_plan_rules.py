"""Hub plans: no new site that adds nothing, capacities (capacitated MCLP), candidate files (CLI and app)."""

from __future__ import annotations

import io
import itertools
import json

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from layers.hubs.demand import demand_text
from layers.hubs.errors import HubError, NothingToAddError
from layers.hubs.models import HubCapacityMCLP, HubMCLP, HubPMedian
from tasks import hubs
from tasks.inputs import SitesInput, area_of

from tests.hubs_files import ROOT, run, write_luton_demand


@pytest.fixture(scope="module")
def files(store, tmp_path_factory):
    """A Luton demand table (30% priority), two hubs with capacities and a candidates file of libraries."""
    tmp = tmp_path_factory.mktemp("hubs_rules")
    write_luton_demand(store, tmp)
    (tmp / "hubs.csv").write_text("name,easting,northing,type,capacity,fixed\n"
                                  "Luton Jobcentre Plus,509200,221300,Jobcentre Plus,\"8,000\",yes\n"
                                  "Marsh Farm library,506900,225400,library,5000,yes\n", encoding="utf-8")
    (tmp / "libraries.csv").write_text("name,easting,northing,type,capacity\n"
                                       "Lewsey library,504600,223300,library,6000\n"
                                       "Stopsley library,510900,223700,library,6000\n"
                                       "Wigmore family hub,512400,222300,family hub,4000\n"
                                       "Farley family hub,507700,219600,family hub,4000\n", encoding="utf-8")
    return tmp


def request(files, store, **kw):
    base = dict(demand_csv=demand_text(files / "demand.csv"), demand_source=str(files / "demand.csv"),
                existing=SitesInput.from_file(str(files / "hubs.csv")))
    return hubs.HubsRequest(area_of("Luton", store), **{**base, **kw})


# -- a new site that adds nothing is never listed -------------------------------------------------------
def test_mclp_lists_only_the_sites_that_add_coverage():
    """Three areas, one fixed hub reaching the first two; only candidate 1 reaches the third: k = 3 gives one site."""
    minutes = np.array([[5.0, 50, 50, 50], [8, 60, 40, 50], [70, 10, 55, np.nan]])
    model = HubMCLP.from_matrix(minutes, [100, 200, 300], 30, 3, fixed=[True, False, False, False]).solve()
    assert model.open.tolist() == [True, True, False, False]
    assert sorted(model.idle) == ["site 2", "site 3"]
    assert model.after.summary["covered_pct"] == 100.0
    text = model.statements()
    assert text[0].startswith("the best site added to the existing hubs (site 1) raises coverage")
    assert ("only 1 of the 3 sites asked for adds anything: any further new site would add no priority demand "
            "within reach, so none is listed (asking for 1 gives the same plan)") in text
    assert model.site_table().set_index("name")["decision"].to_dict() == {
        "site 0": "fixed", "site 1": "new", "site 2": "not chosen", "site 3": "not chosen"}


def test_pmedian_drops_a_site_that_shortens_no_journey():
    """Candidate 2 is never nearer than the fixed hub or candidate 1: with k = 2 it is not opened."""
    minutes = np.array([[5.0, 20, 30], [25, 5, 30], [30, 6, 40]])
    model = HubPMedian.from_matrix(minutes, [100, 100, 100], 30, 2, fixed=[True, False, False]).solve()
    assert model.open.tolist() == [True, True, False] and model.idle == ["site 2"]
    assert any(s.startswith("only 1 of the 2 sites asked for adds anything: any further new site would add no "
                            "shorter journey for anyone") for s in model.statements())


def test_luton_hubs_that_cover_everything_stop_the_plan(files, store):
    """By car within 30 minutes the Jobcentre and the library reach every Luton priority area: nothing to plan."""
    req = request(files, store, candidates=("stations",), mode="car", minutes=30, model="mclp", k=2)
    with pytest.raises(NothingToAddError, match="^the existing hubs already put every priority area within 30 minutes "
                                                "by car of a hub, so no new site would add coverage; nothing to plan$"):
        hubs.run(req, store)
    out = run("--demand-file", str(files / "demand.csv"), "--area", "Luton", "--sites", str(files / "hubs.csv"),
              "--candidates", "stations", "--mode", "car", "--minutes", "30", "--model", "mclp", "--k", "2")
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("error: the existing hubs already put every priority area within 30 minutes by car")


def test_luton_plan_stops_at_the_sites_that_add_coverage(files, store):
    """30 centroid candidates asked for on foot within 20 minutes; fewer reach everyone, and only those are listed."""
    plan = hubs.run(request(files, store, candidates=("priority-centroids",), mode="walk", minutes=20, model="mclp",
                            k=30), store).data
    model = plan.result
    chosen = int((model.open & ~model.fixed).sum())
    assert 0 < chosen < 30 and len(model.idle) == 30 - chosen
    assert model.after.summary["covered_pct"] == pytest.approx(100.0)
    gains = model.marginal["added_weight"].iloc[1:]
    assert (gains > 0).all() and len(gains) == chosen
    assert f"only {chosen} of the 30 sites asked for {'adds' if chosen == 1 else 'add'} anything" in " ".join(plan.statements())
    sites = plan.table("sites")
    assert (sites["decision"] == "new").sum() == chosen


# -- capacities ------------------------------------------------------------------------------------------
def _two_hubs():
    """Areas A, B (100 each) reached by the Jobcentre (capacity 120) and the library; area C (50) only by the hall."""
    minutes = np.array([[10, 12, 50], [15, 10, 60], [50, 55, 5.0]])
    sites = pd.DataFrame({"site_id": ["jc", "lib", "hall"], "name": ["Jobcentre", "Library", "Hall"],
                          "capacity": [120, np.nan, np.nan]})
    return minutes, [100, 100, 50], sites


def test_capacity_binding_changes_the_choice():
    minutes, weights, sites = _two_hubs()
    plain = HubMCLP.from_matrix(minutes, weights, 30, 1, fixed=[True, False, False], sites=sites).solve()
    assert plain.sites["name"][plain.open & ~plain.fixed].tolist() == ["Hall"]  # coverage alone: reach C
    model = HubCapacityMCLP.from_matrix(minutes, weights, 30, 1, fixed=[True, False, False], sites=sites,
                                        capacity=sites["capacity"]).solve()
    assert model.sites["name"][model.open & ~model.fixed].tolist() == ["Library"]  # 80 more served than the hall's 50
    assert model.served.tolist() == pytest.approx([120, 80, 0])
    assert model.capacity_figures() == pytest.approx({
        "priority_weight": 250, "served_weight": 200, "served_pct": 80.0, "unmet_weight": 50,
        "out_of_reach_weight": 50, "over_capacity_weight": 0})
    text = model.statements()
    assert "1 hub is full: Jobcentre (120 of 120)" in text
    assert "priority demand served by each open hub (of its capacity): Jobcentre 120 of 120, Library 80" in text
    assert text[1].startswith("unmet demand: 50 priority demand (0 within reach but beyond the hubs' capacity, "
                              "50 out of reach of every open hub)")
    table = model.site_table().set_index("name")
    assert table.loc["Jobcentre", "spare_capacity"] == pytest.approx(0)
    assert np.isnan(table.loc["Hall", "served_weight"])


def test_capacity_with_no_room_elsewhere_leaves_demand_unmet():
    """Both hubs capped: the library is full too, so 30 of A + B stay unmet though within reach."""
    minutes, weights, sites = _two_hubs()
    sites["capacity"] = [120, 50, np.nan]
    model = HubCapacityMCLP.from_matrix(minutes, weights, 30, 1, fixed=[True, False, False], sites=sites,
                                        capacity=sites["capacity"]).solve()
    # library serves 50 of A/B, the hall would serve 50 of C: a tie; either way 170 served
    figures = model.capacity_figures()
    assert figures["served_weight"] == pytest.approx(170)
    assert figures["unmet_weight"] == pytest.approx(80)


def _best_served(minutes, weights, capacity, threshold, k):
    """Exhaustive: for every choice of k sites, the most demand served (an LP over the shares), best of all."""
    reach = minutes <= threshold
    n, m = reach.shape
    best = 0.0
    for combo in itertools.combinations(range(m), k):
        pairs = [(i, j) for i in range(n) for j in combo if reach[i, j]]
        if not pairs:
            continue
        c = [-weights[i] for i, _ in pairs]
        a, b = [], []
        for i in range(n):
            a.append([1.0 if p[0] == i else 0.0 for p in pairs])
            b.append(1.0)
        for j in combo:
            if np.isfinite(capacity[j]):
                a.append([weights[p[0]] if p[1] == j else 0.0 for p in pairs])
                b.append(capacity[j])
        res = linprog(c, A_ub=a, b_ub=b, bounds=(0, 1), method="highs")
        best = max(best, -res.fun)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_capacitated_mclp_matches_exhaustive_search(seed):
    rng = np.random.default_rng(seed)
    minutes = rng.uniform(0, 50, (12, 6)).round(1)
    weights = rng.integers(10, 100, 12).astype(float)
    capacity = np.where(rng.random(6) < 0.7, rng.integers(50, 200, 6), np.nan).astype(float)
    model = HubCapacityMCLP.from_matrix(minutes, weights, 20, 2, capacity=capacity).solve()
    best = _best_served(minutes, weights, capacity, 20, 2)
    assert model.capacity_figures()["served_weight"] == pytest.approx(best, rel=1e-6)
    cap = np.where(np.isnan(capacity), np.inf, capacity)
    assert (model.served <= cap + 1e-6).all()


def test_capacity_needs_mclp_and_some_capacity():
    minutes, weights, sites = _two_hubs()
    with pytest.raises(HubError, match="^planning with capacities needs a capacity"):
        HubCapacityMCLP.from_matrix(minutes, weights, 30, 1, capacity=[np.nan] * 3)


def test_luton_capacity_plan_on_the_cli(files):
    """Real Luton: two hubs and four library/family-hub candidates, all with capacities; 30 minutes by bus."""
    base = ["--demand-file", str(files / "demand.csv"), "--area", "Luton", "--sites", str(files / "hubs.csv"),
            "--candidates", str(files / "libraries.csv"), "--mode", "bus", "--minutes", "30", "--model", "mclp",
            "--k", "2"]
    out = run(*base, "--capacity", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    figures = data["capacity"]
    assert figures["served_weight"] + figures["unmet_weight"] == pytest.approx(figures["priority_weight"])
    assert figures["served_weight"] <= data["coverage_after"]["covered_weight"] + 1e-6
    sites = pd.DataFrame(data["sites"])
    open_ = sites[sites["decision"].isin(["fixed", "new"])]
    assert len(open_) == 4 - len([s for s in data["statements"] if s.startswith("only ")])
    assert (open_["served_weight"] <= open_["capacity"] + 0.01).all()
    assert figures["served_weight"] == pytest.approx(open_["served_weight"].sum(), abs=0.1)
    # capacities total 8,000 + 5,000 + the two chosen: at most that is served
    assert figures["served_weight"] <= open_["capacity"].sum() + 0.01
    assert any(s.startswith("unmet demand: ") for s in data["statements"])
    assert "capacitated MCLP model: " in " ".join(data["notes"])
    plain = json.loads(run(*base, "--format", "json").stdout)
    assert "capacity" not in plain and figures["served_weight"] <= plain["coverage_after"]["covered_weight"] + 1e-6
    refused = run(*base[:-4], "--model", "pmedian", "--k", "1", "--capacity")
    assert refused.returncode == 2 and refused.stderr.startswith("error: --capacity plans with each hub's capacity")


# -- candidate files -----------------------------------------------------------------------------------
def test_a_services_file_is_a_candidate_list_on_the_cli(files):
    out = run("--demand-file", str(files / "demand.csv"), "--area", "Luton", "--sites", str(files / "hubs.csv"),
              "--candidates", str(files / "libraries.csv"), "--candidates", "stations", "--mode", "walk",
              "--minutes", "20", "--model", "mclp", "--k", "2", "--table", "sites")
    assert out.returncode == 0, out.stderr
    sites = pd.read_csv(io.StringIO(out.stdout))
    from_file = sites[sites["name"].isin(["Lewsey library", "Stopsley library", "Wigmore family hub",
                                          "Farley family hub"])]
    assert len(from_file) == 4 and set(from_file["role"]) == {"candidate"}
    assert set(from_file["type"]) == {"library", "family hub"} and set(from_file["capacity"]) == {6000, 4000}
    assert sites["name"].str.endswith(" station").any()


def test_the_app_passes_uploaded_candidates_on(files, store):
    from app_pages import requests as page
    from geo.employment_sites import read_sites
    from layers.profiles import load_profile

    own = read_sites(files / "libraries.csv")
    req = page.hubs_request(area_of("Luton", store), load_profile("neighbourhood"), bands=("top 10%", "top 20%"),
                            weight="population", existing=read_sites(files / "hubs.csv"), generated=(), own=own,
                            mode="walk", minutes=20, model="mclp", k=2, capacity=True)
    assert req.capacity and len(req.candidates) == 1
    plan = hubs.run(req, store).data
    cands = plan.sites[plan.sites["role"] == "candidate"]
    assert sorted(cands["name"]) == ["Farley family hub", "Lewsey library", "Stopsley library", "Wigmore family hub"]
    assert cands["capacity"].tolist() == [6000, 6000, 4000, 4000]
    assert hasattr(plan.result, "capacity_figures")
    assert page.hubs_request(area_of("Luton", store), load_profile("neighbourhood"), bands=("top 10%",),
                             weight="population", existing=None, generated=("stations",), own=own, mode="walk",
                             minutes=20, model="pmedian", k=2, capacity=True).capacity is False


def test_capacity_tables_are_labelled(files, store):
    from layers.readable import readable_table

    plan = hubs.run(request(files, store, candidates=(SitesInput.from_file(str(files / "libraries.csv")),),
                            mode="bus", minutes=30, model="mclp", k=1, capacity=True), store).data
    shown = readable_table(plan.table("sites"), plan.table_labels(), missing=plan.TABLE_MISSING)
    assert {"Priority demand it serves (within its capacity)", "Spare capacity (people)"} <= set(shown.columns)
    assert not [c for c in shown.columns if "_" in c] and not shown.isna().any().any()
    spare = shown.set_index("Site")["Spare capacity (people)"]
    assert spare[shown.set_index("Site")["Decision"] == "not chosen"].eq("no limit, or not open").all()


def test_hub_page_capacity_option(store):
    """The Hub planner runs with and without the capacity option; with no capacities given it says what is needed."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("app_pages/hubs.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    box = next(c for c in at.checkbox if c.label == "Each hub serves at most its capacity")
    box.check().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("planning with capacities needs a capacity (people a hub can "
                                                     "serve) for at least one site; none of the ")
