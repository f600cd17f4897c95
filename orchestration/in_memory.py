"""How `zhenggai refresh` runs its job: in this process, step outputs handed on in memory, each dropped after its
last reader.

Both of Dagster's ways of running a job in process keep every output until the run ends: `mem_io_manager`
stores them in a dict, and `execute_in_process` captures them again for `result.output_for_node`. In a refresh
that holds the bytes of the whole corpus (the source asset and raw_notices: ~430 MB at 10,000 notices) through
the staging file and the gate, the two phases with the highest memory, although nothing reads them after
warehouse_staging. Here an output is counted, when it is handed over, against the steps of the run's
execution plan that take it as an input, and forgotten once each of them has loaded it; and the job runs
without the output capture (the refresh reads only events from its result).
"""

import dagster as dg


def readers(plan, step_key: str, output_name: str) -> int:
    """How many step inputs of the execution `plan` read the output `output_name` of step `step_key`."""
    return sum(
        1
        for step in plan.get_steps_to_execute_in_topo_order()
        for step_input in step.step_inputs
        for handle in step_input.get_step_output_handle_dependencies()
        if handle.step_key == step_key and handle.output_name == output_name
    )


class ReleasingInMemoryIOManager(dg.IOManager):
    """Outputs kept in memory until every step that reads them has loaded them (one run, one process).

    The count comes from the run's execution plan (Dagster's own record of which step input reads which
    output), taken when the output is handed over; an output no step reads is not kept at all.
    """

    def __init__(self):
        self.values: dict[tuple[str, ...], object] = {}
        self.reads_left: dict[tuple[str, ...], int] = {}

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        key = tuple(context.get_identifier())
        count = readers(context.step_context.execution_plan, context.step_key, context.name)
        if count:
            self.values[key], self.reads_left[key] = obj, count

    def load_input(self, context: dg.InputContext) -> object:
        key = tuple(context.get_identifier())
        value = self.values[key]
        self.reads_left[key] -= 1
        if not self.reads_left[key]:
            del self.values[key], self.reads_left[key]
        return value


@dg.io_manager(description="Outputs in memory, each dropped once every step reading it has loaded it.")
def releasing_mem_io_manager(_) -> ReleasingInMemoryIOManager:
    return ReleasingInMemoryIOManager()


def execute_releasing_outputs(job, *, run_config: dict, instance, resources: dict, run_id: str):
    """`job.execute_in_process(run_config, instance, resources, raise_on_error=False, run_id)`, the same run and
    the same result (its events), except that outputs are not captured: `result.output_for_node` is unavailable.

    What `JobDefinition.execute_in_process` does, with `output_capturing_enabled=False`: Dagster has no public
    switch for it (dagster._core.execution.execute_in_process, pinned in requirements.lock; the refresh tests
    run through here).
    """
    from dagster._core.definitions.job_base import InMemoryJob
    from dagster._core.execution.execute_in_process import (
        core_execute_in_process,
        merge_run_tags,
        type_check_and_normalize_args,
    )

    run_config, op_selection, asset_selection, resource_defs, _, input_values = type_check_and_normalize_args(
        run_config=run_config, resources=resources
    )
    ephemeral = job.as_ephemeral_job(resource_defs=resource_defs, input_values=input_values, op_selection=op_selection,
                                     asset_selection=asset_selection)
    return core_execute_in_process(
        job=InMemoryJob(job_def=ephemeral),
        run_config=run_config,
        instance=instance,
        output_capturing_enabled=False,
        raise_on_error=False,
        run_tags=merge_run_tags(job_def=job, partition_key=None, tags=None, asset_selection=asset_selection,
                                instance=instance, run_config=run_config),
        run_id=run_id,
        asset_selection=frozenset(asset_selection),
    )
