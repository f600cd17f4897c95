"""The parse cache: the star rows of every parsed notice, batch by batch, keyed by content and parser version.

Parsing is the expensive step of a refresh; a notice whose bytes did not change gives the same rows as long
as the parser did not change either. The parse writes the rows of each batch of notices (the tables of
transforms.star.NOTICE_TABLES and SHARED_DIMENSIONS) as Parquet files in a folder of its own,
`<warehouse>.parse-cache/<parser version>/<batch>/<table>.parquet`, from the process that parsed the batch;
the staging file is then loaded from those files by DuckDB (warehouse.store.create_staging), so no process
holds the rows of the whole corpus. A later refresh parses only the notices that no batch folder holds and
loads the others' rows from their folders.

The parser version is a digest of every file of the `transforms` package (code and reference data) and of
the parsing libraries' versions, so editing a rule or upgrading OpenCC reparses everything. The cache is only
an accelerator: deleting it costs one full parse, never data, and whatever it holds goes through the same
gate as a fresh parse.
"""

import hashlib
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

import transforms
from transforms import pipeline
from transforms.indicators import figure_reader
from transforms.ingest import LOADED_SCHEMA, QUARANTINE_SCHEMA, expand_rejections, plan_staging
from transforms.pipeline import stage_star_notices, star_notices
from transforms.star import NOTICE_TABLES, SHARED_DIMENSIONS, notice_key
from landing.file_bytes import with_bytes
from warehouse.build import COMPILED_READER_FILES, PARSER_LIBRARIES, files_digest
from warehouse.store import StarRows

_PARSER_FILES = ("*.py", "*.csv", "*.yaml", *COMPILED_READER_FILES)
# The table whose rows say which notices a batch folder holds (one row per notice, with its staged text).
_NOTICES = "raw_notice"
STAR_TABLES = (*NOTICE_TABLES, *SHARED_DIMENSIONS)


@cache
def parser_version() -> str:
    """16 hex digits over every code and reference file of the transforms package (the compiled figure reader's
    sources too), the versions of the libraries the parser relies on (OpenCC, cn2an, the cpca division table,
    Polars, ...) and the figure reader that runs: the compiled and the Python one give the same rows, but a batch
    of the parse cache says which one read it."""
    files = files_digest((transforms,), _PARSER_FILES, PARSER_LIBRARIES)
    return hashlib.sha256(f"{files}\0{figure_reader()}".encode()).hexdigest()[:16]


def cache_dir(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.name}.parse-cache")


def version_dir(warehouse: Path) -> Path:
    """The folder of the batches written by the current parser version."""
    return cache_dir(warehouse) / parser_version()


@dataclass(frozen=True)
class BatchWriter:
    """A sink for transforms.pipeline.star_notices: writes a batch's star rows to a new batch folder of
    `root` and returns (folder name, quarantine rows). The folder appears complete or not at all."""

    root: Path

    def __call__(self, tables: dict[str, pl.DataFrame], failures: pl.DataFrame) -> tuple[str | None, pl.DataFrame]:
        notices = tables[_NOTICES]
        if notices.is_empty():
            return None, failures
        name = hashlib.sha256("\n".join(sorted(notices["content_sha256"])).encode()).hexdigest()[:16]
        final = self.root / name
        building = self.root / f".{name}.{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        for table in STAR_TABLES:
            tables[table].write_parquet(building / f"{table}.parquet")
        if final.exists():  # the same notices written by an earlier refresh whose cache was not pruned
            shutil.rmtree(final)
        building.rename(final)
        return name, failures


def cached_notices(warehouse: Path) -> pl.DataFrame:
    """(content_sha256, batch) of every notice whose star rows the cache holds for the current parser version."""
    return _batch_notices(warehouse).unique("content_sha256", keep="first", maintain_order=True)


def _batch_notices(warehouse: Path) -> pl.DataFrame:
    """(content_sha256, batch, source_name: the name it was staged under) of every notice of every readable
    batch folder (a notice may be in two)."""
    root = version_dir(warehouse)
    folders = [folder for folder in sorted(root.iterdir()) if not folder.name.startswith(".")] if root.is_dir() else []
    try:
        # one read of every batch's index, on Polars' threads: ~0.01 s at 10,000 notices against ~0.04 s a file at a
        # time, read twice by every refresh (plan_parse, then _keep_batches)
        files = {str(folder / f"{_NOTICES}.parquet"): folder.name for folder in folders}
        every = pl.scan_parquet(list(files), include_file_paths="path").select(
            "content_sha256", pl.col("path").replace_strict(files, return_dtype=pl.String).alias("batch"), "source_name",
        ).collect() if folders else None
    except (OSError, pl.exceptions.PolarsError):
        every = None  # a batch that cannot be read: found below, file by file
    if every is not None:
        return every
    rows = []
    for folder in folders:
        try:
            shas = pl.read_parquet(folder / f"{_NOTICES}.parquet", columns=["content_sha256", "source_name"])
        except (OSError, pl.exceptions.PolarsError):
            continue  # an unreadable batch is parsed again
        rows.append(shas.select("content_sha256", pl.lit(folder.name).alias("batch"), "source_name"))
    if not rows:
        return pl.DataFrame(schema={"content_sha256": pl.String, "batch": pl.String, "source_name": pl.String})
    return pl.concat(rows)


# Small batches (under half a batch of wanted notices) reused side by side before they are parsed again as one.
MAX_SMALL_BATCHES = 4


def reusable_batches(batch_notices: pl.DataFrame, wanted: pl.DataFrame, batch_size: int, max_small: int) -> list[str]:
    """The batches whose rows a refresh loading `wanted` (content_sha256) reuses; the others' notices are
    parsed again, into full batches.

    Nightly refreshes would otherwise pile up batches: each night's few changed notices make a small batch,
    and every edit leaves its old version in a batch that is still used for its other notices. A batch is
    reused while at least half of its notices are wanted, and small batches (under half of `batch_size`
    wanted notices) while there are at most `max_small` of them: beyond, they are all parsed again together.
    So the cache keeps about one folder per `batch_size` notices plus a few, and what this parses again is
    at most `max_small + 1` small batches, once every few nights.
    """
    counts = batch_notices.group_by("batch").agg(
        pl.len().alias("notices"), pl.col("content_sha256").is_in(wanted["content_sha256"].implode()).sum().alias("wanted")
    ).filter(pl.col("wanted") * 2 >= pl.col("notices"))
    small = counts.filter(pl.col("wanted") * 2 < batch_size)
    if small.height > max_small:
        counts = counts.join(small, on="batch", how="anti")
    return sorted(counts["batch"].to_list())


def prune(warehouse: Path, keep: list[str]) -> None:
    """Remove the batch folders not in `keep` and every other parser version's folder."""
    root = cache_dir(warehouse)
    current = version_dir(warehouse)
    for version in root.iterdir() if root.is_dir() else []:
        if version != current:
            shutil.rmtree(version, ignore_errors=True)
    for folder in current.iterdir() if current.is_dir() else []:
        if folder.name not in keep and not _being_written(folder):
            shutil.rmtree(folder, ignore_errors=True)


# A batch folder being written (BatchWriter's `.<name>.<pid>`) is left alone by prune for this long: with the parse
# fanned out over steps that run without the refresh lock, another run's chunk may be writing it now. Older ones
# are what a crashed parse left.
BUILDING_KEPT_SECONDS = 3600


def _being_written(folder: Path) -> bool:
    if not folder.name.startswith("."):
        return False
    try:
        return time.time() - folder.stat().st_mtime < BUILDING_KEPT_SECONDS
    except OSError:
        return False


@dataclass(frozen=True)
class ParsedBatches:
    """What the parse hands to the load: the batch folders holding the rows of the notices to load, and the
    quarantine rows of the notices it could not parse."""

    folder: Path  # version_dir of the warehouse
    batches: tuple[str, ...]
    failures: pl.DataFrame
    parsed: int  # notices parsed by this refresh, failures included
    reused: int  # notices whose rows come from batches of earlier refreshes
    # stage_into_cache and finish_parse only: the notices to load (transforms.ingest LOADED_SCHEMA, parse failures
    # included) and the quarantine rows of the files that staging rejected (cannot decode, not a notice; no bytes)
    loaded: pl.DataFrame | None = None
    rejected: pl.DataFrame | None = None

    def star_rows(self, notices: pl.DataFrame) -> StarRows:
        """The rows of `notices` (content_sha256, source_name) in the batch folders, for create_staging."""
        return StarRows([self.folder / batch for batch in self.batches], notices.select(notice_key().alias("notice_key"), "source_name"))

    def figures(self) -> dict[str, int | str]:
        """What the parse did, as the parse asset's run metadata (the command line's summary reads it)."""
        loaded = self.parsed if self.loaded is None else self.loaded.height  # (parse_into_cache: no `loaded`)
        return {"parse_failures": self.failures.height, "notices_parsed": loaded - self.failures.height,
                "rejected_by_staging": 0 if self.rejected is None else self.rejected.height,
                "parsed": self.parsed, "reused_from_cache": self.reused, "batches": len(self.batches),
                "parser_version": parser_version()}


class ParseCacheChanged(RuntimeError):
    """The parse cache lost batches this parse relies on before it was finished (another refresh pruned them)."""


def parse_into_cache(warehouse: Path, notices: pl.DataFrame, workers: int | None = None) -> ParsedBatches:
    """Star rows of every notice of `notices` in the cache: the notices no reusable batch holds
    (reusable_batches) are parsed (on every core, a batch at a time, each batch written by the process that
    parsed it); the batches not used are removed.

    For notices already staged: a refresh stages in the parse workers (`stage_into_cache`); the tests use this
    staging-first path as the reference `stage_into_cache` must agree with."""
    before = _batch_notices(warehouse)
    reused = reusable_batches(before, notices, pipeline.PARSE_BATCH_NOTICES, MAX_SMALL_BATCHES)
    cached = _notices_of(before, reused, notices)
    # in key order, so that a full parse stores every table's rows in key order (see create_staging)
    fresh = notices.join(cached, on="content_sha256", how="anti").sort("content_sha256")
    written = star_notices(fresh, BatchWriter(version_dir(warehouse)), workers)
    return ParsedBatches(
        version_dir(warehouse), _keep_batches(warehouse, reused, written, notices), _failures(written),
        parsed=fresh.height, reused=cached.height,
    )


def _keep_batches(warehouse: Path, reused: list[str], written: list[tuple[str | None, pl.DataFrame]], notices: pl.DataFrame) -> tuple[str, ...]:
    """The batch folders (reused or just written) that hold `notices`, by their first notice (a full parse's
    batches follow each other in key order); every other folder is pruned."""
    written_now = {name for name, _ in written if name is not None}
    in_use = _notices_of(_batch_notices(warehouse), sorted(set(reused) | written_now), notices)
    lost = notices.join(in_use, on="content_sha256", how="anti").join(_failures(written), on="content_sha256", how="anti")
    if lost.height:
        # Batches written or reused by this parse are gone: another refresh pruned the cache between this one's plan
        # and now (possible when the parse's steps run in processes of their own, each taking the refresh lock
        # for itself only: orchestration/parse_fanout.py). Loading without them would silently drop notices.
        raise ParseCacheChanged(
            f"the parse cache lost the rows of {lost.height} notice(s) (another refresh pruned {cache_dir(warehouse)}"
            " during this one's parse); nothing was loaded, refresh again"
        )
    batches = in_use.group_by("batch").agg(pl.col("content_sha256").min()).sort("content_sha256")["batch"].to_list()
    prune(warehouse, batches)
    return tuple(batches)


def _failures(written: list[tuple[str | None, pl.DataFrame]]) -> pl.DataFrame:
    """The quarantine rows of BatchWriter's results."""
    return pl.concat([failures for _, failures in written]) if written else pl.DataFrame(schema=QUARANTINE_SCHEMA)


def _notices_of(batch_notices: pl.DataFrame, batches: list[str], notices: pl.DataFrame) -> pl.DataFrame:
    """(content_sha256, batch) of the notices of `notices` that `batches` hold (of the _batch_notices index),
    each once."""
    return (
        batch_notices
        .filter(pl.col("batch").is_in(batches))
        .join(notices.select("content_sha256"), on="content_sha256", how="semi")
        .unique("content_sha256", keep="first", maintain_order=True)
    )


# Where a landed file's bytes are read from when the listing left them out, and the stat they must still have.
_FILE_STAT = ("path", "size", "mtime_ns", "ctime_ns")


class StagingBatches(Sequence):
    """The batches of transforms.ingest.plan_staging's rows, each with the bytes of its landed files joined in
    when it is taken (only the batches being sent to a process exist at a time; the bytes are shared with
    `raw`, not copied; those the listing left in their files are read then, landing.file_bytes)."""

    def __init__(self, work: pl.DataFrame, raw: pl.DataFrame):
        self.work = work
        self.raw = raw.select("source_name", "content_sha256", "data", *_FILE_STAT)
        self.count = 0 if work.is_empty() else int(work["batch"].max()) + 1

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> pl.DataFrame:
        if not 0 <= index < self.count:
            raise IndexError(index)
        return self.rows_of([index])

    def rows_of(self, batches: Sequence[int]) -> pl.DataFrame:
        """The rows of `batches` (numbers) with their bytes, in the order of the plan."""
        rows = self.work.filter(pl.col("batch").is_in(list(batches)))
        joined = rows.join(self.raw, on=["source_name", "content_sha256"], how="left", maintain_order="left")
        return with_bytes(joined).drop(_FILE_STAT)


def stage_into_cache(
    warehouse: Path, raw: pl.DataFrame, landed: pl.DataFrame, kept: pl.DataFrame, workers: int | None = None
) -> ParsedBatches:
    """`parse_into_cache` from the landed files' bytes: the files are staged (transforms.ingest) in the processes
    that parse them, batch by batch (transforms.pipeline.stage_star_notices), so this process never holds the
    staged texts; it learns which notices are loaded under which name and which files staging rejected.

    `raw`: the landed files (source_name, content_sha256, data); `landed`: source_name, content_sha256 of those
    staging should decode (transforms.ingest.reject_unreadable); `kept`: staged notices kept although their
    file is gone (transforms.lineage). The notices no reusable batch holds are parsed; the batches not used
    are removed.

    The same as `plan_parse`, `stage_chunk` of every chunk of `parse_chunks`, then `finish_parse`: the three
    parts a run with a step per chunk executes in separate processes (orchestration/parse_fanout.py).
    """
    plan = plan_parse(warehouse, landed, kept)
    results = stage_star_notices(StagingBatches(plan.work, raw), BatchWriter(plan.folder), workers)
    return finish_parse(warehouse, plan, results)


@dataclass(frozen=True)
class ParsePlan:
    """Which notices a refresh parses, in which batches (transforms.ingest.plan_staging), and which it takes from
    the cache's batches."""

    folder: Path  # version_dir of the warehouse: where the batches are written
    reused: list[str]  # batch folders whose rows are reused
    cached: pl.DataFrame  # content_sha256, batch: the wanted notices those batches hold
    settled: pl.DataFrame  # LOADED_SCHEMA: notices loaded without staging a byte
    work: pl.DataFrame  # WORK_SCHEMA: rows to stage and parse, with their batch number
    landed: pl.DataFrame  # source_name, content_sha256 of the files staging decodes


def plan_parse(warehouse: Path, landed: pl.DataFrame, kept: pl.DataFrame) -> ParsePlan:
    """The parse of `stage_into_cache`, planned: the reusable batches and the rows to stage, in batches of
    transforms.pipeline.PARSE_BATCH_NOTICES contents (read when called)."""
    batch_notices = pipeline.PARSE_BATCH_NOTICES
    before = _batch_notices(warehouse)
    wanted = pl.concat([landed.select("content_sha256"), kept.select("content_sha256")]).unique()
    reused = reusable_batches(before, wanted, batch_notices, MAX_SMALL_BATCHES)
    cached = _notices_of(before, reused, wanted)
    settled, work = plan_staging(landed, kept, before.select("source_name", "content_sha256"), cached, batch_notices)
    return ParsePlan(version_dir(warehouse), reused, cached, settled, work, landed.select("source_name", "content_sha256"))


def parse_chunks(plan: ParsePlan, raw: pl.DataFrame, batches_per_chunk: int) -> Iterator[pl.DataFrame]:
    """The plan's batches, `batches_per_chunk` at a time, each chunk one frame of StagingBatches' rows (the landed
    files' bytes joined in, the `batch` column kept): what a step of a fanned-out parse receives. Made one at a
    time, as they are handed out. At least one chunk, empty when nothing is to be parsed, so that the step that
    finishes the parse always runs."""
    batches = StagingBatches(plan.work, raw)
    step = max(1, batches_per_chunk)
    for start in range(0, len(batches), step):
        yield batches.rows_of(range(start, start + step))
    if not len(batches):
        yield batches.rows_of([])


@dataclass(frozen=True)
class ParsedChunk:
    """The results of a chunk's batches (stage_star_notices'), in batch order, and the number of its first batch
    (-1 for an empty chunk): what puts chunks parsed in any order back in batch order."""

    first_batch: int
    results: list


def stage_chunk(folder: Path, chunk: pl.DataFrame, workers: int = 1) -> ParsedChunk:
    """The batches of one chunk of `parse_chunks` staged and parsed into the cache `folder` (ParsePlan.folder) by
    `workers` processes: one by default, since the executor that runs a step per chunk runs chunks side by side
    (a step per core with Dagster's multiprocess executor, a pod per step on a cluster)."""
    numbers = chunk["batch"].unique().sort().to_list()
    batches = [chunk.filter(pl.col("batch") == number) for number in numbers]
    return ParsedChunk(numbers[0] if numbers else -1, stage_star_notices(batches, BatchWriter(folder), workers))


def finish_chunks(warehouse: Path, plan: ParsePlan, chunks: Sequence[ParsedChunk]) -> ParsedBatches:
    """`finish_parse` of chunks parsed in any order."""
    ordered = sorted(chunks, key=lambda chunk: chunk.first_batch)
    return finish_parse(warehouse, plan, [result for chunk in ordered for result in chunk.results])


def finish_parse(warehouse: Path, plan: ParsePlan, results: list) -> ParsedBatches:
    """The ParsedBatches of a parse from the results of its batches (stage_star_notices'), in batch order; the
    batch folders not used are removed. Raises ParseCacheChanged when a batch it needs is gone, or when this
    process's parser is not the one the parse was planned with (steps in processes of their own)."""
    if plan.folder != version_dir(warehouse):
        raise ParseCacheChanged(
            f"the parse was planned for parser version {plan.folder.name} and is finished by version "
            f"{parser_version()} (the code changed during the run); nothing was loaded, refresh again"
        )
    staged = pl.concat([batch_loaded for _, batch_loaded, _ in results], how="vertical") if results else pl.DataFrame(schema={**LOADED_SCHEMA, "parse": pl.Boolean})
    loaded = pl.concat([plan.settled, staged.select(list(LOADED_SCHEMA))]).sort(~pl.col("source_present"), "source_name")
    rejected = pl.concat([batch_rejected for _, _, batch_rejected in results]) if results else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    written = [written for written, _, _ in results]
    return ParsedBatches(
        plan.folder, _keep_batches(warehouse, plan.reused, written, loaded), _failures(written),
        parsed=staged.filter(pl.col("parse")).height, reused=loaded.join(plan.cached, on="content_sha256", how="semi").height,
        loaded=loaded, rejected=expand_rejections(rejected, plan.landed),
    )
