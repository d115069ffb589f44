"""cli.py hubs: coverage, optimisation and one-line errors, with a hand-built demand table for Luton."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from layers.hubs.demand import demand_text
from tasks import hubs
from tasks.inputs import SitesInput, area_of

from tests.hubs_files import LUTON, run, write_luton_demand


@pytest.fixture(scope="module")
def files(store, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hubs_cli")
    write_luton_demand(store, tmp)
    (tmp / "hubs.csv").write_text("name,easting,northing,type,fixed\n"
                                  "Luton Jobcentre Plus,509200,221300,Jobcentre Plus,yes\n"
                                  "Marsh Farm library,506900,225400,library,no\n", encoding="utf-8")
    (tmp / "leeds.csv").write_text("name,easting,northing\nLuton hub,509200,221300\nLeeds hub,429900,433500\n",
                                   encoding="utf-8")
    return tmp


def one_line_error(out, start):
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith(f"error: {start}"), out.stderr


def test_coverage_prints_district_figures_and_the_sentence(store, files):
    out = run("--demand-file", str(files / "demand.csv"), "--area", "Luton", "--sites", str(files / "hubs.csv"),
              "--mode", "bus", "--minutes", "30")
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(io.StringIO(out.stdout))
    assert table["level"].tolist() == ["district", "area of interest"] and table["lad_code"].iloc[0] == LUTON
    request = hubs.HubsRequest(area_of("Luton", store), demand_csv=demand_text(files / "demand.csv"),
                               demand_source=str(files / "demand.csv"), existing=SitesInput.from_file(str(files / "hubs.csv")),
                               mode="bus", minutes=30)
    plan = hubs.run(request, store).data
    pct = plan.coverage.summary["covered_pct"]
    assert table["covered_pct"].iloc[1] == pytest.approx(round(pct, 2))
    assert out.stderr.splitlines()[0].startswith(f"{pct:.1f}% of priority demand in Luton is within 30 minutes by bus of a hub (")
    assert "note: times are estimates" in out.stderr


def test_mclp_json_has_the_plan_the_solver_status_and_the_marginal_gains(files):
    out = run("--demand-file", str(files / "demand.csv"), "--area", "Luton", "--sites", str(files / "hubs.csv"),
              "--candidates", "stations", "--candidates", "priority-centroids", "--model", "mclp", "--k", "2",
              "--mode", "walk", "--minutes", "20", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["solver"]["status"] == "optimal" and data["solver"]["gap"] == 0
    decisions = pd.DataFrame(data["sites"]).set_index("name")["decision"]
    assert decisions["Luton Jobcentre Plus"] == "fixed" and (decisions == "new").sum() + (decisions == "kept").sum() == 2
    assert data["coverage_after"]["covered_pct"] > data["coverage"]["covered_pct"]
    assert [r["order"] for r in data["marginal"]] == [0, 1, 2]
    assert any(s.startswith("the best 2 sites added to the existing hubs (") for s in data["statements"])
    assert any(s.startswith("this is the best possible plan for the question: the optimiser (CBC) proved it") for s in data["statements"])


def test_mclp_curve_table(files):
    out = run("--demand-file", str(files / "demand.csv"), "--area", "Luton", "--sites", str(files / "hubs.csv"),
              "--candidates", "priority-centroids", "--model", "mclp", "--k", "3", "--mode", "walk", "--minutes", "15",
              "--curve", "--table", "curve")
    assert out.returncode == 0, out.stderr
    curve = pd.read_csv(io.StringIO(out.stdout))
    assert curve["k"].tolist() == [0, 1, 2, 3] and (curve["covered_weight"].diff().iloc[1:] >= 0).all()
    assert "best coverage for each number of new sites (re-solved): k=1 " in out.stderr


def test_errors_are_one_line(files):
    base = ["--demand-file", str(files / "demand.csv"), "--area", "Luton", "--sites", str(files / "hubs.csv")]
    one_line_error(run(*base, "--candidates", "stations", "--model", "lscp", "--mode", "walk", "--minutes", "4"),
                   "no plan can put every priority area within 4 minutes on foot of a hub")
    out = run(*base, "--candidates", "stations", "--model", "mclp", "--k", "40")
    one_line_error(out, "40 new sites (k) were asked for but there are only 3 candidate sites and 1 removable hub to choose from")
    one_line_error(run("--demand-file", str(files / "demand.csv"), "--area", "Luton", "--sites", str(files / "leeds.csv")),
                   "1 site lies outside Luton: 'Leeds hub' (existing, ")
    one_line_error(run("--demand", "neighbourhood", "--weight", "claimants", "--area", "Luton", "--sites",
                       str(files / "hubs.csv")), "claimants demand needs the claimant_count indicator, which is not installed")
    one_line_error(run(*base, "--table", "marginal"), "the marginal table comes from an optimisation")
    one_line_error(run(*base, "--model", "pmedian", "--candidates", "stations", "--k", "1", "--curve"), "--curve re-solves MCLP")


def test_demand_from_the_neighbourhood_profile(files, store):
    """Priority demand straight from the shipped profile and the installed indicators."""
    from layers.profiles import load_profile
    from layers.scoring import score_area

    out = run("--demand", "neighbourhood", "--area", "Luton", "--sites", str(files / "hubs.csv"), "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    scored = score_area(load_profile("neighbourhood"), "Luton", level="lsoa", store=store)
    n_priority = int(scored.areas["band"].isin(["top 10%", "top 20%"]).sum())
    assert data["coverage"]["priority_areas"] == n_priority
    pop = store.table("indicators", "census_lsoa", ["E06000032"]).set_index("code")["census21_population"]
    priority_codes = scored.areas.loc[scored.areas["band"].isin(["top 10%", "top 20%"]), "code"]
    assert data["coverage"]["priority_weight"] == pytest.approx(pop.reindex(priority_codes).sum())
