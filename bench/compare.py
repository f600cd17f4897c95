"""`make bench-compare`: two runs of `make bench` side by side, read from bench/out/results.csv.

A run is every row one `make bench` appended: the same commit and the same date (the time it started). `BENCH_RUNS`
names the two runs to compare, the older first: each a commit (its latest run; an exact name before a prefix), a
commit and the start of a date (`5695ff6@2026-11-29T10`), or a negative index (-1 the last run, -2 the one before);
by default the last two runs.

For each size (N) that both runs measured, the metrics both have (the example queries' own p95s only with `--queries`):
the two values and the change from the first to the second. Sizes and metrics only one run has are named, not compared.

The VM's speed drifts, so the wall times of two runs compare only where the machine ran as fast in both. The bench
times a fixed Python loop before and after each size (`host_reference_ms_start`, `_end`); the table is headed by the
sizes at which the two runs' references (start with start, end with end), or one run's start and end, are more than
REFERENCE_TOLERANCE apart, and by those where a run has no reference (benched before e87efc0). The linear fit (N "fit")
compares only when every size it was fitted over does, over the same sizes. Runs that do not compare are compared by
runs in turns instead (docs/scale-out.md, How it is measured).
"""

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from rich.console import Console
from rich.table import Table

from bench.run import FIT, REFERENCE_END, REFERENCE_START, RESULTS, figure_text

# Two host references further apart than this share (of the smaller): the wall times beside them do not compare.
REFERENCE_TOLERANCE = 0.10

console = Console(width=120)


class Run(NamedTuple):
    commit: str
    date: str

    def __str__(self) -> str:
        return f"{self.commit}@{self.date}"


# A run's figures: N (or FIT) → metric → value
Figures = dict[str, dict[str, float]]


class UnknownRun(ValueError):
    """A run selector that names no run, or runs of more than one commit."""


class BadResults(ValueError):
    """A results file that cannot be read as `make bench` writes it."""


def read_runs(path: Path) -> dict[Run, Figures]:
    """Every run of the results file, in the order they were appended."""
    runs: dict[Run, Figures] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                run, n, metric, value = Run(row["commit"], row["date"]), row["n"], row["metric"], float(row["value"])
                if n != FIT and not n.isdigit():
                    raise ValueError(f"N is {n!r}, neither a number of notices nor {FIT!r}")
            except (KeyError, TypeError, ValueError, AttributeError) as exc:  # (a line cut short by an interrupted bench)
                raise BadResults(f"{path}, line {line}: not a row of commit, date, n, metric, value ({exc})") from exc
            runs.setdefault(run, {}).setdefault(n, {})[metric] = value
    return runs


def pick_run(runs: Sequence[Run], selector: str) -> Run:
    """The run `selector` names among `runs` (in the order they were appended): see the module's docstring."""
    if selector.startswith("-"):
        if not selector[1:].isdigit() or int(selector) == 0:
            raise UnknownRun(f"run {selector}: an index counts back from the last run, -1")
        if int(selector) < -len(runs):
            raise UnknownRun(f"run {selector}: the results file has {len(runs)} run(s)")
        return runs[int(selector)]
    commit, _, date = selector.partition("@")
    found = [run for run in runs if run.commit == commit and run.date.startswith(date)]
    found = found or [run for run in runs if run.commit.startswith(commit) and run.date.startswith(date)]
    if not found:
        raise UnknownRun(f"no run of {selector!r} in the results file; its last runs: {', '.join(map(str, runs[-8:]))}")
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
        """The change from before to after, relative to before's size; None when before is 0 and after is not."""
        if self.before == 0:
            return 0.0 if self.after == 0 else None
        return (self.after - self.before) / abs(self.before)


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


def _apart(first: float, second: float, tolerance: float) -> bool:
    """Whether two host references are more than `tolerance` apart, whichever is the larger."""
    low, high = sorted((first, second))
    return low <= 0 or high > low * (1 + tolerance)


def speed_warnings(before: Figures, after: Figures, tolerance: float = REFERENCE_TOLERANCE) -> tuple[list[str], list[str]]:
    """(the sizes, in `before`'s order, at which the machine's speed differed: between the runs or within one;
    the sizes at which a run has no host reference), each as a line naming the size and the references."""
    differed, missing = [], []
    sizes = [n for n in before if n in after and n != FIT]
    for n in sizes:
        references = [(figures[n].get(REFERENCE_START), figures[n].get(REFERENCE_END)) for figures in (before, after)]
        if any(value is None for pair in references for value in pair):
            missing.append(f"N = {n}: a run has no host reference")
            continue
        (start1, end1), (start2, end2) = references
        if _apart(start1, start2, tolerance) or _apart(end1, end2, tolerance) \
                or _apart(start1, end1, tolerance) or _apart(start2, end2, tolerance):
            differed.append(f"N = {n}: host references {start1:.1f}–{end1:.1f} ms against {start2:.1f}–{end2:.1f} ms "
                            "(start–end)")
    if FIT in before and FIT in after:
        if _sizes(before) != _sizes(after):
            differed.append(f"N = {FIT}: over other sizes ({', '.join(_sizes(before))} against {', '.join(_sizes(after))})")
        elif differed or missing:
            differed.append(f"N = {FIT}: over sizes whose wall times do not compare")
    return differed, missing


def _sizes(figures: Figures) -> list[str]:
    """The sizes a run measured (and fitted its line over), FIT left out."""
    return sorted((n for n in figures if n != FIT), key=int)


def _change(row: Compared) -> str:
    change = row.change
    return "" if change is None else f"{change:+.1%}"


def _only_in_one(before: Figures, after: Figures) -> list[str]:
    """Lines naming the sizes one run measured and the other did not."""
    lines = []
    for name, figures, other in (("before", before, after), ("after", after, before)):
        sizes = [n for n in _sizes(figures) if n not in other]
        if sizes:
            lines.append(f"N = {', '.join(sizes)} measured only by the run {name}")
    return lines


def say(text: str) -> None:
    """Print a line as it is: run names, paths and selectors are not rich markup."""
    console.print(text, markup=False, soft_wrap=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench-compare", description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", default=["-2", "-1"], help="two runs, the older first (default: -2 -1)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results file (default: %(default)s)")
    parser.add_argument("--queries", action="store_true", help="each example query's p95 too")
    args = parser.parse_args(argv)
    if len(args.runs) != 2:
        parser.error(f"two runs to compare, not {len(args.runs)}")
    if not args.results.is_file():
        say(f"no results file at {args.results}: run `make bench` first")
        return 2
    try:
        runs = read_runs(args.results)
        first, second = (pick_run(list(runs), selector) for selector in args.runs)
    except (BadResults, UnknownRun) as exc:
        say(str(exc))
        return 2
    before, after = runs[first], runs[second]
    say(f"before {first}\nafter  {second}")
    rows = compared(before, after, args.queries)
    if not rows:
        say(f"the two runs share no figure: sizes {', '.join(_sizes(before))} against {', '.join(_sizes(after))}")
        return 1
    for line in _only_in_one(before, after):
        say(line)
    differed, missing = speed_warnings(before, after)
    if differed:
        say(f"The machine ran at another speed (references more than {REFERENCE_TOLERANCE:.0%} apart): the wall times "
            "of these sizes do not compare; compare the commits by runs in turns")
        for line in differed:
            say(f"  {line}")
    if missing:
        say("No host reference to tell whether the machine ran as fast (benched before e87efc0):")
        for line in missing:
            say(f"  {line}")
    table = Table()
    for name, justify in (("N", "right"), ("metric", "left"), (f"before ({first.commit})", "right"),
                          (f"after ({second.commit})", "right"), ("change", "right")):
        table.add_column(name, justify=justify)
    for row in rows:
        table.add_row(row.n, row.metric, figure_text(row.before), figure_text(row.after), _change(row))
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
