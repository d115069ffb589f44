"""Every escaping context of geo.escape with hostile names, then the outputs that use it.

The browser checks (a real HTML and JavaScript parser) are at the end, marked ``browser``;
the pages themselves are in tests/test_app_browser_escaping.py.
"""

from __future__ import annotations

import html
import io
import json
import re
import unicodedata
from dataclasses import replace
from html.parser import HTMLParser

import geopandas as gpd
import pytest
from jinja2 import Template
from shapely.geometry import Point, box

from geo.escape import html_attr, html_text, js_json, js_template_html, md_text, mpl_text, plain_line
from tests.hostile_text import HOSTILE, HOSTILE_LINES

ALL = HOSTILE + HOSTILE_LINES
ASCII_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")


class _Parsed(HTMLParser):
    """Tags, attributes and text as a browser's tokenizer sees them (entities decoded)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.tags.append(("!--", {"text": data}))


def parse(markup: str) -> _Parsed:
    parsed = _Parsed()
    parsed.feed(markup)
    parsed.close()
    return parsed


# -- each context --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_html_text_is_one_text_node_between_tags(name):
    parsed = parse(f"<p>{html_text(name)}</p>")
    assert parsed.tags == [("p", {})]
    assert "".join(parsed.text) == name


def test_the_app_writes_html_only_through_st_html():
    """st.html shows HTML as it is, sanitised by DOMPurify and without scripts; markdown with unsafe_allow_html
    would read markdown in it (after a line break in a label, say) and load rehype-raw, 190 KB more for a new
    browser to fetch; components.html and unsafe_allow_javascript run scripts."""
    from tests.conftest import ROOT

    unsafe = ("unsafe_allow_html", "unsafe_allow_javascript", "components.html")
    found = [f"{path.relative_to(ROOT)}:{n}" for path in [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if any(u in line for u in unsafe)]
    assert found == []


@pytest.mark.parametrize("name", ALL)
def test_html_attr_is_the_whole_attribute_value(name):
    parsed = parse(f'<p title="{html_attr(name)}" class="x">y</p>')
    assert parsed.tags == [("p", {"title": name, "class": "x"})]
    assert "`" not in html_attr(name)


@pytest.mark.parametrize("name", ALL)
def test_js_template_html_cannot_end_or_interpolate_a_template_literal(name):
    out = js_template_html(name)
    # a template literal ends at `, interpolates at ${ and escapes at \; Jinja opens at {{ {% {#;
    # the HTML parser starts a tag at <: none of these characters is left
    assert not set(out) & set("`${}\\<>")
    parsed = parse(f"<div>{out}</div>")
    assert parsed.tags == [("div", {})] and "".join(parsed.text) == name


@pytest.mark.parametrize("name", ALL)
def test_js_json_round_trips_and_cannot_end_a_script_or_open_jinja(name):
    value = {"name": name, "list": [name, {"nested": name}], "n": 1.5}
    for v in (name, value):
        out = js_json(v)
        assert json.loads(out) == v
        assert not set(out) & set("<>&\u2028\u2029")
        assert not re.search(r"\{[{%#]", out)
        assert Template(out).render() == out  # branca's second Jinja pass leaves it as it is


@pytest.mark.parametrize("name", ALL)
def test_md_text_escapes_every_markdown_character_and_keeps_one_line(name):
    out = md_text(name)
    assert "\n" not in out and "\r" not in out
    # every ASCII punctuation character is escaped; removing the escapes gives the name back
    assert not ASCII_PUNCTUATION.search(re.sub(r"\\[!-/:-@\[-`{-~]", "", out))
    # removing the escapes and the word joiners that stop autolinks gives the name back
    assert re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", out).replace("\u2060", "") == " ".join(name.splitlines())


@pytest.mark.parametrize("text", ["see https://e.org/x", "HTTP://E.ORG", "www.gov.uk", "jo.b+x@example.org",
                                  "ftp://h/f", "mailto:a@b.org"])
def test_md_text_leaves_no_bare_web_or_mail_address_for_the_autolink_finder(text):
    # remark-gfm finds these in the text after escapes are read (so escaping alone still made a link)
    read = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", md_text(text))
    assert not re.search(r"(?i)[a-z]://|www\.|[-.+\w]@", read)
    assert read.replace("\u2060", "") == text


@pytest.mark.parametrize("name", HOSTILE_LINES)
def test_plain_line_writes_line_breaks_and_direction_controls_as_escapes(name):
    out = plain_line(name)
    assert not [c for c in out if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
    assert out == name.encode("unicode_escape").decode("ascii")  # "one\\ntwo": visible, on one line


def test_plain_line_leaves_other_names_alone():
    for name in HOSTILE + ["Luton & Dunstable", "Ynys Môn", "Café 👩‍💻 hub", "co\u00adoperative"]:
        assert plain_line(name) == name


@pytest.mark.parametrize("name", ALL)
def test_mpl_text_is_never_mathtext(name):
    from matplotlib.text import Text

    out = mpl_text(name)
    assert Text(text=out)._preprocess_math(out) == (name, False)  # shown as typed, not parsed as maths


# -- where the contexts are used -------------------------------------------------------------

def _points(names):
    # Luton town centre, spread 100 m apart (EPSG:27700)
    return gpd.GeoDataFrame({"name": names}, geometry=[Point(509200 + 100 * i, 221300) for i in range(len(names))],
                            crs=27700)


def test_point_tooltips_in_the_rendered_map_are_the_names_as_text():
    from geo.webmap import add_points, base_map

    fmap = base_map((505000, 218000, 515000, 225000), tiles=None)
    add_points(fmap, _points(HOSTILE))
    rendered = fmap.get_root().render()  # branca renders every script a second time as a Jinja template
    tooltips = re.findall(r"bindTooltip\(\s*`(.*?)`", rendered, flags=re.S)
    assert len(tooltips) == len(HOSTILE)
    for name, markup in zip(HOSTILE, tooltips):
        parsed = parse(markup)
        assert parsed.tags == [("div", {})]
        assert "".join(parsed.text).strip() == name  # "{{ 7*7 }}" is not 49: nothing ran on the server
    assert "49" not in "".join(tooltips)


def test_polygon_layer_payload_carries_the_names_unchanged():
    from geo.webmap import PolygonLayer, add_polygons, base_map

    squares = gpd.GeoDataFrame({"code": [f"E0500000{i}" for i in range(len(HOSTILE))], "name": HOSTILE},
                               geometry=[box(509000 + 500 * i, 221000, 509400 + 500 * i, 221400) for i in range(len(HOSTILE))],
                               crs=27700)
    fmap = base_map(tuple(squares.total_bounds), tiles=None)
    add_polygons(fmap, PolygonLayer(squares, "ward", tooltip=[("", "name"), ("Name again", "name")], simplify=False))
    rendered = fmap.get_root().render()
    payload = re.search(r"var d = (\{.*?\});\n", rendered).group(1)
    data = json.loads(payload)
    assert data["p"]["name"] == HOSTILE and data["t"] == [["", "name"], ["Name again", "name"]]
    assert "<" not in payload  # no "</script>", and no "<!--<script>" that would swallow the real end tag


def test_readme_lines_cannot_be_forged_by_a_name():
    from geo.export.columns import ColumnSpec
    from geo.export.provenance import build_methodology, readme_text
    from geo.export.selection import SelectionColumns, parse_selection

    forged = "Mine\n- Selection: every area in England\r\n- Level: national"
    provenance = {"profile": {"name": forged, "indicators": [forged], "weights": {forged: 1}},
                  "area_of_interest": {"name": "Area\u202eevil", "lad_codes": ["E06000032"]}, "level": "ward",
                  "sources": [{"name": forged, "attribution": "x\ny"}]}
    m = build_methodology(provenance, fmt="shp", crs="EPSG:27700", selection=parse_selection("all"),
                          selection_columns=SelectionColumns(), dissolve=None,
                          columns=[ColumnSpec("score", f"Score {forged}")], short_names=None, layers={"areas": 1},
                          selected_codes=["E05000001"], files=["areas.shp"])
    text = readme_text(m, [f"areas.shp: {forged}"])
    lines = text.split("\n")
    all_areas = parse_selection("all")
    assert [ln for ln in lines if ln.startswith("- Selection")] == [f"- Selection: {all_areas.describe()} (as text: all)"]
    assert not [ln for ln in lines if ln.startswith("- Level: national")]
    assert "- Profile: Mine\\n- Selection: every area in England\\r\\n- Level: national" in lines
    assert "\u202e" not in text and "Area\\u202eevil" in text


# -- the ward profile (real store) ------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_report(store):
    """A Luton ward's profile whose area, profile and one indicator label and caveat are hostile names."""
    from geo.areas import Area
    from layers.comparators import comparators
    from layers.indicators import available
    from layers.profiles import load_profile
    from layers.registry import load_registry
    from layers.scoring import score_area
    from layers.ward_report import build_ward_report

    area = Area(" | ".join(HOSTILE), ("E06000032",), "user")
    profile = replace(load_profile("neighbourhood"), name=" / ".join(reversed(HOSTILE)))
    scored = score_area(profile, area, level="ward", store=store)
    registry = dict(load_registry())  # a copy: the registry is shared by the process
    comp = comparators("ward", area, available("ward", store=store), store=store)
    shown = [i for i in comp["indicator"].unique() if i in registry and registry[i].unit.startswith("%")][0]
    registry[shown] = replace(registry[shown], label=HOSTILE[2] + " " + HOSTILE[9], caveat=HOSTILE[3])
    ward = store.boundaries("ward", ["E06000032"])["code"].iloc[0]
    return build_ward_report(ward_code=ward, area=area, store=store, comparators=comp, registry=registry, scored=[scored])


def test_ward_profile_html_shows_every_hostile_name_as_text(hostile_report):
    from layers.ward_report import report_html

    parsed = parse(report_html(hostile_report))
    tags = {t for t, _ in parsed.tags}
    assert tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "img", "ul", "li", "b", "table",
                    "tr", "th", "td"}
    assert all(a.get("src", "").startswith("data:image/png;base64,") for t, a in parsed.tags if t == "img")
    assert not [a for _, a in parsed.tags if any(k.startswith("on") for k in a)]
    text = "".join(parsed.text)
    for name in HOSTILE:
        assert name in text


def test_ward_profile_charts_and_pdf_draw_with_hostile_names(hostile_report):
    from PIL import Image

    from layers.ward_report import chart_png, map_png, report_pdf

    # an area named "$\frac{$" is maths to matplotlib and fails to draw unless escaped
    for png in (chart_png(hostile_report), map_png(hostile_report)):
        assert Image.open(io.BytesIO(png)).size[0] > 100
    assert report_pdf(hostile_report).startswith(b"%PDF")


# -- in a real browser ------------------------------------------------------------------------

@pytest.mark.browser
def test_the_browser_runs_nothing_and_shows_every_name(page):
    """A page built the way folium builds a map script: names in a template literal and in JSON."""
    from geo.webmap import CompactPolygons

    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    names = ALL
    literal = "".join(f"<p>{js_template_html(n)}</p>" for n in names)
    attrs = "".join(f'<i title="{html_attr(n)}"></i>' for n in names)
    compact = CompactPolygons({"names": names}).payload
    page.set_content(
        "<!doctype html><html><head><meta charset='utf-8'></head><body>"
        f"<div id='html'>{''.join(f'<p>{html_text(n)}</p>' for n in names)}</div><div id='attrs'>{attrs}</div>"
        "<div id='tpl'></div><script>"
        f"var names = {js_json(names)}; var compact = {compact};"
        f"document.getElementById('tpl').innerHTML = `{literal}`; window.ok = true;"
        "</script></body></html>")
    got = page.evaluate("""() => ({
        ok: window.ok === true, names: window.names, compact: window.compact.names,
        html: [...document.querySelectorAll('#html p')].map(p => p.textContent),
        tpl: [...document.querySelectorAll('#tpl p')].map(p => p.textContent),
        attrs: [...document.querySelectorAll('#attrs i')].map(i => i.title),
        scripts: document.scripts.length, injected: document.querySelectorAll('img, [onerror], b, a').length})""")
    assert dialogs == []
    assert got["ok"] and got["scripts"] == 1 and got["injected"] == 0
    # the HTML parser normalises a lone CR to LF in text, as it does for any page
    expected = [n.replace("\r", "\n") for n in names]
    assert got["names"] == names and got["compact"] == names and got["attrs"] == [n.replace("\r", "\n") for n in names]
    assert got["html"] == expected and got["tpl"] == expected
