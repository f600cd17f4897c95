"""`zhenggai watch` (orchestration/watch.py): one long-lived process refreshing the warehouse when the folder changes."""

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

from typer.testing import CliRunner

from conftest import SEEDS, query, seed_path
from orchestration import early_gate
from orchestration.cli import app
from orchestration.watch import watch


class Folder:
    """A landing folder whose changes a test makes between the watcher's looks (its `sleep`)."""

    def __init__(self, path, changes):
        self.path, self.changes, self.looks = path, list(changes), 0

    def sleep(self, _seconds):
        self.looks += 1
        if self.changes:
            self.changes.pop(0)(self.path)


def add(prefix):
    return lambda folder: shutil.copy(seed_path(prefix), folder / seed_path(prefix).name)


def nothing(_folder):
    return None


def test_the_first_refresh_runs_at_once_and_a_change_once_it_has_settled(tmp_path):
    """A change is refreshed at the second look that sees it (a file still being copied is not read half-written),
    and a folder that does not change is not refreshed again."""
    folder = tmp_path / "landing"
    folder.mkdir()
    add("000")(folder)
    runs, seen = [], []

    def run():
        runs.append(sorted(p.name for p in folder.iterdir()))
        return SimpleNamespace(locked=False)

    landing = Folder(folder, [nothing, add("001"), nothing, nothing, nothing])
    count = watch(folder, tmp_path / "w.duckdb", run=run, on_refresh=seen.append, interval_s=0, refreshes=2,
                  sleep=landing.sleep)
    assert count == 2 and len(seen) == 2
    assert runs == [[seed_path("000").name], sorted([seed_path("000").name, seed_path("001").name])]
    # looks: 1 refresh, 2 same, 3 changed (not yet), 4 same again: refresh
    assert landing.looks == 3
    assert all(refreshed.seconds >= 0 for refreshed in seen)


def test_a_locked_out_refresh_is_tried_again_and_a_failed_one_is_not(tmp_path):
    folder = tmp_path / "landing"
    folder.mkdir()
    add("000")(folder)
    outcomes = [SimpleNamespace(locked=True), SimpleNamespace(locked=False, failure="gate blocked"),
                SimpleNamespace(locked=False)]
    runs = []

    def run():
        runs.append(len(runs))
        return outcomes[len(runs) - 1]

    landing = Folder(folder, [nothing, nothing, nothing, add("001"), nothing])
    watch(folder, tmp_path / "w.duckdb", run=run, on_refresh=lambda _: None, interval_s=0, refreshes=3,
          sleep=landing.sleep)
    # locked at once, run again at the next look and failed; not again while the folder stays the same (looks 2 and
    # 3), then again once the new file has settled (look 5)
    assert runs == [0, 1, 2]
    assert landing.looks == 5


def test_watch_publishes_each_settled_change_from_one_process(tmp_path):
    """The real job, twice, from one process: the first refresh builds the warehouse, the second patches in the
    notice added between two looks; each refresh's gate runs in a process the watcher started before it was due, and
    ends without waiting for its Data Docs (as `zhenggai watch` runs it), which are written before the next gate runs."""
    folder = tmp_path / "landing"
    folder.mkdir()
    for prefix in ("000", "001"):
        add(prefix)(folder)
    warehouse = tmp_path / "zhenggai.duckdb"
    from orchestration.cli import run_refresh

    seen = []
    landing = Folder(folder, [add("002"), nothing])
    try:
        watch(folder, warehouse, run=lambda: run_refresh(folder, warehouse, docs_in_background=True),
              on_refresh=seen.append, interval_s=0, refreshes=2, sleep=landing.sleep)
        early_gate.wait_for_docs()
        spare = early_gate.take()  # the next refresh's gate process, started after the last one
        assert spare is not None
        spare.close()
    finally:
        early_gate.discard()
    assert [(r.outcome.published, r.outcome.parsed) for r in seen] == [(True, 2), (True, 1)]
    notices = query(warehouse, "SELECT source_name FROM dim_notice ORDER BY 1")["source_name"].to_list()
    assert notices == sorted(seed_path(prefix).name for prefix in ("000", "001", "002"))
    report = json.loads((tmp_path / "validation" / "validation.json").read_text(encoding="utf-8"))
    assert report["mode"] == "delta" and report["passed"]
    assert Path(report["data_docs"]).is_file() and report.get("data_docs_error") is None


def test_the_watch_command_prints_one_json_line_per_refresh(tmp_path):
    folder = tmp_path / "landing"
    shutil.copytree(SEEDS, folder)
    warehouse = tmp_path / "zhenggai.duckdb"
    result = CliRunner().invoke(app, ["watch", "--source", str(folder), "--warehouse", str(warehouse), "--refreshes", "1",
                                      "--interval", "0.1", "--jsonl"])
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    record = json.loads(line)
    assert record["state"] == "published" and record["parsed"] == 5 and record["seconds"] > 0
    assert query(warehouse, "SELECT count(*) AS n FROM dim_notice")["n"].item() == 5
    missing = CliRunner().invoke(app, ["watch", "--source", str(tmp_path / "nope"), "--warehouse", str(warehouse)])
    assert missing.exit_code == 3 and "notice folder not found" in missing.output


def test_an_instance_made_ahead_serves_one_run_and_none_is_made_for_a_persistent_one(monkeypatch, tmp_path):
    """The watcher makes the next run's throwaway Dagster instance while it waits (cli.prepare_instance)."""
    from orchestration import cli

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setattr(cli, "_spare_instance", None)
    cli.prepare_instance()
    made = cli._spare_instance
    assert made is not None and made.is_ephemeral
    assert cli._instance() is made
    assert cli._instance() is not made  # a run after it gets a new one

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    cli.prepare_instance()
    assert cli._spare_instance is None
