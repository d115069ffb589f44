"""Light Leaflet maps for whole areas of interest.

A folium map of 1,500 polygons written the usual way (GeoJSON with full
precision coordinates and every property) weighs about a megabyte. Here a
polygon layer is sent as:

* geometry simplified for display in British National Grid (shared borders
  stay shared, :mod:`geo.simplify`), then converted to EPSG:4326;
* each ring encoded with the polyline algorithm at 1e-5 degrees (about 1 m),
  a few characters per vertex instead of about forty;
* properties as one array per field rather than per-feature objects, and a
  class index per feature with one shared palette instead of a style per
  feature.

The browser decodes it into an ordinary ``L.geoJSON`` layer, so tooltips,
clicks and streamlit-folium's returned objects work as usual. Leaflet itself
is served from ``static/vendor`` (Streamlit static serving) so maps work
without a CDN.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from geo.contentcache import LRUCache
from geo.crs import bng_to_lonlat, require_bng, to_web
from geo.escape import js_json, js_template_html
from geo.simplify import for_display

#: Polyline precision: 1e-5 degrees is about 1.1 m north-south, 0.7 m east-west in England.
POLYLINE_FACTOR = 1e5
#: Where Streamlit serves ``static/`` (server.enableStaticServing).
STATIC_URL = "/app/static"
LEAFLET_JS = f"{STATIC_URL}/vendor/leaflet/leaflet.js"
LEAFLET_CSS = f"{STATIC_URL}/vendor/leaflet/leaflet.css"
TILES = {
    "light": ("https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
              '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors '
              '&copy; <a href="https://carto.com/attributions">CARTO</a>'),
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'),
}
NO_DATA_COLOUR = "#bdbdbd"


def _encode_values(values: np.ndarray) -> str:
    """Polyline-encode a 1-D array of integer deltas (Google's algorithm)."""
    out = []
    for v in values.tolist():
        v = ~(v << 1) if v < 0 else (v << 1)
        while v >= 0x20:
            out.append(chr((0x20 | (v & 0x1F)) + 63))
            v >>= 5
        out.append(chr(v + 63))
    return "".join(out)


def encode_ring(coords: np.ndarray) -> str:
    """Encode an (n, 2) array of lon/lat as one polyline string (lat, lon order, 1e-5 degrees)."""
    ints = np.round(coords[:, ::-1] * POLYLINE_FACTOR).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return _encode_values(deltas.ravel())


def decode_ring(text: str) -> np.ndarray:
    """Inverse of :func:`encode_ring` (used by tests; the browser has its own copy)."""
    values, shift, result = [], 0, 0
    for ch in text:
        b = ord(ch) - 63
        result |= (b & 0x1F) << shift
        shift += 5
        if b < 0x20:
            values.append(~(result >> 1) if result & 1 else result >> 1)
            shift, result = 0, 0
    latlon = np.cumsum(np.array(values, dtype=np.int64).reshape(-1, 2), axis=0) / POLYLINE_FACTOR
    return latlon[:, ::-1]


def encode_polygons(geoms: np.ndarray) -> list[list[list[str]]]:
    """Encode (Multi)Polygons (EPSG:4326) as polygons -> rings -> polyline strings."""
    out = []
    for geom in geoms:
        polys = []
        for poly in shapely.get_parts(geom):
            rings = [poly.exterior, *poly.interiors]
            polys.append([encode_ring(np.asarray(r.coords)[:-1]) for r in rings])
        out.append(polys)
    return out


_TEMPLATE = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function(){
  function dec(s){var i=0,la=0,lo=0,o=[];while(i<s.length){var b,sh=0,r=0;
    do{b=s.charCodeAt(i++)-63;r|=(b&31)<<sh;sh+=5}while(b>=32);la+=(r&1)?~(r>>1):(r>>1);
    sh=0;r=0;do{b=s.charCodeAt(i++)-63;r|=(b&31)<<sh;sh+=5}while(b>=32);lo+=(r&1)?~(r>>1):(r>>1);
    o.push([lo/1e5,la/1e5])}if(o.length){o.push(o[0])}return o}
  var d = {{ this.payload }};
  for (var k in d.p) { var c = d.p[k]; if (c && c.k) { d.p[k] = c.v.map(function(j){ return j < 0 ? null : c.k[j]; }); } }
  var feats = d.g.map(function(polys, i){
    var props = {};
    for (var k in d.p) { props[k] = d.p[k][i]; }
    props._c = d.c ? d.c[i] : -1;
    return {type: "Feature", properties: props,
            geometry: {type: "MultiPolygon", coordinates: polys.map(function(rs){return rs.map(dec)})}};
  });
  // the browser's copy of geo.escape.html_text: tooltip labels and values are data, shown as text
  function esc(v){return String(v).replace(/[&<>"']/g,function(c){return {"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#x27;"}[c]})}
  var layer = L.geoJson({type: "FeatureCollection", features: feats}, {
    style: function(f){
      var c = f.properties._c;
      var fill = c >= 0 ? d.pal[c] : (d.c ? d.nodata : "transparent");
      return {color: d.s.color, weight: d.s.weight, opacity: d.s.opacity, fillColor: fill,
              fillOpacity: d.c ? d.s.fillOpacity : 0, interactive: d.s.interactive};
    },
    interactive: d.s.interactive
  });
  if (d.t.length) {
    // one tooltip and one pair of handlers for the whole layer, its text made on hover: per-feature tooltips
    // cost about 0.1 s to set up for England's 6,817 wards
    layer.bindTooltip(function(l){
      return d.t.map(function(t){
        var v = l.feature.properties[t[1]];
        return (t[0] ? "<b>"+esc(t[0])+"</b> " : "") + (v === null || v === undefined ? "no data" : esc(v));
      }).join("<br>");
    }, {sticky: true});
    if (d.s.interactive) {
      layer.on("mouseover", function(e){ e.layer.setStyle({weight: d.s.weight + 2}); });
      layer.on("mouseout", function(e){ e.layer.setStyle({weight: d.s.weight}); });
    }
  }
  layer.addTo({{ this._parent.get_name() }});
  return layer;
})();
{% endmacro %}
""")


_BEHAVIOUR = Template("""
{% macro header(this, kwargs) %}
<style>
.ws-hint{position:absolute;inset:0;z-index:1000;display:flex;align-items:center;justify-content:center;
  background:rgba(0,0,0,.45);color:#fff;font:600 18px/1.3 sans-serif;pointer-events:none;opacity:0;transition:opacity .2s}
.ws-hint.on{opacity:1}
.leaflet-tooltip.ws-label{background:rgba(255,255,255,.8);border:0;box-shadow:none;padding:0 3px;
  font:600 11px/1.2 sans-serif;color:#222;white-space:nowrap}
.leaflet-tooltip.ws-label.ws-lad{font-size:13px;background:rgba(255,255,255,.85)}
.leaflet-tooltip.ws-label.ws-num{background:#111;color:#fff;border-radius:10px;min-width:14px;text-align:center;
  font-size:12px;padding:1px 5px}
.leaflet-tooltip.ws-label:before{display:none}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function(map){
  // plain wheel scrolls the page; Ctrl/Cmd + wheel zooms (as Google Maps does), with a hint otherwise
  var box = map.getContainer(), hint = document.createElement("div"), timer = null;
  hint.className = "ws-hint"; hint.textContent = {{ this.hint }};
  box.appendChild(hint);
  box.addEventListener("wheel", function(e){
    if (e.ctrlKey || e.metaKey) {
      e.preventDefault();
      var at = map.mouseEventToLatLng(e), z = map.getZoom() + (e.deltaY < 0 ? 1 : -1) * 0.5;
      map.setZoomAround(at, Math.max(map.getMinZoom(), Math.min(map.getMaxZoom(), z)));
      hint.classList.remove("on");
    } else {
      hint.classList.add("on"); clearTimeout(timer);
      timer = setTimeout(function(){ hint.classList.remove("on"); }, 1200);
    }
  }, {passive: false});
  // a click never scrolls the page under the pointer: Leaflet focuses the map on mousedown and after a zoom
  // button, and the browser would scroll a map that runs past the window's edge into view, so the click landed
  // on another area
  var focus = box.focus;
  box.focus = function(options){ return focus.call(this, Object.assign({preventScroll: true}, options)); };
  // hover tooltips stay inside the map, and above the attribution and scale at its foot (they are drawn over
  // tooltips and would hide the last lines): shift one back in when it would cross an edge
  var place = L.Tooltip.prototype._setPosition;
  L.Tooltip.prototype._setPosition = function(pos){
    place.call(this, pos);
    if (this.options.permanent || !this._container || !this._map) return;
    var el = this._container, t = el.getBoundingClientRect(), box = this._map.getContainer();
    var m = box.getBoundingClientRect(), bottom = m.bottom - 4;
    box.querySelectorAll(".leaflet-bottom .leaflet-control").forEach(function(c){
      var r = c.getBoundingClientRect();
      if (r.height && r.left < t.right && r.right > t.left) bottom = Math.min(bottom, r.top - 2);
    });
    var dx = Math.min(0, m.right - 4 - t.right) || Math.max(0, m.left + 4 - t.left);
    var dy = Math.min(0, bottom - t.bottom) || Math.max(0, m.top + 4 - t.top);
    if (dx || dy) { var p = L.DomUtil.getPosition(el); L.DomUtil.setPosition(el, L.point(p.x + dx, p.y + dy)); }
  };
})({{ this._parent.get_name() }});
{% endmacro %}
""")


class _Verbatim(Element):
    """Text already rendered, put into the page as it is."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


class VerbatimMacro(MacroElement):
    """A MacroElement whose rendered parts go into the page without being read as Jinja templates again.

    branca wraps each rendered part in ``Element(text)``, which compiles it as a template: for England's
    6,817 wards (1.5 MB of script) that took about 0.2 s, and streamlit-folium renders a map twice.
    """

    def render(self, **kwargs):
        figure = self.get_root()
        module = self._template.module
        for part in ("header", "html", "script"):
            macro = module.__dict__.get(part)
            if macro is not None:
                getattr(figure, part).add_child(_Verbatim(macro(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class MapBehaviour(MacroElement):
    """Ctrl/Cmd + wheel zoom with a hint for a plain wheel, hover tooltips kept inside the map, and a click that
    never scrolls the page."""

    _template = _BEHAVIOUR

    def __init__(self, hint: str = "Use Ctrl + scroll to zoom the map"):
        super().__init__()
        self._name = "MapBehaviour"
        self.hint = js_json(hint)


_LABELS = Template("""
{% macro script(this, kwargs) %}
(function(map){
  var d = {{ this.payload }}, group = L.layerGroup();
  d.pts.forEach(function(p, i){
    // text content, never HTML: names are data
    var span = document.createElement("span"); span.textContent = d.t[i];
    group.addLayer(L.tooltip({permanent: true, direction: "center", className: "ws-label " + d.cls,
                              interactive: false, opacity: 1}).setLatLng(p).setContent(span));
  });
  function show(){ var z = map.getZoom(), on = z >= d.z[0] && z <= d.z[1];
    if (on && !map.hasLayer(group)) group.addTo(map); else if (!on && map.hasLayer(group)) map.removeLayer(group); }
  map.on("zoomend", show); map.whenReady(show);
  return group;
})({{ this._parent.get_name() }});
{% endmacro %}
""")


class MapLabels(VerbatimMacro):
    """Text labels centred on points, shown only between two zoom levels (inclusive)."""

    _template = _LABELS

    def __init__(self, payload: dict):
        super().__init__()
        self._name = "MapLabels"
        self.payload = js_json(payload)


def label_points(gdf: gpd.GeoDataFrame) -> list[list[float]]:
    """A point inside each polygon (EPSG:27700 in) as [lat, lon] (EPSG:4326), rounded to 1e-5 degrees.

    Memoised per layer, like the geometry; the list is shared, so callers must not change it.
    """
    require_bng(gdf, what="map labels")

    def points():
        inside = shapely.point_on_surface(gdf.geometry.to_numpy())
        lon, lat = bng_to_lonlat(shapely.get_x(inside), shapely.get_y(inside))
        return np.column_stack([lat, lon]).round(5).tolist()

    return _GEOMETRY_CACHE.get_or_compute(("labels", *_geometry_key(gdf, "labels", False)), points)


def add_labels(fmap: folium.Map, gdf: gpd.GeoDataFrame, texts, *, min_zoom: float = 0, max_zoom: float = 30,
               kind: str = "") -> MapLabels:
    """Label each polygon of ``gdf`` (EPSG:27700) with ``texts`` between ``min_zoom`` and ``max_zoom``.

    ``kind`` picks the look: ``""`` (small names), ``"ws-lad"`` (district names) or ``"ws-num"`` (numbers).
    """
    element = MapLabels({"pts": label_points(gdf), "t": [str(t) for t in texts], "z": [min_zoom, max_zoom],
                         "cls": kind})
    fmap.add_child(element)
    return element


class CompactPolygons(VerbatimMacro):
    """A polygon layer sent in the compact encoding described in the module docstring."""

    _template = _TEMPLATE

    def __init__(self, payload: dict, geometry_json: str | None = None):
        """``geometry_json``: the payload's ``"g"`` already as JSON text (:func:`encoded_geometry_json`)."""
        super().__init__()
        self._name = "CompactPolygons"
        # names and polyline text can contain "{{", which a Jinja pass or streamlit-folium's {{'name'}} rewrite would read
        text = js_json(payload)
        self.payload = text if geometry_json is None else '{"g":' + geometry_json + "," + text[1:]


@dataclass
class PolygonStyle:
    """Stroke and fill of a polygon layer."""

    color: str = "#444444"
    weight: float = 0.6
    opacity: float = 0.8
    fill_opacity: float = 0.75
    interactive: bool = True


@dataclass
class PolygonLayer:
    """What to draw: polygons (EPSG:27700) and optionally a class index per feature.

    ``classes`` holds an integer class per row (-1 = no data, drawn grey) into
    ``palette``; ``tooltip`` lists (label, column) pairs shown on hover;
    ``properties`` lists extra columns sent to the browser (e.g. ``code`` for clicks).
    """

    gdf: gpd.GeoDataFrame
    level: str
    classes: np.ndarray | None = None
    palette: list[str] = field(default_factory=list)
    tooltip: list[tuple[str, str]] = field(default_factory=list)
    properties: list[str] = field(default_factory=lambda: ["code"])
    style: PolygonStyle = field(default_factory=PolygonStyle)
    simplify: bool = True


#: Encoded geometry (or its JSON text) and label points by layer identity: the same area and level are drawn
#: for every indicator and weight. About four entries a map view (areas and outlines: JSON, label points).
_GEOMETRY_CACHE = LRUCache(max_entries=120)


def _geometry_key(gdf: gpd.GeoDataFrame, level: str, simplify: bool) -> tuple:
    bounds = tuple(np.round(gdf.total_bounds, 1))
    return (level, simplify, tuple(gdf["code"]) if "code" in gdf else len(gdf), bounds,
            round(float(shapely.area(gdf.geometry.to_numpy()).sum()), 0))


def _encode(gdf: gpd.GeoDataFrame, level: str, simplify: bool) -> list:
    shown = for_display(gdf, level) if simplify else gdf
    return encode_polygons(to_web(shown).geometry.to_numpy())


def encoded_geometry(gdf: gpd.GeoDataFrame, level: str, simplify: bool = True) -> list:
    """Polyline-encoded, display-simplified geometry (EPSG:27700 in), memoised per layer."""
    return _GEOMETRY_CACHE.get_or_compute(("rings", *_geometry_key(gdf, level, simplify)),
                                          lambda: _encode(gdf, level, simplify))


def encoded_geometry_json(gdf: gpd.GeoDataFrame, level: str, simplify: bool = True) -> str:
    """:func:`encoded_geometry` as the page's JSON text (:func:`geo.escape.js_json`), memoised per layer.

    Only the text is kept: it is all a page sends.
    """
    return _GEOMETRY_CACHE.get_or_compute(("json", *_geometry_key(gdf, level, simplify)),
                                          lambda: js_json(_encode(gdf, level, simplify)))


def _column(values: np.ndarray):
    """A property column: plain list, or {"k": distinct values, "v": index per feature} when values repeat."""
    plain = [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in values]
    distinct = list(dict.fromkeys(v for v in plain if v is not None))
    if len(plain) >= 8 and len(distinct) <= len(plain) // 4:
        index = {v: i for i, v in enumerate(distinct)}
        return {"k": distinct, "v": [-1 if v is None else index[v] for v in plain]}
    return plain


def layer_payload(layer: PolygonLayer, *, geometry: bool = True) -> dict:
    """The JSON-able compact payload for one polygon layer (without ``"g"``, its geometry, when not ``geometry``)."""
    gdf = layer.gdf
    require_bng(gdf, what="map layer")
    columns = list(dict.fromkeys([*layer.properties, *[c for _, c in layer.tooltip]]))
    props = {col: _column(gdf[col].to_numpy()) for col in columns}
    style = layer.style
    payload = {
        **({"g": encoded_geometry(gdf, layer.level, layer.simplify)} if geometry else {}),
        "p": props,
        "t": [[label, col] for label, col in layer.tooltip],
        "s": {"color": style.color, "weight": style.weight, "opacity": style.opacity,
              "fillOpacity": style.fill_opacity, "interactive": style.interactive},
        "nodata": NO_DATA_COLOUR,
    }
    if layer.classes is not None:
        payload["c"] = [int(c) for c in layer.classes]
        payload["pal"] = list(layer.palette)
    return payload


def base_map(bounds_bng: tuple[float, float, float, float], *, tiles: str | None = "light") -> folium.Map:
    """An empty Leaflet map fitted to ``bounds_bng`` (minx, miny, maxx, maxy in EPSG:27700).

    Leaflet is loaded from the app's static folder, not a CDN.
    """
    (west, east), (south, north) = bng_to_lonlat([bounds_bng[0], bounds_bng[2]], [bounds_bng[1], bounds_bng[3]])
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], tiles=None, control_scale=True,
                      prefer_canvas=True, zoom_control=True, zoom_snap=0.25, scroll_wheel_zoom=False)
    fmap.add_child(MapBehaviour())
    fmap.default_js = [("leaflet", LEAFLET_JS)]
    fmap.default_css = [("leaflet_css", LEAFLET_CSS)]
    if tiles and tiles in TILES:
        url, attribution = TILES[tiles]
        folium.TileLayer(url, attr=attribution, name=tiles, max_zoom=18).add_to(fmap)
    fmap.fit_bounds([[south, west], [north, east]])
    return fmap


def fit_to(fmap: folium.Map, bounds_bng: tuple[float, float, float, float], *, context: float = 1.0) -> None:
    """Fit ``fmap`` to ``bounds_bng`` (EPSG:27700 metres), widened by ``context`` times its size each side."""
    minx, miny, maxx, maxy = bounds_bng
    pad = max(maxx - minx, maxy - miny, 200.0) * context
    (west, east), (south, north) = bng_to_lonlat([minx - pad, maxx + pad], [miny - pad, maxy + pad])
    fmap.fit_bounds([[south, west], [north, east]])


def add_polygons(fmap: folium.Map, layer: PolygonLayer) -> CompactPolygons:
    """Add a compact polygon layer to ``fmap``."""
    element = CompactPolygons(layer_payload(layer, geometry=False),
                              encoded_geometry_json(layer.gdf, layer.level, layer.simplify))
    fmap.add_child(element)
    return element


def add_points(fmap: folium.Map, points: gpd.GeoDataFrame, *, label: str = "name", color: str = "#000000",
               fill: str = "#ffffff", radius: int = 7) -> folium.FeatureGroup:
    """Circle markers (no icon images needed) for sites or hubs (EPSG:27700 in)."""
    require_bng(points, what="points")
    web = to_web(points)
    group = folium.FeatureGroup(name=label)
    for row, geom in zip(web.itertuples(index=False), web.geometry):
        folium.CircleMarker([geom.y, geom.x], radius=radius, color=color, weight=2, fill=True, fill_color=fill,
                            fill_opacity=0.95, tooltip=folium.Tooltip(js_template_html(getattr(row, label)))).add_to(group)
    group.add_to(fmap)
    return group


def payload_bytes(fmap: folium.Map) -> int:
    """Size in bytes of the HTML/JS that describes the map (without Leaflet itself)."""
    html = fmap.get_root().render()
    return len(html.encode("utf-8"))
