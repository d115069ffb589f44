"""The install's progress: one bar, a line per dataset and per retry, sizes and time left."""

from __future__ import annotations

import io

from geo.progress import CallbackReport, DatasetLine, TqdmReport, as_report


def test_one_bar_with_a_line_per_dataset_and_retry():
    out = io.StringIO()
    report = TqdmReport("install", file=out)
    report.expect(40 * 2**20)
    report.step(0, 3, "district boundaries")
    report.transferred(10 * 2**20)
    report.dataset(DatasetLine("lad_boundaries", "Districts", "downloaded", 10 * 2**20, 3.2))
    report.attempt("Wards: attempt 1 of 4 failed (HTTP 503 from ons); trying again in 2 s")
    report.dataset(DatasetLine("ward_boundaries", "Wards", "from cache", 6_700_000))
    report.dataset(DatasetLine("claimant", "Claimant count", "failed", detail="Nomis answered HTTP 503"))
    report.step(2, 3, "claimant count (Nomis)")
    report.close()
    text = out.getvalue().replace("\r", "\n")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert "downloaded Districts  10.0 MB in 3 s" in lines
    assert "from cache Wards  6.4 MB" in lines
    assert "failed     Claimant count: Nomis answered HTTP 503" in lines
    assert "retry      Wards: attempt 1 of 4 failed (HTTP 503 from ons); trying again in 2 s" in lines
    bars = [line for line in lines if line.startswith("install:")]
    assert bars and all("/" in bar for bar in bars)
    assert any("<" in bar and "3/3 claimant count" in bar for bar in bars)  # elapsed<time left, and the step
    assert report.summary() == "datasets: 1 downloaded (10.0 MB), 1 from cache (6.4 MB), 1 failed"


def test_a_mirror_install_counts_steps_and_the_app_gets_plain_callbacks():
    out = io.StringIO()
    report = TqdmReport(file=out)
    for i in range(4):
        report.step(i, 4, f"step {i}")
    report.close()
    assert "4/4" in out.getvalue().replace("\r", "\n").splitlines()[-1] and report.summary() is None
    seen = []
    wrapped = as_report(lambda done, total, message: seen.append((done, total, message)))
    assert isinstance(wrapped, CallbackReport)
    wrapped(1, 5, "wards")
    wrapped.dataset(DatasetLine("x", "X", "downloaded"))  # the app's callback has no place for these: ignored
    assert seen == [(1, 5, "wards")] and as_report(report) is report
