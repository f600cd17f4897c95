"""The shortcuts of expectations/gx_fast_paths.py give GX's own output: the gate's report, GX's stored suites and
results, and every Data Docs page are those of a run without them (on failing data, so that the pages show
unexpected values), GX skipping the optional batch fingerprint as it does for large frames; and each is put back
after the run."""

import contextlib
import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import jinja2
import pandas as pd
import pytest
from great_expectations.execution_engine import pandas_execution_engine as pandas_engine

import expectations.gate as gate_module
from expectations import gx_fast_paths
from expectations.gate import run_gate
from tests.test_gate import A, B, build_warehouse
from tests.test_gate_fast_paths import _frame, _suite, _validate

BROKEN = (  # two errors and two warnings across four suites
    f"UPDATE fact_issue SET status = 'done' WHERE issue_key = '{A}-i2'",
    f"UPDATE fact_issue SET notice_key = 'ffffffffffffffff' WHERE issue_key = '{B}-i0'",
    f"UPDATE fact_claim SET parsed_count = 3, reconciled = false WHERE claim_key = '{A}-c0'",
    f"UPDATE fact_indicator SET char_start = 25, char_end = 29 WHERE indicator_key = '{A}-x26'",
)

# what differs between two runs of the same gate: ids GX draws at random, times, the report folder itself
_RANDOM_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?|\d{8}T\d{6}\.\d{6}Z|_run_time_sort': [0-9.]+")


def _report(root: Path) -> tuple[dict, dict[str, str]]:
    """validation.json without its run time, duration and paths; every file of the GX project with what differs from
    run to run masked, keyed by its path (run time masked too)."""
    document = json.loads((root / "validation.json").read_text(encoding="utf-8"))
    for varying in ("run_time", "duration_seconds", "data_docs"):
        document.pop(varying)
    files = {}
    for path in sorted((root / "gx").rglob("*")):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="backslashreplace").replace(str(root), "<report>")
            files[_TIME.sub("<time>", str(path.relative_to(root)))] = _TIME.sub("<time>", _RANDOM_ID.sub("<id>", text))
    return document, files


class _FastRun(NamedTuple):
    database: Path
    result: gate_module.GateResult
    root: Path  # its report folder
    thresholds: tuple[float, float]  # GX's HASH_THRESHOLD before and after the run


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory) -> _FastRun:
    """The gate, with its shortcuts, on failing data: run once for the tests that compare it with GX's own output."""
    folder = tmp_path_factory.mktemp("fast_paths")
    database = build_warehouse(folder / "staged.duckdb", *BROKEN)
    before = pandas_engine.HASH_THRESHOLD
    result = run_gate(database, folder / "fast")
    return _FastRun(database, result, folder / "fast", (before, pandas_engine.HASH_THRESHOLD))


def test_the_gate_with_its_shortcuts_writes_what_gx_writes_without_them(fast_run, tmp_path, monkeypatch):
    fast = fast_run.result
    with monkeypatch.context() as plain_path:
        plain_path.setattr(gate_module, "_gx_fast_paths", contextlib.nullcontext)
        plain_path.setattr(pandas_engine, "HASH_THRESHOLD", 0)  # GX's own setting: no fingerprint below 0 bytes
        plain = run_gate(fast_run.database, tmp_path / "plain")

    assert (fast.passed, fast.errors, fast.warnings) == (plain.passed, plain.errors, plain.warnings)
    assert len(fast.errors) == 2 and len(fast.warnings) == 2
    (fast_json, fast_files), (plain_json, plain_files) = _report(fast_run.root), _report(tmp_path / "plain")
    assert fast_json == plain_json
    assert sorted(fast_files) == sorted(plain_files)
    pages = [name for name in plain_files if name.endswith(".html")]
    assert len(pages) == 2 * len(plain_json["suites"]) + 1  # a suite page and a result page each, and the index
    for name, content in plain_files.items():
        assert fast_files[name] == content, name
    failed = next(name for name in pages if "/validations/fact_issue/" in name)
    assert '<div class="show-scrollbars">done</div>' in plain_files[failed]  # the unexpected value is shown


def test_only_the_batch_fingerprint_is_left_out_and_the_threshold_is_put_back(fast_run, tmp_path, monkeypatch):
    fast = fast_run.result
    before, after = fast_run.thresholds
    assert after == before
    with monkeypatch.context() as plain_path:
        plain_path.setattr(gate_module, "_gx_fast_paths", contextlib.nullcontext)
        plain = run_gate(fast_run.database, tmp_path / "plain")

    assert (fast.passed, fast.errors, fast.warnings) == (plain.passed, plain.errors, plain.warnings)
    (fast_json, fast_files), (plain_json, plain_files) = _report(fast_run.root), _report(tmp_path / "plain")
    assert fast_json == plain_json
    result_pages = [name for name in plain_files if "/validations/" in name and name.endswith(".html")]
    assert result_pages and all("pandas_data_fingerprint" in plain_files[name] for name in result_pages)
    assert not any("pandas_data_fingerprint" in text for text in fast_files.values())


def _own_methods(root: type, names) -> dict:
    """Every (class, name) → function that `root` or one of its subclasses defines itself."""
    found, classes = {}, [root]
    while classes:
        kind = classes.pop()
        classes.extend(kind.__subclasses__())
        found.update(((kind, name), kind.__dict__[name]) for name in names if name in kind.__dict__)
    return found


def test_one_configuration_per_call_builds_it_once_per_call_and_is_put_back(tmp_path, monkeypatch):
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    built, domain_objects = [], []
    configuration = Expectation.__dict__["configuration"]
    counting = property(lambda self: built.append(type(self).__name__) or configuration.fget(self))
    monkeypatch.setattr(Expectation, "configuration", counting)
    to_domain_obj = ExpectationConfiguration.__dict__["to_domain_obj"]
    monkeypatch.setattr(ExpectationConfiguration, "to_domain_obj", lambda c: domain_objects.append(1) or to_domain_obj(c))
    counting_to_domain_obj = ExpectationConfiguration.__dict__["to_domain_obj"]
    methods = _own_methods(Expectation, gx_fast_paths._READS_CONFIGURATION + ("__setattr__",))
    assert len(methods) > len(gx_fast_paths._READS_CONFIGURATION)  # get_validation_dependencies of subclasses too

    plain = _validate(tmp_path / "plain", shortcut=False)
    plain_builds, plain_domain_objects = len(built), len(domain_objects)
    built.clear(), domain_objects.clear()
    with gx_fast_paths.one_configuration_per_call():
        pinned = _validate(tmp_path / "pinned", shortcut=False)
    assert Expectation.__dict__["configuration"] is counting
    assert ExpectationConfiguration.__dict__["to_domain_obj"] is counting_to_domain_obj
    assert _own_methods(Expectation, gx_fast_paths._READS_CONFIGURATION + ("__setattr__",)) == methods

    assert pinned == plain
    assert 0 < len(built) < plain_builds / 5, (len(built), plain_builds)
    assert 0 < len(domain_objects) < plain_domain_objects / 2, (len(domain_objects), plain_domain_objects)


def test_a_field_assigned_while_pinned_is_read_back(monkeypatch):
    """A method that changes the expectation while its configuration is pinned reads the new configuration (no
    GX method read-only by contract does today; the pin must not hide it if one ever does)."""
    from great_expectations.expectations.expectation import Expectation

    domain = Expectation.__dict__["_get_domain_kwargs"]

    def renaming_first(self):
        self.column = "renamed"
        return domain(self)

    monkeypatch.setattr(Expectation, "_get_domain_kwargs", renaming_first)
    expectation = gate_module._build_expectation(_suite().expectations[0], "t")
    with gx_fast_paths.one_configuration_per_call():
        kwargs = expectation._get_runtime_kwargs()
    assert kwargs["column"] == "renamed" and expectation.configuration.kwargs["column"] == "renamed"


def test_data_docs_templates_are_compiled_once_then_read_back(tmp_path, monkeypatch):
    import great_expectations

    compiled = []  # the file of each template compiled
    compile_ = jinja2.Environment.compile

    def recording(env, source, name=None, filename=None, *args, **kwargs):
        compiled.append(filename)
        return compile_(env, source, name, filename, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", recording)
    context, _ = gate_module._fresh_context(tmp_path / "report", ["t"])
    item = gate_module._Loaded(_suite(), "SELECT 1", frame=_frame())
    with gate_module._quiet_gx():
        gate_module._validate(context, item, gate_module.datetime(2026, 1, 1, tzinfo=gate_module.timezone.utc))
    site = tmp_path / "report" / "gx" / "uncommitted" / "data_docs" / "local_site"

    def pages() -> dict[str, str]:
        return {str(p.relative_to(site)): _RANDOM_ID.sub("<id>", _TIME.sub("<time>", p.read_text(encoding="utf-8")))
                for p in sorted(site.rglob("*.html"))}

    gate_module._build_docs(context)
    plain, plain_compiled = pages(), list(compiled)
    (tmp_path / "cache").mkdir()
    runs = []
    for cache in ("cache", "cache", "missing"):  # a cache that cannot be written: compiled as without it
        compiled.clear()
        with gx_fast_paths.compiled_templates_reused(directory=str(tmp_path / cache)):
            gate_module._build_docs(context)
        runs.append((pages(), list(compiled)))
    (first, first_compiled), (second, second_compiled), (missing, missing_compiled) = runs
    assert first == plain and second == plain and missing == plain and len(plain) == 3
    # GX's templates: the views of one build share what the first compiled, later builds compile none of them;
    # the project's custom styles (a file of the report folder) are compiled by each view, as without the cache
    package = str(Path(great_expectations.__file__).parent)
    ours = [name for name in plain_compiled if not name.startswith(package)]
    assert len(plain_compiled) > 10 and 0 < len(first_compiled) < len(plain_compiled)
    assert ours and sorted(second_compiled) == sorted(ours) and str(tmp_path / "report") in ours[0]
    assert sorted(missing_compiled) == sorted(plain_compiled)
    cached_templates = len({name for name in first_compiled if name.startswith(package)})
    assert len(list((tmp_path / "cache").iterdir())) == cached_templates
    from great_expectations.render.view.view import DefaultJinjaView

    assert DefaultJinjaView._get_template.__module__ == "great_expectations.render.view.view"  # put back


def test_metric_ids_are_gx_ids_for_every_kind_of_kwargs():
    """Kwargs equal in Python but not in JSON (1, 1.0, True; 0.0, -0.0; a list and a tuple) keep their own ids, and
    kwargs holding anything else are left to GX."""
    import numpy as np
    from great_expectations.core.id_dict import IDDict

    class Ignoring(IDDict):
        _id_ignore_keys = {"batch_id"}

    kwargs = [
        {}, {"column": "a"}, {"column": "a", "batch_id": "b"}, {"column": "a", "batch_id": "c"},
        {"value": 1, "other": None}, {"value": 1.0, "other": None}, {"value": True, "other": None},
        {"value": 0.0, "other": 1}, {"value": -0.0, "other": 1}, {"value": float("nan"), "other": 1},
        {"value_set": [1, "1", None], "x": 2}, {"value_set": (1, "1", None), "x": 2},
        {"result_format": {"result_format": "SUMMARY", "partial_unexpected_count": 5}, "mostly": 1},
        {"result_format": {"partial_unexpected_count": 5, "result_format": "SUMMARY"}, "mostly": 1},
        {"value": np.int64(3), "x": 1}, {"value": np.float64(3.0), "x": 1}, {"value": 3, "x": 1},
    ]
    dicts = [kind(k) for k in kwargs for kind in (IDDict, Ignoring)]
    plain = [d.to_id() for d in dicts]
    to_id = IDDict.__dict__["to_id"]
    with gx_fast_paths.metric_ids_remembered():
        assert IDDict.__dict__["to_id"] is not to_id
        remembered = [[d.to_id() for d in dicts] for _ in range(2)]  # computed, then looked up
        keyed = IDDict({"column": "a", "batch_id": "b"}).to_id(id_keys=["column"])
    assert IDDict.__dict__["to_id"] is to_id
    assert remembered == [plain, plain]
    assert keyed == IDDict({"column": "a", "batch_id": "b"}).to_id(id_keys=["column"])
    assert len(set(plain[:20:2])) == 10  # the plain values above have ten different ids
    assert gx_fast_paths._content_key({"value": np.int64(3)}) is None


def _validated_with(context_root: Path, frame, shortcut) -> tuple:
    """`_suite()` (a uniqueness check among others) validated on `frame` by the gate, within `shortcut`."""
    from datetime import datetime, timezone

    context, _ = gate_module._fresh_context(context_root, ["t"])
    item = gate_module._Loaded(_suite(), "SELECT 1", frame=frame)
    with gate_module._quiet_gx(), shortcut:
        return gate_module._validate(context, item, datetime(2026, 1, 1, tzinfo=timezone.utc))


@pytest.mark.parametrize("case", ["sorted", "sorted with a missing value", "not sorted"])
def test_unique_values_by_neighbours_gives_what_duplicated_gives(tmp_path, monkeypatch, case):
    frame = _frame()  # `code` is sorted, every value twice
    if case == "sorted with a missing value":
        frame.loc[7, "code"] = None  # GX leaves it out before the check: the rest is still sorted
    elif case == "not sorted":
        frame = frame.sample(frac=1, random_state=3).reset_index(drop=True)
    neighbours = []
    repeated_in_sorted = gx_fast_paths._repeated_in_sorted
    monkeypatch.setattr(gx_fast_paths, "_repeated_in_sorted", lambda column: neighbours.append(
        repeated_in_sorted(column)) or neighbours[-1])

    plain = _validated_with(tmp_path / "plain", frame, contextlib.nullcontext())
    fast = _validated_with(tmp_path / "fast", frame, gx_fast_paths.unique_values_by_neighbours())

    assert fast == plain
    result, payload = plain
    unique = next(e for e in payload["expectations"] if e["type"] == "expect_column_values_to_be_unique")
    rows_in_pairs = 198 if case == "sorted with a missing value" else 200
    assert unique["success"] is False and unique["unexpected_count"] == rows_in_pairs
    assert len(neighbours) == 1 and (neighbours[0] is None) == (case == "not sorted")  # read by neighbours when sorted
    from great_expectations.expectations.registry import _registered_metrics

    _, provider = _registered_metrics["column_values.unique.condition"]["providers"]["PandasExecutionEngine"]
    inner = provider.__wrapped__
    assert any(cell.cell_contents is inner.__wrapped__ for cell in inner.__closure__)  # GX's own function, put back


@pytest.mark.parametrize("column", [
    pd.Series(["a", "a", "b", "c", "c", "c"], dtype="str"),  # the gate's keys: Arrow-backed text
    pd.Series(["a", "a\x00", "b", "é", "é"], dtype="str"),
    pd.Series([-5, 1, 2, 2, 2**62], dtype="int64"),
    pd.Series([float("-inf"), -0.0, 0.0, 1.5, 1.5, float("inf")]),
    pd.Series([False, False, True]),
    pd.Series(pd.to_datetime(["2024-01-01", "2024-01-01 00:00:00.000000001", "2024-01-02", "2024-01-02"],
                             format="ISO8601")),  # a nanosecond apart: not the same
    pd.Series([1, 2, 2], dtype="Int64", index=[10, 20, 40], name="code"),
], ids=["str", "str-nul-accent", "int", "float", "bool", "datetime", "nullable-int"])
def test_repeated_in_sorted_marks_what_duplicated_marks(column):
    repeated = gx_fast_paths._repeated_in_sorted(column)
    assert repeated is not None
    pd.testing.assert_series_equal(repeated, column.duplicated(keep=False))


@pytest.mark.parametrize("column", [
    pd.Series([date(2020, 1, 1), datetime(2020, 1, 1)], dtype=object),  # equal once Arrow makes both dates
    pd.Series(["a", "b"], dtype=object),
    pd.Series(["b", "a"], dtype="str"),  # not sorted
    pd.Series(["a", None, "a"], dtype="str"),  # a missing value
    pd.Series(["a"], dtype="str"),
], ids=["object-date-datetime", "object-str", "not-sorted", "missing", "one-row"])
def test_repeated_in_sorted_leaves_other_columns_to_duplicated(column):
    assert gx_fast_paths._repeated_in_sorted(column) is None
