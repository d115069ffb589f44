"""A pack of ward profiles: one PDF per ward and a contents page (PDF), in one zip written atomically.

:func:`write_pack` takes the reports one at a time (so a large area never
holds every profile in memory), reports progress as ``progress(done, total,
message)`` and renames the finished zip into place only when every profile
was written (on any error the target is untouched). File names inside the
zip are built from the ward's GSS code and an ASCII slug of its name, so a
ward name cannot make a path.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from geo import atomic
from geo.progress import silent
from layers.ward_summary import robust_rule, verdict_cell

CONTENTS_NAME = "00-contents.pdf"


@dataclass(frozen=True)
class PackEntry:
    """One ward's line on the contents page."""

    file_name: str
    code: str
    name: str
    lad_name: str
    rank_district: str         # the first profile's rank in the ward's district, e.g. "2 of 20" ("-" unscored)
    rank_england: str          # and in England, e.g. "196 of 6,784"
    verdict: str               # layers.ward_summary.verdict_cell, or why there is no score


def file_name(index: int, report) -> str:
    """``NN-slug-CODE.pdf``: the slug keeps ASCII letters and digits only."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", report.name).strip("-")[:40] or "ward"
    return f"{index:02d}-{slug}-{report.code}.pdf"


def entry_for(index: int, report) -> PackEntry:
    """The contents line of ``report`` (the ``index``-th profile in the pack)."""
    s = report.scores[0] if report.scores else None
    district = england = "-"
    if s is None:
        verdict = "no priority score"
    elif s["rank"] is None:
        verdict = f"not scored: {s['why']}"
    else:
        district, england = f"{s['rank_district']} of {s['n_district']}", f"{s['rank_national']:,} of {s['n_national']:,}"
        verdict = verdict_cell(s)
    return PackEntry(file_name(index, report), report.code, report.name, report.lad_name, district, england, verdict)


def contents_pdf(area_name: str, profile_name: str, entries: list[PackEntry], generated: str,
                 rule: str | None = None) -> bytes:
    """The contents page: each ward, its file, its ranks on the first profile and what the weight draws found
    (``rule``, from :func:`layers.ward_summary.robust_rule`, says how)."""
    from fpdf.fonts import FontFace

    from layers.ward_report import new_pdf

    pdf = new_pdf()
    pdf.add_page()
    pdf.set_font("dejavu", "B", 16)
    pdf.multi_cell(0, 8, f"Ward profiles: {area_name}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 9)
    pdf.multi_cell(0, 4.6, f"{len(entries)} wards, one PDF each in this pack, produced {generated}. Ranks are on the "
                           f"{profile_name} score (1 = most need), within each ward's own district and within England.",
                   new_x="LMARGIN", new_y="NEXT", align="L")
    if rule:
        pdf.multi_cell(0, 4.6, rule, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(3)
    pdf.set_font("dejavu", "", 7.5)
    head = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
    with pdf.table(col_widths=(38, 28, 46, 20, 24, 30), line_height=3.8, headings_style=head, text_align="LEFT",
                   borders_layout="HORIZONTAL_LINES", padding=0.8) as table:
        row = table.row()
        for h in ("Ward", "District", "File", "Rank in district", "Rank in England", "Under other weightings"):
            row.cell(h)
        for e in entries:
            row = table.row()
            for text in (f"{e.name} ({e.code})", e.lad_name, e.file_name, e.rank_district, e.rank_england, e.verdict):
                row.cell(text)
    return bytes(pdf.output())


def write_pack(path: Path, reports: Iterable, total: int, *, area_name: str, render: Callable[[object], bytes],
               progress=silent) -> list[PackEntry]:
    """Write ``reports`` (``total`` of them) as PDFs (``render(report)``) plus the contents page into the zip
    ``path``, atomically; returns the contents entries."""
    entries: list[PackEntry] = []
    profile_name, generated, rule = "priority", "", None
    with atomic.atomic_path(Path(path), suffix=".tmp.zip") as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for i, report in enumerate(reports, start=1):
                progress(i - 1, total, f"{report.name} ({report.code})")
                entry = entry_for(i, report)
                bundle.writestr(entry.file_name, render(report))
                entries.append(entry)
                generated = report.generated
                if report.scores:
                    profile_name = report.scores[0]["profile"]
                    rule = rule or robust_rule(report.scores[0], area_name)
            bundle.writestr(CONTENTS_NAME, contents_pdf(area_name, profile_name, entries, generated, rule))
        progress(total, total, "contents page written")
    return entries

