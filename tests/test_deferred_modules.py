"""expectations/deferred_modules.py: a deferred module is imported on the first attribute read, never before, and
behaves as the real one from then on; Great Expectations imported by the gate leaves scipy.stats and altair out
until they are used."""

import importlib
import subprocess
import sys
import textwrap
import threading

import pytest

from expectations.deferred_modules import DeferredModule, deferred

PACKAGE = "zhenggai_deferred_probe"


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A package that counts its own executions (in a module-level list of the test) and has a submodule."""
    package = tmp_path / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("import builtins\nbuiltins._probe_runs.append(1)\nVALUE = 42\n")
    (package / "sub.py").write_text("NAME = 'sub'\n")
    import builtins

    monkeypatch.setattr(builtins, "_probe_runs", [], raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield builtins._probe_runs
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def test_a_deferred_module_runs_on_the_first_attribute_read_and_is_then_the_real_one(probe):
    assert deferred(PACKAGE) == [PACKAGE]
    import zhenggai_deferred_probe as stand_in  # noqa: E402 - the import under test

    assert isinstance(stand_in, DeferredModule) and probe == []
    assert stand_in.__spec__.name == PACKAGE and stand_in.__file__.endswith("__init__.py") and probe == []
    assert stand_in.VALUE == 42 and probe == [1]
    real = sys.modules[PACKAGE]
    assert not isinstance(real, DeferredModule) and real.VALUE == 42
    assert stand_in.VALUE == 42 and probe == [1]  # answered from the real module, not run again
    from zhenggai_deferred_probe import VALUE

    assert VALUE == 42 and probe == [1]


def test_importing_a_submodule_through_a_deferred_module_imports_the_real_one_first(probe):
    deferred(PACKAGE)
    sub = importlib.import_module(PACKAGE + ".sub")
    assert sub.NAME == "sub" and probe == [1]
    assert not isinstance(sys.modules[PACKAGE], DeferredModule)


def test_a_missing_or_imported_module_is_left_as_it_is(probe):
    assert deferred("zhenggai_no_such_module", "json") == []
    assert "zhenggai_no_such_module" not in sys.modules and not isinstance(sys.modules["json"], DeferredModule)
    with pytest.raises(ImportError):
        importlib.import_module("zhenggai_no_such_module")


def test_a_failing_import_leaves_the_module_deferred_for_the_next_read(probe, tmp_path):
    (tmp_path / PACKAGE / "__init__.py").write_text("raise RuntimeError('not now')\n")
    deferred(PACKAGE)
    stand_in = sys.modules[PACKAGE]
    with pytest.raises(RuntimeError, match="not now"):
        stand_in.VALUE
    assert sys.modules[PACKAGE] is stand_in
    (tmp_path / PACKAGE / "__init__.py").write_text("VALUE = 7\n")
    assert stand_in.VALUE == 7


def test_the_gate_imports_great_expectations_without_scipy_stats_and_altair_until_used():
    """In a fresh interpreter (this one may have imported them already): neither is run by the import, and GX's
    KL divergence expectation, which uses both, still reaches them."""
    script = textwrap.dedent("""
        import sys
        from expectations import gate
        gate.import_great_expectations()
        loaded = [name for name in ("scipy.stats._stats_py", "altair.vegalite") if name in sys.modules]
        assert not loaded, loaded
        from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
        assert round(float(kl.stats.entropy([0.5, 0.5], [0.9, 0.1])), 4) == 0.5108
        assert kl.alt.Chart.__name__ == "Chart"
        assert "scipy.stats._stats_py" in sys.modules and "altair.vegalite" in sys.modules
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_deferred_module_whose_import_reads_another_deferred_module(tmp_path, monkeypatch):
    """Loading one stand-in's module may read another stand-in (same thread): no deadlock, both load."""
    names = ("zhenggai_deferred_outer", "zhenggai_deferred_inner")
    (tmp_path / f"{names[1]}.py").write_text("VALUE = 3\n")
    (tmp_path / f"{names[0]}.py").write_text(f"import {names[1]} as inner\nVALUE = inner.VALUE * 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert deferred(*names) == list(names)
        read: list[int] = []
        loader = threading.Thread(target=lambda: read.append(sys.modules[names[0]].VALUE), daemon=True)
        loader.start()
        loader.join(timeout=30)
        assert not loader.is_alive(), "the nested load deadlocked"
        assert read == [6]
        assert not any(isinstance(sys.modules[name], DeferredModule) for name in names)
    finally:
        for name in names:
            sys.modules.pop(name, None)


def test_a_deferred_submodule_is_also_its_parent_packages_attribute(probe):
    assert deferred(PACKAGE + ".sub") == [PACKAGE + ".sub"]
    import zhenggai_deferred_probe as package  # noqa: E402 - imported by the lookup of the submodule's spec

    assert isinstance(package.sub, DeferredModule) and package.sub.NAME == "sub"
    real = sys.modules[PACKAGE + ".sub"]
    assert not isinstance(real, DeferredModule) and package.sub is real  # the import system set the real one


def test_a_loaded_stand_in_keeps_answering_from_its_real_module(probe):
    deferred(PACKAGE)
    stand_in = sys.modules[PACKAGE]
    assert stand_in.VALUE == 42 and probe == [1]
    del sys.modules[PACKAGE]  # (e.g. a test's clean-up): no second copy is imported
    assert stand_in.VALUE == 42 and probe == [1]
