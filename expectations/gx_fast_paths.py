"""Shortcuts through Great Expectations' fixed per-expectation and per-page costs, applied only while the gate runs.

At 10,000 notices a delta gate validates ~160 expectations over two dozen small frames, and most of its time is GX's
own bookkeeping, not computing the checks. Each shortcut here removes work whose result GX throws away or already
has, or computes a result GX needs in a cheaper way where the data allows (`unique_values_by_neighbours`), so the gate's
results, GX's stored results and the Data Docs pages are those of the plain path
(tests/test_gx_fast_paths.py compares them with GX's own, unpatched, output on failing data). One shortcut,
`data_fingerprints_skipped`, leaves out an optional batch marker that GX itself leaves out for large frames: with it,
the pages and stored results are those GX writes when it skips that marker.

Each is a context manager that patches one GX (or Jinja) internal and puts it back on exit, as
`expectations.gate._first_unexpected_rows_only` does. They patch classes (and one function GX registered), so they are
for the gate's own process (or a test), where nothing else runs GX at the same time.
"""

import contextlib
import functools
import threading
from collections.abc import Iterator

# Expectation methods that read `self.configuration` (often once per kwarg) and never change the expectation (nor do
# the methods they call: _validate, _build_evr): within one call of the outermost of them, every read gets the same
# configuration, built once on entry. get_validation_dependencies is wrapped on every Expectation class defining it.
_READS_CONFIGURATION = (
    "_get_success_kwarg", "_get_domain_kwargs", "_get_success_kwargs", "_get_runtime_kwargs", "_get_result_format",
    "metrics_validate", "get_validation_dependencies",
)


@contextlib.contextmanager
def applied() -> Iterator[None]:
    """Every shortcut of this module."""
    with one_configuration_per_call(), metric_ids_remembered(), compiled_templates_reused(), \
            data_fingerprints_skipped(), unique_values_by_neighbours():
        yield


@contextlib.contextmanager
def unique_values_by_neighbours() -> Iterator[None]:
    """GX finds the values that `expect_column_values_to_be_unique` rejects with pandas' `duplicated(keep=False)`, a
    hash of every value: ~1.1 s for fact_indicator's 1.6 M keys at 10,000 notices, the full gate's costliest check. The
    gate sorts each frame by its key (expectations/gate.py `_to_pandas`), the column most of these checks read, and in
    a sorted column without missing values a value occurs twice exactly when a neighbour equals it: one vectorised
    comparison of each value with the next (~0.04 s there). Only for columns whose values Arrow holds as pandas does
    (`_repeated_in_sorted`); any other column, or one not sorted or with a missing value, is left to `duplicated`.
    Where it answers, the mask is `duplicated`'s, so every result is GX's own.

    Left out (GX's own path, the same results) if GX no longer holds the metric's function where this looks for it:
    tests/test_gx_fast_paths.py then fails, as it checks that the shortcut is taken."""
    from great_expectations.expectations.registry import _registered_metrics

    _, provider = _registered_metrics["column_values.unique.condition"]["providers"]["PandasExecutionEngine"]
    # GX registered the metric's own function (ColumnValuesUnique._pandas) wrapped twice (metric_partial around
    # column_condition_partial's inner function, which holds it in its closure and calls it with the column)
    inner = getattr(provider, "__wrapped__", None)
    metric_function = getattr(inner, "__wrapped__", None)
    cells = [cell for cell in getattr(inner, "__closure__", None) or () if cell.cell_contents is metric_function]
    if metric_function is None or len(cells) != 1:
        yield
        return
    (cell,) = cells

    def by_neighbours(cls, column, **kwargs):
        repeated = _repeated_in_sorted(column)
        return metric_function(cls, column, **kwargs) if repeated is None else ~repeated

    cell.cell_contents = by_neighbours
    try:
        yield
    finally:
        cell.cell_contents = metric_function


def _repeated_in_sorted(column):
    """For a pandas Series sorted in ascending order with no missing value: whether each value equals its previous or
    next one (a boolean Series like `duplicated`'s); None for any other column.

    Not for object columns: Arrow infers one type for their Python values and may then hold equal what Python tells
    apart (a date and a datetime of the same day, Timestamps a nanosecond apart). Arrow-backed text (pandas' `str`,
    the gate's keys), numbers, booleans and datetimes keep their values."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.dtype == object or len(column) < 2:
        return None
    try:
        values = pa.chunked_array([pa.array(column, from_pandas=True)]).combine_chunks()
        if values.null_count:
            return None
        after, before = values[1:], values[:-1]
        if pc.any(pc.less(after, before)).as_py():
            return None  # not sorted
        same = pc.equal(after, before).to_numpy(zero_copy_only=False)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    repeated = np.zeros(len(values), dtype=bool)
    repeated[1:] |= same
    repeated[:-1] |= same
    return pd.Series(repeated, index=column.index, name=column.name)


@contextlib.contextmanager
def data_fingerprints_skipped() -> Iterator[None]:
    """GX's pandas engine fingerprints every batch it is given: pandas hashes every value of the frame (each
    Arrow-backed text column converted to Python strings first) and the hashes are digested into the batch marker
    `pandas_data_fingerprint`, which GX stores with the results and shows on the result pages. GX skips it for frames
    of 1 GB or more (`HASH_THRESHOLD`); here it is skipped for every frame. It decided nothing: the verdict, the
    gate's report and every expectation's result are the same, and the data a gate validated is identified by its
    staged file's build record (refresh_build). Measured on the full gate at 10,000 notices (one process, runs
    interleaved): ~3 s of a ~15 s gate, the frame hashes of fact_indicator, fact_measure and the marts."""
    from great_expectations.execution_engine import pandas_execution_engine as engine

    threshold = engine.HASH_THRESHOLD
    engine.HASH_THRESHOLD = 0  # `frame bytes < 0` never holds
    try:
        yield
    finally:
        engine.HASH_THRESHOLD = threshold


@contextlib.contextmanager
def one_configuration_per_call() -> Iterator[None]:
    """`Expectation.configuration` is a property that rebuilds an ExpectationConfiguration from the pydantic model
    (`.dict()`, then `camel_to_snake` of the class name) on every access, and GX reads it once per kwarg it looks up;
    `get_validation_dependencies` then hands it to `get_metric_kwargs` once per metric, which builds an Expectation
    from it again (`to_domain_obj`, a pydantic validation) only to read its kwargs: ~19,000 configurations and
    ~3,500 expectations built for ~160 expectations in a delta gate, a quarter of its CPU time.

    Here, while an expectation is inside one of the _READS_CONFIGURATION methods, its configuration is built once,
    on entry, and that object is what every read returns until the method returns; the expectation built from that
    configuration object (`to_domain_obj`) is built once too. Outside them each read builds a new one, as before.
    Assigning a field of the expectation meanwhile drops the pinned configuration (the next read builds the new
    one). Pins are per thread."""
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    configuration = Expectation.__dict__["configuration"]
    build = configuration.fget
    methods = {}  # (class, name) → the class's own method
    classes, seen = [Expectation], set()
    while classes:  # Expectation and every subclass imported so far (a later one reads as before)
        kind = classes.pop()
        if kind not in seen:
            seen.add(kind)
            classes.extend(kind.__subclasses__())
            methods.update(((kind, name), kind.__dict__[name]) for name in _READS_CONFIGURATION if name in kind.__dict__)
    own_setattr = Expectation.__dict__.get("__setattr__")
    setattr_ = Expectation.__setattr__
    to_domain_obj = ExpectationConfiguration.__dict__["to_domain_obj"]
    local = threading.local()

    def pins() -> dict:
        """id of a pinned expectation → [its configuration, the expectation built from that configuration or None];
        id of a pinned configuration → the same list."""
        try:
            return local.pins
        except AttributeError:
            local.pins = {}
            return local.pins

    def pin(table: dict, expectation) -> None:
        unpin(table, expectation)
        entry = [build(expectation), None]
        table[id(expectation)] = table[id(entry[0])] = entry

    def unpin(table: dict, expectation) -> None:
        entry = table.pop(id(expectation), None)
        if entry is not None:
            table.pop(id(entry[0]), None)

    def pinned_configuration(self):
        entry = pins().get(id(self))
        return build(self) if entry is None else entry[0]

    def pinning(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            table = pins()
            if id(self) in table:  # an outer call has pinned it
                return method(self, *args, **kwargs)
            pin(table, self)
            try:
                return method(self, *args, **kwargs)
            finally:
                unpin(table, self)

        return wrapper

    def unpinning_setattr(self, name, value):
        setattr_(self, name, value)
        table = pins()
        if id(self) in table:
            pin(table, self)

    @functools.wraps(to_domain_obj)
    def domain_object_once(self):
        entry = pins().get(id(self))
        if entry is None or entry[0] is not self:
            return to_domain_obj(self)
        if entry[1] is None:
            entry[1] = to_domain_obj(self)
        return entry[1]

    Expectation.configuration = property(pinned_configuration, doc=configuration.__doc__)
    Expectation.__setattr__ = unpinning_setattr
    ExpectationConfiguration.to_domain_obj = domain_object_once
    for (kind, name), method in methods.items():
        setattr(kind, name, pinning(method))
    try:
        yield
    finally:
        for (kind, name), method in methods.items():
            setattr(kind, name, method)
        ExpectationConfiguration.to_domain_obj = to_domain_obj
        if own_setattr is None:
            del Expectation.__setattr__
        else:
            Expectation.__setattr__ = own_setattr
        Expectation.configuration = configuration


_PLAIN = (str, int, float, bool, type(None))


def _content_key(value):
    """A hashable key equal only for values of the same content and exact types (so 1, 1.0 and True, or 0.0 and
    -0.0, differ), or None if `value` holds anything but dicts, lists, tuples, str, int, float, bool and None."""
    kind = type(value)
    if kind is float:
        return kind, repr(value)
    if kind in _PLAIN:
        return kind, value
    if kind is dict:
        items = []
        for name, item in value.items():
            name_key, item_key = _content_key(name), _content_key(item)
            if name_key is None or item_key is None:
                return None
            items.append((name_key, item_key))
        return kind, tuple(items)
    if kind is list or kind is tuple:
        items = tuple(_content_key(item) for item in value)
        return None if None in items else (kind, items)
    return None


@contextlib.contextmanager
def metric_ids_remembered() -> Iterator[None]:
    """GX names every metric it configures by the ids of its domain and value kwargs (`IDDict.to_id`: the kwargs made
    JSON-serialisable value by value, dumped and hashed), ~16,000 times in a delta gate for a few hundred distinct
    kwargs. Here the id of kwargs made only of plain values (dicts, lists, tuples, str, int, float, bool, None) is
    computed once per content and type and then looked up; any other kwargs are computed by GX as before."""
    from great_expectations.core.id_dict import IDDict

    to_id = IDDict.__dict__["to_id"]
    known: dict = {}

    @functools.wraps(to_id)
    def remembered(self, id_keys=None, id_ignore_keys=None):
        if id_keys is not None or id_ignore_keys is not None:
            return to_id(self, id_keys, id_ignore_keys)
        key = _content_key(dict(self))
        if key is None:
            return to_id(self)
        key = (type(self), key)
        try:
            return known[key]
        except KeyError:
            known[key] = result = to_id(self)
            return result

    IDDict.to_id = remembered
    try:
        yield
    finally:
        IDDict.to_id = to_id


@contextlib.contextmanager
def compiled_templates_reused(directory: str | None = None) -> Iterator[None]:
    """GX's Data Docs views each make a new Jinja environment, which compiles every template it renders: ~56
    compilations per build, a third of the Data Docs' CPU time, repeated in every gate process.

    Here each environment gets Jinja's own bytecode cache on disk (FileSystemBytecodeCache, in `directory` or by
    default the per-user directory Jinja creates under the temp folder): a template is compiled once and later
    loads read the compiled code back. Jinja keys it by the template's name and checks its source (a changed
    template is compiled again), so the pages are those the compiled templates render. The environments also stop
    checking, at each use of a template, whether its file changed (GX's own templates, which do not change while a
    gate runs). Templates from outside GX's package (the project's custom styles, a path per report folder) are not
    kept. Without a usable cache directory (or cache file) the views compile as before."""
    import os

    import great_expectations
    from great_expectations.render.view.view import DefaultJinjaView
    from jinja2 import FileSystemBytecodeCache
    from jinja2.bccache import Bucket

    package = os.path.dirname(great_expectations.__file__) + os.sep

    class BestEffortCache(FileSystemBytecodeCache):
        """GX's own templates only (those of a project's plugins folder, one per report folder, are compiled as
        before); a cache file that cannot be read or written is a template compiled as without the cache."""

        def get_bucket(self, environment, name, filename, source):
            if filename is not None and filename.startswith(package):
                return super().get_bucket(environment, name, filename, source)
            bucket = Bucket(environment, self.get_cache_key(name, filename), self.get_source_checksum(source))
            bucket.not_kept = True
            return bucket

        def set_bucket(self, bucket) -> None:
            if not getattr(bucket, "not_kept", False):
                super().set_bucket(bucket)

        def load_bytecode(self, bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except OSError:
                bucket.reset()

        def dump_bytecode(self, bucket) -> None:
            with contextlib.suppress(OSError):
                super().dump_bytecode(bucket)

    try:
        cache = BestEffortCache(directory, pattern="__zhenggai_gx_%s.cache")
    except (OSError, RuntimeError):  # no private temp directory: nothing to reuse
        yield
        return
    get_template = DefaultJinjaView.__dict__["_get_template"]

    # not by wrapping __init__: GX passes a view the arguments its __init__'s signature names (getfullargspec)
    @functools.wraps(get_template)
    def get_template_cached(self, *args, **kwargs):
        if self.env.bytecode_cache is None:
            self.env.bytecode_cache = cache
            self.env.auto_reload = False  # no stat of the template file at each of its ~100 uses per page
        return get_template(self, *args, **kwargs)

    DefaultJinjaView._get_template = get_template_cached
    try:
        yield
    finally:
        DefaultJinjaView._get_template = get_template
