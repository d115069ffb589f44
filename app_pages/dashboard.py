"""District dashboard: labour-market figures for each district of the area, the area and England, with downloads."""

import streamlit as st

from app_pages import cache, requests, state
from geo.escape import md_text
from layers import dashboard_out
from layers.dashboard_out import to_csv_bytes
from tasks import dashboard as dashboard_task

LATEST = "Latest for each indicator"
CREDIT = ("Source: ONS Explore Local Statistics (Annual Population Survey, claimant count and other local "
          "indicators); Census 2021 populations. Open Government Licence v3.0.")
TABLE_CSS = (".dash-table{overflow-x:auto}.dash-table table{border-collapse:collapse;font-size:12px;width:100%}"
             ".dash-table td,.dash-table th{padding:3px 5px;border:1px solid #ddd;text-align:left;vertical-align:top}")
LEGEND = [
    "**worse**: the whole 95% interval is worse than England's figure; **similar**: England's figure lies inside "
    "the interval; **better**: the whole interval is better.",
    "A 95% interval (the two figures in brackets) is the range in which the survey's true figure for the "
    "district very likely lies. Figures with no interval are compared by value alone.",
    "'not available' means unknown, never zero; '[unreliable]' marks a small survey sample.",
]


@st.cache_data(max_entries=32, show_spinner="Building the dashboard…")
def build(generation: str, request: dashboard_task.DashboardRequest):
    """The dashboard for one request (cached on the store generation and the request)."""
    return dashboard_task.run(request, cache.get_store()).data


def file_button(where, label: str, data, file_name: str, mime: str, key: str) -> None:
    """A download button for a file that is not CSV (the Excel workbook, the PNG chart)."""
    where.download_button(label, data, file_name=file_name, mime=mime, key=key, on_click="ignore")


store = cache.get_store()
area = state.area_picker(store)
latest = build(store.generation, requests.dashboard_request(area))
years = sorted({int(y) for y in latest.series["period"].dropna()}, reverse=True)
choice = state.sticky_choice(st.sidebar, "Period", [LATEST, *years], "dashboard_period", LATEST,
                             help="A year shows each indicator's figure for the period starting that year.")
board = latest if choice == LATEST else build(store.generation, requests.dashboard_request(area, choice))

st.title(f"{md_text(area.name)}: district dashboard")
st.caption(f"Each district, the area and England · {'latest figure for each indicator' if choice == LATEST else choice}")
# the table as HTML (dashboard_out.table_html escapes every text): it wraps, so every column fits a laptop screen
st.html(f"<style>{TABLE_CSS}</style><div class='dash-table'>{dashboard_out.table_html(board)}</div>")
for line in LEGEND:
    st.caption(line)
with st.expander("Notes on these figures"):
    for line in dashboard_out.notes_lines(board):
        st.caption(md_text(line))

c1, c2, c3 = st.columns(3)
c1.download_button("Download table (CSV)", to_csv_bytes(board), file_name="district-dashboard.csv",
                   mime="text/csv", type="primary", key="dash-csv", on_click="ignore")
file_button(c2, "Download workbook (Excel)", lambda: dashboard_out.to_xlsx_bytes(board), "district-dashboard.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "dash-xlsx")

st.subheader("Distance to an 80% employment rate")
if len(board.distance):
    distance = board.distance[["name", "statement", "population_16_64"]].rename(columns={
        "name": "Place", "statement": "More residents aged 16-64 in work",
        "population_16_64": "Residents aged 16-64 (Census 2021)"})
    st.dataframe(distance, hide_index=True, width="stretch",
                 column_config={"Residents aged 16-64 (Census 2021)": st.column_config.NumberColumn(format="localized")})
    st.caption(md_text(f"Population used: {board.distance['population_source'].iloc[0]}; "
                       f"{board.distance['rounding'].iloc[0]}."))
else:
    st.info("No employment rate for this period.")

st.subheader("Over time")
reg = cache.registry()
indicator = st.selectbox("Indicator", board.indicators, format_func=lambda i: reg[i].label, key="dash-trend")
trend = dashboard_out.trend_png(board, indicator)
st.image(trend, width="stretch")
file_button(c3, "Download trend chart (PNG)", trend, f"trend-{indicator}.png", "image/png", "dash-png")
st.caption(CREDIT)
