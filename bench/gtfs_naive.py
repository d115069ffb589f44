"""The naive alternative to the timetable engine: Dijkstra per origin and departure on a time-expanded graph.

Same inputs as the engine (its day's timetable, changes, walks and limits, from a
``geo.travel.gtfs.Plan``), routed independently with networkx. Nodes are moments: a vehicle at a stop
(``("v", event)``, at its departure), a vehicle arriving (``("a", event)``), a traveller waiting at a
stop (``("w", stop, time)`` for every boarding time there, chained in time order) and each site.
Edge weights are the seconds between the moments, so the length of a path from the origin is the
journey time. No limit on the number of vehicles (the engine stops after ``max_rides``).
"""

from __future__ import annotations

import networkx as nx
import numpy as np


def build_graph(plan) -> tuple[nx.DiGraph, dict]:
    """The time-expanded graph of ``plan``'s timetable, and for each stop its (times, wait nodes)."""
    tt, (ptr, to, cost) = plan.tt, plan.paths
    g = nx.DiGraph()
    n_ev = len(tt.ev_trip)
    waits: dict[int, tuple[np.ndarray, list]] = {}
    for s in np.unique(tt.ev_stop[tt.ev_board]):
        events = np.flatnonzero(tt.ev_board & (tt.ev_stop == s))
        times = np.unique(tt.ev_dep[events])
        nodes = [("w", int(s), float(t)) for t in times]
        g.add_weighted_edges_from((a, b, tb - ta) for a, b, ta, tb in zip(nodes, nodes[1:], times, times[1:]))
        g.add_weighted_edges_from((("w", int(s), float(tt.ev_dep[e])), ("v", int(e)), 0.0) for e in events)
        waits[int(s)] = (times, nodes)
    for e in range(n_ev - 1):
        if tt.ev_trip[e + 1] != tt.ev_trip[e]:
            continue
        g.add_edge(("v", e), ("v", e + 1), weight=tt.ev_dep[e + 1] - tt.ev_dep[e])
        if tt.ev_alight[e + 1]:
            g.add_edge(("v", e), ("a", e + 1), weight=tt.ev_arr[e + 1] - tt.ev_dep[e])
    e_site, e_stop, e_walk = plan.egress
    by_stop: dict[int, list] = {}
    for d, s, w in zip(e_site, e_stop, e_walk):
        by_stop.setdefault(int(s), []).append((int(d), float(w)))
    for e in np.flatnonzero(tt.ev_alight):
        s = int(tt.ev_stop[e])
        for d, w in by_stop.get(s, []):
            g.add_edge(("a", int(e)), ("site", d), weight=w)
        for k in range(ptr[s], ptr[s + 1]):
            ready = tt.ev_arr[e] + cost[k]
            node, wait = first_wait(waits, int(to[k]), ready)
            if node is not None:
                g.add_edge(("a", int(e)), node, weight=wait + cost[k])
    return g, waits


def first_wait(waits: dict, stop: int, ready_s: float):
    """The first wait node at ``stop`` at or after ``ready_s``, and the wait in seconds."""
    if stop not in waits:
        return None, 0.0
    times, nodes = waits[stop]
    i = int(np.searchsorted(times, ready_s, side="left"))
    return (nodes[i], float(times[i] - ready_s)) if i < len(times) else (None, 0.0)


def journey_seconds(g: nx.DiGraph, waits: dict, plan, origin: int, depart_s: float) -> np.ndarray:
    """Seconds from ``origin`` to every site leaving at ``depart_s`` (inf beyond ``max_minutes``)."""
    o, stop, walk = plan.access
    source = ("origin", origin, depart_s)
    g.add_node(source)
    added = []
    for s, w in zip(stop[o == origin], walk[o == origin]):
        node, wait = first_wait(waits, int(s), depart_s + w)
        if node is not None:
            g.add_edge(source, node, weight=w + wait)
            added.append(node)
    n_sites = plan.direct_s.shape[1]
    for d in range(n_sites):
        g.add_edge(source, ("site", d), weight=float(plan.direct_s[origin, d]))
    try:
        lengths = nx.single_source_dijkstra_path_length(g, source, cutoff=plan.cap_s, weight="weight")
    finally:
        g.remove_node(source)
    return np.array([lengths.get(("site", d), np.inf) for d in range(n_sites)])
