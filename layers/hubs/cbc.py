"""Solve hub models with PuLP's bundled CBC: always under a time limit, status read loudly, gap reported.

* Every solve has a wall-clock time limit (``PULP_CBC_CMD(timeLimit=..., timeMode="elapsed")``); there is
  no way to ask for none, so a plan can never hang.
* Status: PuLP reports ``Optimal`` both when CBC proved optimality and when it stopped at the time limit
  holding a feasible solution; the two are told apart by ``problem.sol_status`` (``LpSolutionOptimal``
  vs ``LpSolutionIntegerFeasible``). Stopped without any solution, infeasible or anything else raises
  :class:`SolverError` with a one-line message.
* Gap: PuLP does not expose CBC's best bound, so CBC's log is written to a temporary file
  (``logPath``) and its result block read ("Objective value", "Upper bound"/"Lower bound"). If the log
  has no bound, the LP relaxation of the same model is solved (``mip=False``) and used as the bound
  (weaker, but a valid bound). The relative gap is ``|bound - objective| / |objective|`` (CBC's
  definition); 0 when optimality was proved.

Units: seconds (time limits and solve times); objective and bound in the model's units.
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pulp

from layers.hubs.errors import HubError, SolverError

#: Time limit for one solve when none is given, seconds (wall clock).
DEFAULT_TIME_LIMIT_S = 60.0
#: CBC settings for the covering models (MCLP, LSCP) solved from a greedy MIP start: Gomory cuts add
#: nothing that stays active on them and the coefficient-diving heuristic hunts for plans the start
#: already gives. Off, CBC proves the 3,000 x 300, k = 10, 45-minute bench plan with about 35% less CPU
#: (k = 20: about half); at 30 and 60 minutes it makes no difference (bench/bench_hubs.py).
COVER_OPTIONS = ("gomoryCuts off", "DivingCoefficient off")
#: Longest time limit accepted, seconds.
MAX_TIME_LIMIT_S = 3600.0

_RESULT = re.compile(r"^Result - (.+?)\s*$", re.M)
_OBJECTIVE = re.compile(r"^Objective value:\s+(\S+)", re.M)
_BOUND = re.compile(r"^(?:Lower|Upper) bound:\s+(\S+)", re.M)


@dataclass
class SolveInfo:
    """How a solve ended.

    ``status``: ``optimal`` (proved) or ``time limit`` (stopped at the limit with a feasible solution).
    ``objective`` and ``bound`` (best possible, from CBC or the LP relaxation) are in the model's units;
    ``gap`` is relative (0.013 = 1.3%); ``gap_source`` says where the bound came from.
    """

    status: str
    pulp_status: str
    solution_status: str
    cbc_result: str
    objective: float
    bound: float | None
    gap: float | None
    gap_source: str
    seconds: float
    time_limit_s: float

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    def text(self) -> str:
        """One line for people: that the plan is proved the best possible (and how long that took), or the
        time-limit story with the gap."""
        if self.optimal:
            took = "under 0.1 s" if self.seconds < 0.05 else f"{self.seconds:.1f} s"
            return f"this is the best possible plan for the question: the optimiser (CBC) proved it in {took}"
        gap = f"{100 * self.gap:.2f}%" if self.gap is not None else "an unknown share"
        return (f"this may not be the best possible plan: the optimiser (CBC) stopped at its {self.time_limit_s:g} s "
                f"time limit, and the plan shown is within {gap} of the best possible (gap from {self.gap_source}); "
                "fewer candidate sites make it quicker (on the command line, more time also helps)")

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def check_time_limit(time_limit_s: float | None) -> float:
    """A usable time limit in seconds (``None`` -> :data:`DEFAULT_TIME_LIMIT_S`)."""
    value = DEFAULT_TIME_LIMIT_S if time_limit_s is None else float(time_limit_s)
    if not math.isfinite(value) or value <= 0 or value > MAX_TIME_LIMIT_S:
        raise HubError(f"the solver time limit must be more than 0 and at most {MAX_TIME_LIMIT_S:g} seconds, got {time_limit_s}")
    return value


def parse_cbc_log(text: str) -> dict:
    """CBC's result block: ``result`` (e.g. "Stopped on time limit"), ``objective`` and ``bound`` (floats or None)."""
    def number(pattern):
        hit = pattern.search(text)
        try:
            return float(hit.group(1)) if hit else None
        except ValueError:
            return None

    result = _RESULT.findall(text)
    return {"result": result[-1] if result else "", "objective": number(_OBJECTIVE), "bound": number(_BOUND)}


def relative_gap(objective: float, bound: float) -> float:
    """``|bound - objective| / |objective|`` (CBC's ratio gap); 0 when both are 0."""
    diff = abs(bound - objective)
    return 0.0 if diff <= 1e-9 else diff / max(abs(objective), 1e-9)


def lp_relaxation_bound(problem: pulp.LpProblem, time_limit_s: float) -> float | None:
    """The optimum of the LP relaxation (a bound on the integer optimum), or None if it was not solved.

    The model's variable values and status are restored afterwards.
    """
    variables = problem.variables()
    saved = [v.varValue for v in variables]
    status, sol_status = problem.status, problem.sol_status
    try:
        problem.solve(pulp.PULP_CBC_CMD(msg=False, mip=False, timeLimit=time_limit_s))
        bound = pulp.value(problem.objective) if problem.status == pulp.LpStatusOptimal else None
    except pulp.PulpSolverError:
        bound = None
    finally:
        for v, value in zip(variables, saved):
            v.varValue = value
        problem.status, problem.sol_status = status, sol_status
    return None if bound is None else float(bound)


def solve_cbc(problem: pulp.LpProblem, *, time_limit_s: float | None = None, warm_start: bool = False,
              what: str = "the model", options: tuple[str, ...] = ()) -> SolveInfo:
    """Solve ``problem`` with CBC under a wall-clock time limit and report how it ended.

    Parameters
    ----------
    time_limit_s : seconds (default :data:`DEFAULT_TIME_LIMIT_S`); always applied.
    warm_start : pass the variables' initial values to CBC as a MIP start (a feasible plan to improve on,
        so a time limit never leaves the model without a solution).
    what : names the model in error messages.
    options : extra CBC settings, e.g. ``("gomoryCuts off",)`` (see :data:`COVER_OPTIONS`).

    Raises :class:`SolverError` when CBC fails, finds no solution in time, or the model is infeasible.
    """
    limit = check_time_limit(time_limit_s)
    with tempfile.TemporaryDirectory(prefix="wardscope-cbc-") as tmp:
        log = Path(tmp) / "cbc.log"
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, warmStart=warm_start,
                                   logPath=str(log), timeMode="elapsed", options=list(options))
        start = time.perf_counter()
        try:
            problem.solve(solver)
        except pulp.PulpSolverError as exc:
            raise SolverError(f"{what}: the CBC solver failed ({str(exc).splitlines()[0]})") from None
        seconds = time.perf_counter() - start
        text = log.read_text(errors="replace") if log.is_file() else ""
    parsed = parse_cbc_log(text)
    status, sol = problem.status, problem.sol_status
    label, sol_label = pulp.LpStatus.get(status, str(status)), pulp.LpSolution.get(sol, str(sol))
    if status == pulp.LpStatusInfeasible or sol == pulp.LpSolutionInfeasible:
        raise SolverError(f"{what} has no feasible solution (CBC: {parsed['result'] or label})")
    if status == pulp.LpStatusNotSolved or sol == pulp.LpSolutionNoSolutionFound:
        raise SolverError(f"{what}: the optimiser (CBC) found no plan within its {limit:g} s time limit; make the "
                          "problem smaller (fewer candidate sites or priority areas), or on the command line allow it "
                          "more time")
    if status != pulp.LpStatusOptimal or sol not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        raise SolverError(f"{what}: CBC ended with status {label} ({sol_label}); the plan cannot be trusted")
    objective = float(pulp.value(problem.objective) or 0.0)
    if sol == pulp.LpSolutionOptimal:
        return SolveInfo("optimal", label, sol_label, parsed["result"], objective, objective, 0.0,
                         "CBC (proved optimal)", seconds, limit)
    bound, source = parsed["bound"], "CBC's best bound"
    if bound is None:
        bound, source = lp_relaxation_bound(problem, limit), "the LP relaxation"
    gap = relative_gap(objective, bound) if bound is not None else None
    return SolveInfo("time limit", label, sol_label, parsed["result"], objective, bound, gap, source, seconds, limit)
