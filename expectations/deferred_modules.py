"""Modules that Great Expectations imports at start-up for expectations the gate's suites never use, loaded only
if something reads them.

GX's `expect_column_kl_divergence_to_be_less_than` imports altair (charts) and scipy.stats, and two of its
distribution metrics import scipy.stats, at module level; importing GX imports every core expectation, so every
process that imports GX paid for both (~640 modules) although suites.yaml uses none of them. Deferred, importing the
gate and GX took 2.57 s instead of 3.44 s (medians of 5 interleaved runs). `deferred(name)` puts a stand-in module
under `name` in `sys.modules` (and on its parent package): `import altair` or `from scipy import stats` then binds
the stand-in, and the first attribute read from it (`stats.entropy`, `alt.Chart`) imports the real module, which
takes its place in `sys.modules`, and is answered from it. So an expectation or metric that does use them still
works, it only imports them when it runs.

`importlib.util.LazyLoader` does not do this on Python 3.11: the import system reads `__spec__` of a module already
in `sys.modules`, and LazyLoader loads a module on any attribute read, so a second `import` of it loads it.

One thing a stand-in does not do as the real module would: `import altair.vegalite` (a submodule, by the import
statement) while `altair` is still a stand-in imports the real `altair` first, and then the import system, which
looked for `altair.vegalite` in `sys.modules` before that, runs `altair/vegalite` a second time if the package's
own `__init__` had imported it (two copies of its classes). So the stand-ins are for modules that the deferring
process only reaches through attributes: GX reaches scipy.stats and altair so (tests/test_deferred_modules.py checks
that importing GX leaves both unloaded), and the gate's processes run nothing else that imports them.
"""

import importlib
import importlib.util
import sys
import threading
import types

# Imported by GX at module level, used only by expectations and metrics none of expectations/suites.yaml's
# expectations depend on (KL divergence, Kolmogorov-Smirnov tests; charts of the KL divergence renderer).
# (SQLAlchemy, for GX's SQL data sources, cannot be deferred so: GX imports its submodules by name. The gate's own
# process marks it absent instead: expectations/gate_process.py _gx_without_its_sql_extra.)
UNUSED_BY_THE_GATE = ("scipy.stats", "altair")

# Re-entrant: importing one deferred module may read another. Held while a real module is imported (so that two
# threads do not both replace the stand-in); a thread that holds an import lock and then reads a stand-in another
# thread is loading could wait on it forever, which is why only modules no other thread imports are deferred.
_loading = threading.RLock()
_REAL = "_deferred_module_real"  # where a stand-in keeps its real module once loaded


class DeferredModule(types.ModuleType):
    """Stands for module `__name__` until an attribute is read from it; then imports the real module and answers
    from it. Its own attributes are its spec's (`__spec__`, `__file__`, `__loader__`, `__package__`: what
    `inspect.getmodule` and the import system read without meaning to use the module); it has no `__path__`, so
    importing a submodule through it imports the real module first (see the module's docstring)."""

    def __getattr__(self, attribute: str):
        real = self.__dict__.get(_REAL)
        if real is None:
            real = _load(self)
        return getattr(real, attribute)


def _load(stand_in: DeferredModule) -> types.ModuleType:
    with _loading:
        real = stand_in.__dict__.get(_REAL)
        if real is not None:
            return real
        name = stand_in.__name__
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        try:
            real = importlib.import_module(name)
        except BaseException:
            sys.modules.setdefault(name, stand_in)  # stays deferred; the next read tries again
            raise
        stand_in.__dict__[_REAL] = real
        return real


def deferred(*names: str) -> list[str]:
    """Put a DeferredModule under each of `names` that is not imported yet and is installed; return those names.

    The module's spec is looked up (which imports its parent package, e.g. scipy itself) so that a missing module
    stays missing: `import` of it still raises ImportError. A submodule's stand-in is also set on its parent package,
    as the import system does for a module it imports."""
    done = []
    for name in names:
        if name in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        module = DeferredModule(name)
        module.__spec__, module.__loader__, module.__package__ = spec, spec.loader, spec.parent
        module.__file__ = spec.origin
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent and parent in sys.modules:
            setattr(sys.modules[parent], child, module)
        done.append(name)
    return done
