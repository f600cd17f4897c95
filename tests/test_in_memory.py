"""The refresh's IO manager: outputs in memory, each dropped after its last reader."""

import gc
import uuid
import weakref

import dagster as dg

from orchestration.in_memory import ReleasingInMemoryIOManager, execute_releasing_outputs


def _job(seen: dict, held: list, manager: ReleasingInMemoryIOManager):
    """raw → (staged, counted) → summary: raw has two readers, staged and counted one each, summary none."""

    @dg.asset
    def raw() -> list[int]:
        return [1, 2, 3]

    @dg.asset
    def staged(raw: list[int]) -> list[int]:
        held.append(("staged", _held_steps(manager)))
        return [value * 10 for value in raw]

    @dg.asset
    def counted(raw: list[int]) -> int:
        held.append(("counted", _held_steps(manager)))
        return len(raw)

    @dg.asset
    def summary(staged: list[int], counted: int) -> str:
        held.append(("summary", _held_steps(manager)))
        seen["summary"] = f"{counted}:{sum(staged)}"
        return seen["summary"]

    return dg.Definitions(assets=[raw, staged, counted, summary]).resolve_implicit_global_asset_job_def()


def _held_steps(manager: ReleasingInMemoryIOManager) -> list[str]:
    """The steps whose output the manager holds (identifiers are run id, step key, output name)."""
    return sorted(key[1] for key in manager.values)


def test_each_output_reaches_every_reader_and_is_dropped_after_the_last():
    manager, seen, held = ReleasingInMemoryIOManager(), {}, []
    result = _job(seen, held, manager).execute_in_process(resources={"io_manager": manager})

    assert result.success
    assert seen["summary"] == "3:60"  # both readers of raw got it
    by_step = dict(held)
    first, second = [step for step, _ in held if step in ("staged", "counted")]
    assert "raw" in by_step[first]  # raw kept while its first reader runs ...
    assert "raw" not in by_step[second]  # ... and dropped once the second loaded it
    assert by_step["summary"] == []  # staged and counted dropped once summary loaded them
    # summary's own output has no reader: it was never kept
    assert manager.values == {} and manager.reads_left == {}


class _Corpus(list):
    """A list that can be weakly referenced, to see whether anything still holds an output."""


def _corpus_job(corpus_ref: list):
    @dg.asset
    def corpus() -> _Corpus:
        value = _Corpus(range(1000))
        corpus_ref.append(weakref.ref(value))
        return value

    @dg.asset
    def size(corpus: _Corpus) -> int:
        return len(corpus)

    @dg.asset
    def report(size: int) -> str:
        return f"{size} items"

    return dg.Definitions(assets=[corpus, size, report]).resolve_implicit_global_asset_job_def()


def test_the_refresh_run_keeps_no_output_after_its_last_reader():
    refs: list = []
    job = _corpus_job(refs)
    with dg.instance_for_test() as instance:
        result = execute_releasing_outputs(
            job, run_config={}, instance=instance, resources={"io_manager": ReleasingInMemoryIOManager()}, run_id=str(uuid.uuid4())
        )
    assert result.success
    materialized = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    assert materialized == {"corpus", "size", "report"}
    gc.collect()
    assert refs[0]() is None  # neither the IO manager nor the run result holds the corpus


def test_execute_in_process_would_keep_every_output():
    """Why the refresh does not use job.execute_in_process: its result captures every output of the run."""
    refs: list = []
    result = _corpus_job(refs).execute_in_process(resources={"io_manager": ReleasingInMemoryIOManager()})
    gc.collect()
    assert result.success and refs[0]() is not None
