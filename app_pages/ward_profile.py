"""Ward profile for councillors: one ward against its district, the area and England, printable."""

import pandas as pd
import streamlit as st

from app_pages import cache, pack, requests, sources, state
from geo.escape import md_text
from layers.ward_report import (RAG_SHORT, chart_png, lay_notes, map_png, report_html, report_pdf, scale_notes,
                                 score_lines, subtitle, table_columns, trend_png)
from layers.ward_summary import summary_sentences
from tasks import profile as ward_profile

APS_IDS = ("aps_employment_rate", "aps_inactivity_rate", "aps_inactive_long_term_sick_pct")

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
st.caption(md_text(subtitle(report)))
st.subheader("Summary")
st.markdown(md_text(" ".join(summary_sentences(report))))
c1, c2 = st.columns([1, 1.4])
with c1:
    st.image(map_image, width="stretch")
with c2:
    st.subheader("Priority")
    for s in report.scores:
        st.markdown(f"**{md_text(s['profile'])}**\n" + "".join(f"\n- {md_text(line)}" for line in score_lines(report, s)))
    st.caption(md_text(weights_note))
    pdf_name = f"ward-profile-{report.code}.pdf"
    # generated when clicked (in Streamlit's download thread), not on every rerun
    st.download_button("Download profile (PDF)", lambda: report_pdf(report), file_name=pdf_name, mime="application/pdf",
                       type="primary", key="pdf", on_click="ignore")
    st.download_button("Download profile (HTML)", lambda: report_html(report).encode("utf-8"),
                       file_name=f"ward-profile-{report.code}.html", mime="text/html", key="html", on_click="ignore")

st.subheader("Indicators against the district, the area and England" if report.shows_area else
             "Indicators against the district and England")
st.image(chart_image, width="stretch")
cols = table_columns(report)
table = report.figures[[k for k, _ in cols]].assign(rag=report.figures["rag"].map(RAG_SHORT).fillna("not rated"))
st.dataframe(table.rename(columns=dict(cols)), hide_index=True, width="stretch")
with st.expander("How to read this profile"):
    st.markdown("".join(f"- **{md_text(a)}**: {md_text(b)}\n" for a, b in scale_notes(report)))
if report.gaps:
    st.warning("No figures for: " + md_text("; ".join(report.gaps)))
if trend:
    st.image(trend)
st.subheader(f"{md_text(report.lad_name)}: labour market (district figures)")
lad_table = cache.table_for(store, "lad")
# the survey's figures this installation holds (the long-term sick share comes only with `install --nomis`)
aps_ids = [i for i in APS_IDS if i in lad_table.columns and i in reg]
if aps_ids:
    row = lad_table.set_index("code").loc[report.lad_code]
    for col, i in zip(st.columns(len(aps_ids)), aps_ids):
        value, ci = row[i], row.get(f"{i}__ci")
        col.metric(reg[i].label, "not available" if pd.isna(value) else f"{value:.1f}%",
                   help=(f"95% confidence interval ± {ci:.1f} points" if pd.notna(value) and pd.notna(ci) else
                         "The survey publishes no figure for this district (unknown, not zero)."
                         if pd.isna(value) else None))
    unknown = [i for i in aps_ids if pd.isna(row[i])]
    left_out = [reg[i].label for i in APS_IDS if i not in aps_ids and i in reg]
    st.caption("Annual Population Survey (ONS, via Explore Local Statistics or Nomis): district estimates with wide "
               "confidence intervals; never apportioned to wards."
               + (" 'not available': the survey publishes no figure for this district (unknown, not zero)."
                  if unknown else "")
               + (f" Not in this installation: {md_text('; '.join(left_out))}; "
                  f"{sources.admin_pointer(many=True)}." if left_out else ""))
else:
    st.caption("Annual Population Survey figures are not in this installation; "
               f"{sources.admin_pointer(many=True)}.")
with st.expander("Read with care"):
    st.markdown("".join(f"- **{md_text(a)}**: {md_text(b)}\n" for a, b in lay_notes(report)))
with st.expander("Technical notes"):
    st.markdown(f"- **Ward boundary**: {md_text(report.ward_note)}")
    for r in report.figures.drop_duplicates("caveat").itertuples():
        if r.caveat:
            st.markdown(f"- **{md_text(r.label)}**: {md_text(r.caveat)}")
pack.councillor_pack(store, area, state.current_profile())
sources.credits()
