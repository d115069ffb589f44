"""Ward profile for councillors: one ward against its district, the area and England, printable."""

import streamlit as st

from app_pages import cache, requests, sources, state
from geo.escape import md_text
from layers.ward_report import chart_png, map_png, report_html, report_pdf, trend_png
from tasks import profile as ward_profile

store = cache.get_store()
area = state.area_picker(store)
reg = cache.registry()
wards = store.boundaries("ward", area.lad_codes).sort_values(["name", "lad_name"])
labels = {r.code: f"{r.name} ({r.lad_name})" for r in wards.itertuples()}
code = state.sticky_choice(st.sidebar, "Ward (type to search)", list(labels), "profile_ward", next(iter(labels)),
                           format_func=labels.get)


@st.cache_data(max_entries=64, show_spinner="Building the ward profile…")
def ward_report(generation: str, request: ward_profile.WardProfileRequest):
    """The report and its images, cached on the request (the profiles by their YAML texts)."""
    report = ward_profile.run(request, cache.get_store()).data
    return report, map_png(report), chart_png(report), trend_png(report)


request, weights_note = requests.ward_profile_request(area, code, state.current_profile())
report, map_image, chart_image, trend = ward_report(store.generation, request)

st.title(f"{md_text(report.name)} ward profile")
st.caption(f"{report.code} · {md_text(report.lad_name)} · {md_text(report.ward_note)}")
c1, c2 = st.columns([1, 1.4])
with c1:
    st.image(map_image, width="stretch")
with c2:
    st.subheader("Priority")
    for s in report.scores:
        if s["rank"] is None:
            st.markdown(f"**{md_text(s['profile'])}**: not scored: {md_text(s['why'])}")
            continue
        robust = "" if s["robust"] is None else (" · **robust priority**" if s["robust"] else " · not robust")
        st.markdown(f"**{md_text(s['profile'])}**: ranked **{s['rank']} of {s['n']}** wards in {md_text(area.name)} "
                    f"({md_text(s['band'])}){robust}. Main reasons: {md_text(', '.join(s['reasons']) or '-')}. "
                    f"Needs that overlap: {s['overlap']} of {s['k']}.")
    st.caption(md_text(weights_note))
    pdf_name = f"ward-profile-{report.code}.pdf"
    # generated when clicked (in Streamlit's download thread), not on every rerun
    st.download_button("Download profile (PDF)", lambda: report_pdf(report), file_name=pdf_name, mime="application/pdf",
                       type="primary", key="pdf", on_click="ignore")
    st.download_button("Download profile (HTML)", lambda: report_html(report).encode("utf-8"),
                       file_name=f"ward-profile-{report.code}.html", mime="text/html", key="html", on_click="ignore")

st.subheader("Indicators against the district, the area and England")
st.image(chart_image, width="stretch")
table = report.figures[["label", "shown", "district_shown", "area_shown", "england_shown", "rank_in_district", "rag"]]
st.dataframe(table.rename(columns={"label": "Indicator", "shown": "Ward", "district_shown": "District",
                                   "area_shown": area.name, "england_shown": "England",
                                   "rank_in_district": "Rank in district (1 = most need)", "rag": "vs England"}),
             hide_index=True, width="stretch")
if report.gaps:
    st.warning("No figures for: " + md_text("; ".join(report.gaps)))
if trend:
    st.image(trend)
st.subheader(f"{md_text(report.lad_name)}: labour market (district figures)")
aps_ids = ["aps_employment_rate", "aps_inactivity_rate", "aps_inactive_long_term_sick_pct"]
lad_table = cache.table_for(store, "lad")
if all(i in lad_table.columns for i in aps_ids):
    row = lad_table.set_index("code").loc[report.lad_code]
    cols = st.columns(3)
    for col, i in zip(cols, aps_ids):
        ci = row.get(f"{i}__ci")
        col.metric(reg[i].label, f"{row[i]:.1f}%", help=f"95% confidence interval ± {ci:.1f} points" if ci == ci else None)
    st.caption("Annual Population Survey (Nomis NM_17_5): district estimates with wide confidence intervals; "
               "never apportioned to wards.")
else:
    st.caption("Annual Population Survey and claimant-count figures are not installed (they come from the Nomis "
               "API): install them with `python cli.py install --nomis`.")
with st.expander("Caveats"):
    for r in report.figures.drop_duplicates("caveat").itertuples():
        if r.caveat:
            st.markdown(f"- **{md_text(r.label)}**: {md_text(r.caveat)}")
sources.credits()
