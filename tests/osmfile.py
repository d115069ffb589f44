"""Write small OpenStreetMap files for tests with pyosmium's writer (coordinates given in BNG metres)."""

from __future__ import annotations

from pathlib import Path

from pyproj import Transformer

_TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)


def write_osm(path: Path, nodes: dict[int, tuple[float, float]], ways: list[tuple[int, list[int], dict]]) -> Path:
    """Write ``nodes`` (id -> (easting, northing)) and ``ways`` ((id, node ids, tags)) as an .osm.pbf."""
    import osmium
    from osmium.osm.mutable import Node, Way

    path = Path(path)
    if path.exists():
        path.unlink()
    with osmium.SimpleWriter(str(path)) as writer:
        for node_id in sorted(nodes):
            lon, lat = _TO_WGS84.transform(*nodes[node_id])
            writer.add_node(Node(id=node_id, location=(lon, lat), version=1))
        for way_id, refs, tags in sorted(ways, key=lambda w: w[0]):
            writer.add_way(Way(id=way_id, nodes=refs, tags=tags, version=1))
    return path
