"""`make bench-compare`: two runs of `make bench` side by side, read from bench/out/results.csv.

A run is every row one `make bench` appended: the same commit and the same date (the time it started). `BENCH_RUNS`
names the two runs to compare, the older first: each a commit (its latest run), a commit and the start of a date
(`5695ff6@2026-11-29T10`), or a negative index (-1 the last run, -2 the one before); by default the last two runs.

For each N that both runs measured, every metric of both (the example queries' own p95s only with `--queries`): the
two values and the second's change relative to the first. The VM's speed drifts, so wall times of two runs compare
only when the machine ran as fast in both: each run's host reference (`host_reference_ms_start` and `_end`, a fixed
Python loop timed by the bench) is in the table, and it is headed by a warning for each size at which the two runs'
references differ by more than REFERENCE_TOLERANCE. Runs of two commits whose references disagree are compared by runs in turns
instead (docs/scale-out.md, How it is measured).
"""

import argparse
import csv
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from rich.console import Console
from rich.table import Table

from bench.run import RESULTS, figure_text

# Two runs' host references that differ by more than this share: their wall times do not compare.
REFERENCE_TOLERANCE = 0.10
REFERENCE_METRICS = ("host_reference_ms_start", "host_reference_ms_end")

console = Console(width=120)


class Run(NamedTuple):
    commit: str
    date: str

    def __str__(self) -> str:
        return f"{self.commit}@{self.date}"


# A run's figures: N (or "fit") → metric → value
Figures = dict[str, dict[str, float]]


class UnknownRun(ValueError):
    """A run selector that names no run, or more than one commit."""


def read_runs(path: Path) -> dict[Run, Figures]:
    """Every run of the results file, in the order they were appended."""
    runs: dict[Run, Figures] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            figures = runs.setdefault(Run(row["commit"], row["date"]), {})
            figures.setdefault(row["n"], {})[row["metric"]] = float(row["value"])
    return runs


def pick_run(runs: Sequence[Run], selector: str) -> Run:
    """The run `selector` names among `runs` (in the order they were appended): see the module's docstring."""
    if selector.lstrip("-").isdigit() and selector.startswith("-"):
        index = int(selector)
        if -len(runs) <= index < 0:
            return runs[index]
        raise UnknownRun(f"run {selector}: the results file has {len(runs)} run(s)")
    commit, _, date = selector.partition("@")
    found = [run for run in runs if run.commit.startswith(commit) and run.date.startswith(date)]
    if not found:
        raise UnknownRun(f"no run of {selector!r} in the results file; its runs: {', '.join(map(str, runs[-8:]))}")
    commits = sorted({run.commit for run in found})
    if len(commits) > 1:
        raise UnknownRun(f"{selector!r} names runs of several commits: {', '.join(commits)}")
    return found[-1]


class Compared(NamedTuple):
    n: str
    metric: str
    before: float
    after: float

    @property
    def change(self) -> float | None:
        """after / before - 1, None when before is 0."""
        return self.after / self.before - 1 if self.before else None


def compared(before: Figures, after: Figures, queries: bool = False) -> list[Compared]:
    """The figures both runs have, by N in `before`'s order and metric in its order; the example queries' own figures
    (`metric:query`) only when `queries` is set."""
    rows = []
    for n, metrics in before.items():
        for metric, value in metrics.items():
            if (":" in metric and not queries) or metric not in after.get(n, {}):
                continue
            rows.append(Compared(n, metric, value, after[n][metric]))
    return rows


def host_reference(metrics: dict[str, float]) -> float | None:
    """One size's host reference: the mean of its start and end references (ms), None if it has none."""
    values = [metrics[name] for name in REFERENCE_METRICS if name in metrics]
    return statistics.fmean(values) if values else None


def speed_warnings(before: Figures, after: Figures, tolerance: float = REFERENCE_TOLERANCE) -> list[str]:
    """For each size both runs measured, why their wall times do not compare: their host references differ by more
    than `tolerance`, or one has none (benched before e87efc0)."""
    warnings = []
    for n in before.keys() & after.keys():
        first, second = host_reference(before[n]), host_reference(after[n])
        if first is None or second is None:
            if n != "fit":
                warnings.append(f"N = {n}: a run has no host reference")
        elif abs(second / first - 1) > tolerance:
            warnings.append(f"N = {n}: host references {first:.1f} ms against {second:.1f} ms")
    return sorted(warnings)


def _change(row: Compared) -> str:
    change = row.change
    return "" if change is None else f"{change:+.1%}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench-compare", description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", default=["-2", "-1"], help="two runs, the older first (default: -2 -1)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results file (default: %(default)s)")
    parser.add_argument("--queries", action="store_true", help="each example query's p95 too")
    args = parser.parse_args(argv)
    if len(args.runs) != 2:
        parser.error(f"two runs to compare, not {len(args.runs)}")
    if not args.results.is_file():
        console.print(f"no results file at {args.results}: run `make bench` first", soft_wrap=True)
        return 2
    runs = read_runs(args.results)
    try:
        first, second = (pick_run(list(runs), selector) for selector in args.runs)
    except UnknownRun as exc:
        console.print(str(exc), soft_wrap=True)
        return 2
    before, after = runs[first], runs[second]
    console.print(f"before {first}\nafter  {second}", soft_wrap=True)
    table = Table()
    for name, justify in (("N", "right"), ("metric", "left"), (first.commit, "right"), (second.commit, "right"),
                          ("change", "right")):
        table.add_column(name, justify=justify)
    for row in compared(before, after, args.queries):
        table.add_row(row.n, row.metric, figure_text(row.before), figure_text(row.after), _change(row))
    warnings = speed_warnings(before, after)
    if warnings:
        console.print(f"[bold]The machine ran at another speed[/bold] (more than {REFERENCE_TOLERANCE:.0%} apart): the wall "
                      "times of these sizes do not compare; compare the commits by runs in turns", soft_wrap=True)
        for warning in warnings:
            console.print(f"  {warning}", soft_wrap=True)
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
