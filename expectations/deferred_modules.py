"""Modules that Great Expectations imports at start-up for expectations the gate's suites never use, loaded only
if something reads them.

GX's `expect_column_kl_divergence_to_be_less_than` imports altair (charts) and scipy.stats, and two of its
distribution metrics import scipy.stats, at module level; importing GX imports every core expectation, so every
process that imports GX paid for both (~640 modules, ~1 s of a ~4-6 s import) although suites.yaml uses none of
them. `deferred(name)` puts a stand-in module under `name` in `sys.modules`: `import altair` or
`from scipy import stats` then binds the stand-in, and the first attribute read from it (`stats.entropy`,
`alt.Chart`) imports the real module, which takes its place in `sys.modules`, and is answered from it. So an
expectation or metric that does use them still works, it only imports them when it runs.

`importlib.util.LazyLoader` does not do this on Python 3.11: the import system reads `__spec__` of a module already
in `sys.modules`, and LazyLoader loads a module on any attribute read, so a second `import` of it loads it.
"""

import importlib
import importlib.util
import sys
import threading
import types

# Imported by GX at module level, used only by expectations and metrics none of expectations/suites.yaml's
# expectations depend on (KL divergence, Kolmogorov-Smirnov tests; charts of the KL divergence renderer).
UNUSED_BY_THE_GATE = ("scipy.stats", "altair")

_loading = threading.Lock()


class DeferredModule(types.ModuleType):
    """Stands for module `__name__` until an attribute is read from it; then imports the real module and answers
    from it. Its own attributes are its spec's (`__spec__`, `__file__`, `__loader__`, `__package__`: what
    `inspect.getmodule` and the import system read without meaning to use the module); it has no `__path__`, so
    importing a submodule through it imports the real module first."""

    def __getattr__(self, attribute: str):
        with _loading:
            real = sys.modules.get(self.__name__)
            if real is self or real is None:
                sys.modules.pop(self.__name__, None)
                try:
                    real = importlib.import_module(self.__name__)
                except BaseException:
                    sys.modules[self.__name__] = self  # stays deferred; the next read tries again
                    raise
        return getattr(real, attribute)


def deferred(*names: str) -> list[str]:
    """Put a DeferredModule under each of `names` that is not imported yet and is installed; return those names.

    The module's spec is looked up (which imports its parent package, e.g. scipy itself) so that a missing module
    stays missing: `import` of it still raises ImportError."""
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
        done.append(name)
    return done
