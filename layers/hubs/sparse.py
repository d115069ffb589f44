"""Covering models (MCLP, LSCP) built straight in PuLP from only the (demand, site) pairs within reach.

spopt builds its coverage constraints term by term over the whole (demand x sites) matrix, which takes
most of a large plan's time; these builders write one constraint per demand group from the sites that
reach it (a sparse row), with the same variables, objective and constraints as spopt's
``MCLP.from_cost_matrix`` / ``LSCP.from_cost_matrix`` (``tests/test_hubs_sparse.py`` checks they reach
the same optimum):

* MCLP: maximise sum_i w_i z_i subject to sum_{j reaching i} y_j >= z_i, sum_j y_j = p, y_j = 1 for fixed
  sites; y, z binary.
* LSCP: minimise sum_j y_j subject to sum_{j reaching i} y_j >= 1, y_j = 1 for fixed sites.

Inputs are a boolean ``pattern`` (demand groups x sites: site within the threshold, minutes <= threshold)
and weights in the demand's unit (people). No CRS: the matrix is already minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pulp


@dataclass
class CoverLP:
    """A built covering model: the PuLP problem, one binary per site (``fac_vars``) and, for MCLP, one per
    demand group (``cli_vars``, 1 = covered)."""

    problem: pulp.LpProblem
    fac_vars: list
    cli_vars: list
    pairs: int  # within-reach (group, site) pairs written as constraint terms


def _site_vars(m: int, fixed: np.ndarray) -> list:
    out = []
    for j in range(m):
        # an LpBinary would reset the bounds to 0..1: integer in [1, 1] keeps a fixed hub open
        var = pulp.LpVariable(f"y_{j}", lowBound=1 if fixed[j] else 0, upBound=1, cat=pulp.LpInteger)
        out.append(var)
    return out


def _reach_terms(pattern: np.ndarray, y: list) -> list[list]:
    """For each demand group (row of the bool ``pattern``), the (site variable, 1) terms of the sites that reach it."""
    rows, cols = np.nonzero(pattern)
    bounds = np.searchsorted(rows, np.arange(pattern.shape[0] + 1))
    return [[(y[j], 1.0) for j in cols[bounds[i]:bounds[i + 1]]] for i in range(pattern.shape[0])]


def mclp(pattern: np.ndarray, weights: np.ndarray, fixed: np.ndarray, p: int, name: str = "wardscope_mclp") -> CoverLP:
    """Maximal covering on ``pattern`` (g x m bool) with group weights ``weights`` (g,), ``fixed`` (m,) sites
    always open and exactly ``p`` sites open in all (fixed included)."""
    pattern = np.asarray(pattern, dtype=bool)
    g, m = pattern.shape
    prob = pulp.LpProblem(name, pulp.LpMaximize)
    y = _site_vars(m, np.asarray(fixed, dtype=bool))
    z = [pulp.LpVariable(f"z_{i}", lowBound=0, upBound=1, cat=pulp.LpInteger) for i in range(g)]
    prob.setObjective(pulp.LpAffineExpression([(z[i], float(w)) for i, w in enumerate(weights)]))
    reach = _reach_terms(pattern, y)
    for i, terms in enumerate(reach):
        terms.append((z[i], -1.0))
        prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintGE, rhs=0), f"cover_{i}")
    prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression([(v, 1.0) for v in y]), pulp.LpConstraintEQ,
                                         rhs=int(p)), "open_p")
    return CoverLP(prob, y, z, int(pattern.sum()))


def lscp(pattern: np.ndarray, fixed: np.ndarray, name: str = "wardscope_lscp") -> CoverLP:
    """Location set covering on ``pattern`` (g x m bool): fewest open sites (fixed ones always open) such
    that every group has an open site within reach. Every row needs at least one True."""
    pattern = np.asarray(pattern, dtype=bool)
    m = pattern.shape[1]
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    y = _site_vars(m, np.asarray(fixed, dtype=bool))
    prob.setObjective(pulp.LpAffineExpression([(v, 1.0) for v in y]))
    for i, terms in enumerate(_reach_terms(pattern, y)):
        prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintGE, rhs=1), f"cover_{i}")
    return CoverLP(prob, y, [], int(pattern.sum()))


@dataclass
class CapacityLP(CoverLP):
    """A built capacitated covering model: besides the site binaries, one continuous share ``x`` per
    within-reach (group, site) pair (``pair_rows``, ``pair_cols`` give the pair of each, in order)."""

    pair_vars: list = None
    pair_rows: np.ndarray = None
    pair_cols: np.ndarray = None


def capacitated_mclp(pattern: np.ndarray, weights: np.ndarray, capacity: np.ndarray, fixed: np.ndarray, p: int,
                     tie_break: np.ndarray | None = None, name: str = "wardscope_capacitated_mclp") -> CapacityLP:
    """Maximal covering where each site serves at most its capacity.

    ``pattern`` (g x m bool) says which sites reach each demand group, ``weights`` (g,) the group's demand
    (people), ``capacity`` (m,) the people a site can serve (NaN = no limit). ``x_gj`` in [0, 1] is the
    share of group g served by site j (groups can be split between hubs)::

        maximise   sum_gj w_g x_gj
        subject to sum_j x_gj <= 1                      (a group is served at most once)
                   x_gj <= y_j                          (only by an open site)
                   sum_g w_g x_gj <= c_j y_j            (sites with a capacity)
                   sum_j y_j = p, y_j = 1 for fixed sites; y binary.

    ``tie_break`` (g x m, optional) lowers each pair's value to ``w_g (1 - tie_break_gj)``: tiny numbers
    (e.g. 1e-7 x minutes / threshold) make the solver serve an area from the nearer of two hubs with room.
    """
    pattern = np.asarray(pattern, dtype=bool)
    g, m = pattern.shape
    weights = np.asarray(weights, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    prob = pulp.LpProblem(name, pulp.LpMaximize)
    y = _site_vars(m, np.asarray(fixed, dtype=bool))
    rows, cols = np.nonzero(pattern)
    x = [pulp.LpVariable(f"x_{i}_{j}", lowBound=0, upBound=1) for i, j in zip(rows, cols)]
    value = weights[rows] * (1.0 - (np.nan_to_num(tie_break[rows, cols]) if tie_break is not None else 0.0))
    prob.setObjective(pulp.LpAffineExpression([(x[t], float(v)) for t, v in enumerate(value)]))
    bounds = np.searchsorted(rows, np.arange(g + 1))
    for i in range(g):
        terms = [(x[t], 1.0) for t in range(bounds[i], bounds[i + 1])]
        prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintLE, rhs=1), f"once_{i}")
    for t, j in enumerate(cols):
        prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression([(x[t], 1.0), (y[j], -1.0)]),
                                             pulp.LpConstraintLE, rhs=0), f"open_{t}")
    order = np.argsort(cols, kind="stable")
    col_bounds = np.searchsorted(cols[order], np.arange(m + 1))
    for j in range(m):
        if np.isnan(capacity[j]):
            continue
        terms = [(x[t], float(weights[rows[t]])) for t in order[col_bounds[j]:col_bounds[j + 1]]]
        terms.append((y[j], -float(capacity[j])))
        prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintLE, rhs=0), f"cap_{j}")
    prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression([(v, 1.0) for v in y]), pulp.LpConstraintEQ,
                                         rhs=int(p)), "open_p")
    return CapacityLP(prob, y, [], int(len(rows)), x, rows, cols)
