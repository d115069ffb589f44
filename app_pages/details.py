"""Page pieces shared by the explorer and the scoring page: the selected area and the ranking table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import cache, state
from geo.csvsafe import to_csv_bytes
from geo.errors import WardscopeError
from geo.escape import html_text, md_text
from geo.saved import slug
from geo.words import agree, count_of
from layers.lay_words import score_scale_words
from layers.mapview import LEVEL_LABEL, format_value
from layers.scoring import top_reasons_table

RAG_TEXT = {"red": "worse than England", "amber": "similar to England", "green": "better than England"}
RAG_WORD = {"red": "Red", "amber": "Amber", "green": "Green"}
RAG_STYLE = {"red": "background:#fde0dd;color:#99000d", "amber": "background:#fff3cd;color:#7a4f01",
             "green": "background:#dff3e4;color:#00441b"}
PANEL_CSS = """<style>
.ws-sel{max-height:420px;overflow-y:auto;overflow-x:hidden;font-size:0.82rem;line-height:1.3}
.ws-sel .ind{padding:5px 0;border-bottom:1px solid #e6e6e6}
.ws-sel .lab{font-weight:600;overflow-wrap:anywhere}
.ws-sel .rag{display:inline-block;border-radius:3px;padding:0 5px;margin-left:4px;font-weight:600;font-size:0.75rem}
.ws-sel .figs{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:2px 6px;margin-top:2px}
.ws-sel .figs span{overflow-wrap:anywhere}
.ws-sel .figs i{display:block;font-style:normal;color:#666;font-size:0.72rem}
</style>"""


def panel_html(rows: list[dict]) -> str:
    """Stacked indicator figures for a narrow column: label and RAG word, then value, district, area and England.

    Every text is escaped (indicator labels can come from users' own indicators).
    """
    blocks = []
    for r in rows:
        rag = r["rag"]
        word = (f'<span class="rag" style="{RAG_STYLE[rag]}" title="{html_text(RAG_TEXT[rag])}">'
                f'{RAG_WORD[rag]}: {html_text(RAG_TEXT[rag])}</span>') if rag in RAG_WORD else \
            '<span class="rag" style="background:#eee;color:#333">not rated</span>'
        figs = "".join(f"<span><i>{name}</i>{html_text(r[key])}</span>"
                       for name, key in (("Value", "value"), ("District", "district"), ("Area", "area"),
                                         ("England", "england")))
        blocks.append(f'<div class="ind"><div><span class="lab">{html_text(r["label"])}</span>{word}</div>'
                      f'<div class="figs">{figs}</div></div>')
    return PANEL_CSS + '<div class="ws-sel">' + "".join(blocks) + "</div>"


def selected_area(store, area, level: str, table: pd.DataFrame, code: str | None) -> None:
    """Figures for the clicked area against its district, the area of interest and England."""
    st.markdown("**Selected area**")
    if not code or code not in set(table.loc[table["lad_code"].isin(area.lad_codes), "code"]):
        st.caption("Click an area on the map, search for it or choose it above to see its figures here.")
        return
    row = table.set_index("code").loc[code]
    st.markdown(f"### {md_text(row['name'])}\n`{code}` · {md_text(row['lad_name'])}")
    comp = cache.cached_comparators(cache.key(), level, area.name, tuple(area.lad_codes))
    mine = comp[comp["code"] == code]
    reg = cache.registry()
    rows = []
    for r in mine.itertuples(index=False):
        ind = reg.get(r.indicator)
        if ind is None or ind.direction == 0:
            continue
        rows.append({"label": ind.label, "value": format_value(r.value, ind.unit, ind.decimals),
                     "district": format_value(r.district_value, ind.unit, ind.decimals),
                     "area": format_value(r.area_value, ind.unit, ind.decimals),
                     "england": format_value(r.england_value, ind.unit, ind.decimals), "rag": r.rag})
    if rows:
        st.html(panel_html(rows))
    if level == "ward":
        if st.button("Open ward profile", key=f"open-profile-{code}", type="primary"):
            state.set_choice("profile_ward", code)
            st.switch_page("app_pages/ward_profile.py")


def _ranked(result) -> tuple[pd.DataFrame, dict]:
    """The ranked areas of a score, best first, and the label of each of its indicators."""
    scored, reg = result.data, result.indicators
    labels = {i: reg[i].label if i in reg else i for i in scored.indicators}
    return scored.areas[scored.areas["rank"].notna()].sort_values("rank"), labels


def _few_ranked_note(n_ranked: int) -> None:
    if 0 < n_ranked < 10:
        st.caption(f"Only {count_of(n_ranked, 'area')} {agree(n_ranked, 'was', 'were')} ranked here: with so "
                   "few, bands and the robust flag say little; "
                   "compare with the national rank.")


def ranking_table(request, result, area, level: str, *, key: str, top_n: int = 25) -> None:
    """The top areas with score, rank, band, robustness and the three biggest reasons."""
    scored = result.data
    frame, labels = _ranked(result)
    show = pd.DataFrame({
        "Rank": frame["rank"],
        "Area": frame["name"],
        "Code": frame["code"],
        "District": frame["lad_name"],
        "Score": frame["score"].round(1),
        "Band": frame["band"],
    })
    if "robust" in frame:
        show["Robust"] = frame["robust"].map({True: "yes", False: "no"})
        show["In band (share of draws)"] = (frame["band_share"] * 100).round(0).astype("Int64").astype(str) + "%"
        show["Rank range (90%)"] = frame["rank_p05"].astype("Int64").astype(str) + "–" + frame["rank_p95"].astype("Int64").astype(str)
    show["Overlapping needs"] = frame["overlap_count"]
    show["Main reasons"] = [", ".join(r) for r in top_reasons_table(frame, scored.indicators, labels)]
    st.subheader(f"Top {min(top_n, len(show))} of {len(show)} {LEVEL_LABEL[level]}s in {md_text(area.name)}")
    st.dataframe(show.head(top_n), hide_index=True, width="stretch")
    st.download_button("Download the ranking (CSV)", lambda: to_csv_bytes(show),  # made when clicked
                       file_name=f"wardscope-{scored.profile.id}-{level}-{slug(area.key, max_len=60, fallback='area')}.csv",
                       mime="text/csv", key=f"{key}-csv", on_click="ignore")
    _few_ranked_note(len(frame))
    priority_exports(request, result, key)


TOP_CSS = """<style>
.ws-top{width:100%;border-collapse:collapse;font-size:0.85rem}
.ws-top th{text-align:left;font-weight:600;border-bottom:2px solid #ccc;padding:3px 6px}
.ws-top td{border-bottom:1px solid #eee;padding:3px 6px;vertical-align:top}
.ws-top td.n{text-align:right;white-space:nowrap}
</style>"""


def top_areas_html(frame: pd.DataFrame, reasons: list[list[str]]) -> str:
    """The highest-ranked rows of a scored table as a small HTML table; every text is escaped."""
    head = "".join(f"<th>{h}</th>" for h in ("Rank", "Area", "District", "Score", "Band", "Main reasons"))
    rows = "".join(
        f'<tr><td class="n">{int(r.rank)}</td><td>{html_text(r.name)}</td><td>{html_text(r.lad_name)}</td>'
        f'<td class="n">{r.score:.1f}</td><td>{html_text(r.band)}</td><td>{html_text(", ".join(why))}</td></tr>'
        for r, why in zip(frame.itertuples(index=False), reasons))
    return f'{TOP_CSS}<table class="ws-top"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def top_areas(result, area, level: str, *, top_n: int = 10) -> None:
    """The explorer's short list: the ``top_n`` highest priorities, and a link to the full ranking and exports.

    A plain table rather than the data grid, so the map's page stays quick to open.
    """
    scored = result.data
    ranked, labels = _ranked(result)
    frame = ranked.head(top_n)
    if frame.empty:
        return
    st.subheader(f"Highest priority {LEVEL_LABEL[level]}s in {md_text(area.name)}")
    scale = score_scale_words(scored.profile.normalisation, LEVEL_LABEL[level])
    st.caption(f"The top {len(frame)} of {len(ranked):,} ranked by {md_text(scored.profile.name)} with this "
               f"session's weights. Scores are on {md_text(scale)}.")
    st.html(top_areas_html(frame, top_reasons_table(frame, scored.indicators, labels)))
    _few_ranked_note(len(ranked))
    st.page_link("app_pages/scoring.py", label="The full ranking, how robust it is, and priority-area exports",
                 icon=":material/arrow_forward:")


def selections(profile) -> dict[str, str]:
    """Export choices for a profile: all its priority bands, the first band alone, robust ones, everything."""
    from layers.scoring import priority_bands

    bands = priority_bands(profile)
    out = {",".join(f"band:{b}" for b in bands): f"Priority areas ({' + '.join(bands)})"}
    if len(bands) > 1:
        out[f"band:{bands[0]}"] = bands[0].capitalize()
    out["top"] = "Top N"
    out["robust"] = "Robust priorities only"
    out["all"] = "All areas"
    return out


def export_buttons(layer, *, key: str) -> None:
    """One download button per format; each file is made when its button is clicked (tasks.export)."""
    from geo.export import bytes_filename
    from tasks.export import EXPORT_FORMATS

    cols = st.columns(len(EXPORT_FORMATS))
    for col, (fmt, label) in zip(cols, EXPORT_FORMATS.items()):
        def make(fmt=fmt):
            return layer.file(fmt).data
        name, mime = bytes_filename(layer.stem, fmt)
        col.download_button(label, make, file_name=name, mime=mime, key=f"{key}-export-{fmt}", width="stretch",
                            on_click="ignore")  # no rerun: the file is made on click and the page stays as it is


def priority_exports(request, result, key: str) -> None:
    """Export the current ranking's selection in any format, with its methodology."""
    from app_pages.requests import export_request
    from tasks import export

    scored = result.data
    st.markdown("**Export priority areas** (with methodology.json: the profile, weights, method and sources)")
    options = selections(scored.profile)
    choice = st.radio("Which areas", list(options), format_func=options.get, horizontal=True, key=f"{key}-sel")
    if choice == "robust" and "robust" not in scored.areas:
        st.caption("Robustness was not computed (0 draws), so there is no robust flag to select on.")
        return
    if choice == "top":  # the N highest-ranked areas, as the CLI's --select top:N
        ranked = int(scored.areas["rank"].notna().sum())
        top_n = st.number_input("How many areas (highest priority first)", 1, max(ranked, 1), min(10, max(ranked, 1)),
                                step=1, key=f"{key}-top")
        choice = f"top:{int(top_n)}"
    layer = export.run(export_request(request, choice), cache.get_store(), scored=result).data
    try:
        n = layer.selected
    except WardscopeError:  # a band no area is in
        n = 0
    if n == 0:
        st.caption("No area is in this selection, so there is nothing to export.")
        return
    st.caption(f"{count_of(n, 'area')} selected.")
    export_buttons(layer, key=key)


def hub_exports(request, result) -> None:
    """Export the priority LSOAs with their coverage and the hubs/sites layer."""
    from tasks.hubs import export_layer

    st.markdown("**Export** priority LSOAs with their coverage, and the hubs (GeoPackage and shapefile carry both layers)")
    export_buttons(export_layer(request, result, cache.get_store()), key="hubs-export")
