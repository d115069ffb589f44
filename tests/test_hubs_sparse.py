"""The sparse covering builder (layers.hubs.sparse) against spopt's MCLP/LSCP on the same matrices, and
the MCLP stop when the fixed hubs already cover everything any site can reach."""

import numpy as np
import pulp
import pytest
from spopt.locate import LSCP, MCLP

from layers.hubs import sparse
from layers.hubs.errors import NothingToAddError
from layers.hubs.models import HubLSCP, HubMCLP


def _matrix(seed, n=60, m=15):
    rng = np.random.default_rng(seed)
    minutes = rng.uniform(5, 60, size=(n, m))
    minutes[rng.random((n, m)) < 0.1] = np.nan
    weights = rng.integers(100, 2000, size=n).astype(float)
    return minutes, weights


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_fixed", [0, 2])
def test_sparse_mclp_reaches_spopts_optimum(seed, n_fixed):
    minutes, weights = _matrix(seed)
    fixed = np.zeros(minutes.shape[1], dtype=bool)
    fixed[:n_fixed] = True
    p = n_fixed + 3
    ref = MCLP.from_cost_matrix(np.nan_to_num(minutes, nan=1e9), weights, 20, p,
                                predefined_facilities_arr=fixed.astype(int) if n_fixed else None, name="ref")
    ref.problem.solve(pulp.PULP_CBC_CMD(msg=False))
    ours = sparse.mclp(minutes <= 20, weights, fixed, p)
    ours.problem.solve(pulp.PULP_CBC_CMD(msg=False))
    opened = np.array([v.value() > 0.5 for v in ours.fac_vars])
    assert opened.sum() == p and opened[fixed].all()
    covered = weights[(minutes[:, opened] <= 20).any(axis=1)].sum()
    assert covered == pytest.approx(pulp.value(ref.problem.objective))
    assert pulp.value(ours.problem.objective) == pytest.approx(covered)


def test_sparse_lscp_needs_as_many_sites_as_spopt():
    minutes, _ = _matrix(3)
    reach = minutes <= 30
    keep = reach.any(axis=1)
    ref = LSCP.from_cost_matrix(np.nan_to_num(minutes[keep], nan=1e9), 30, name="ref")
    ref.problem.solve(pulp.PULP_CBC_CMD(msg=False))
    ours = sparse.lscp(reach[keep], np.zeros(reach.shape[1], dtype=bool))
    ours.problem.solve(pulp.PULP_CBC_CMD(msg=False))
    assert pulp.value(ours.problem.objective) == pytest.approx(pulp.value(ref.problem.objective))
    model = HubLSCP.from_matrix(minutes[keep], np.ones(int(keep.sum())), 30).solve()
    assert int(model.open.sum()) == round(pulp.value(ref.problem.objective))


def test_mclp_stops_when_existing_hubs_already_cover_everything():
    minutes = np.array([[5.0, 50, 10], [8, 60, 12], [70, 80, np.nan]])
    with pytest.raises(NothingToAddError, match="no new site would add coverage"):
        HubMCLP.from_matrix(minutes, [100, 200, 300], 30, 1, fixed=[True, False, False])


@pytest.mark.parametrize("shape", [(200, 13), (50, 8), (30, 1), (5, 0)])
def test_grouping_rows_by_packed_bytes_matches_numpy_unique(shape):
    """Demand points reached by the same sites are merged; the packed-byte grouping gives numpy's groups, in its order."""
    from layers.hubs.models import _merge_patterns

    rng = np.random.default_rng(shape[0])
    pattern = rng.random(shape) < 0.3
    weights = rng.integers(1, 50, shape[0]).astype(float)
    unique, first, merged = _merge_patterns(pattern, weights)
    ref, ref_first, inverse = np.unique(pattern, axis=0, return_index=True, return_inverse=True)
    assert np.array_equal(unique, ref) and np.array_equal(first, ref_first)
    assert np.allclose(merged, np.bincount(inverse.reshape(-1), weights=weights))
