"""A refresh killed with SIGKILL at random points (issue 4)."""

import random
import shutil
import signal
import time


from tests.fault_helpers import digest, notice_count, zhenggai, served_copy, two_then_three  # noqa: F401 (fixture)




def test_a_refresh_killed_at_any_point_leaves_the_old_or_the_new_warehouse(two_then_three, tmp_path):
    _, _, large, published = two_then_three
    warehouse = served_copy(published, tmp_path)
    old = digest(warehouse)
    staging = warehouse.with_name(warehouse.name + ".staging")
    # Each kill waits for a phase of the run to begin, then a random moment more: while starting and
    # parsing, while the staging file is written, and while the gate validates it or publication runs.
    phases = {
        "starting or parsing": lambda: True,
        "staging file written": staging.exists,
        "gate or publication": (tmp_path / "validation").exists,
    }
    jitter = random.Random(4)
    for phase, begun in phases.items():
        staging.unlink(missing_ok=True)  # a phase is recognised by what this run writes, not the last one's
        shutil.rmtree(tmp_path / "validation", ignore_errors=True)
        process = zhenggai("refresh", "--source", str(large), "--warehouse", str(warehouse), "--quiet")
        while not begun() and process.poll() is None:
            time.sleep(0.01)
        time.sleep(jitter.uniform(0.0, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        count = notice_count(warehouse)
        assert count in (2, 3), phase
        if count == 2:
            assert digest(warehouse) == old, phase  # untouched, byte for byte
    # whatever the kills left behind (staging file, lock file, partial cache), the next refresh succeeds
    after = zhenggai("refresh", "--source", str(large), "--warehouse", str(warehouse), "--quiet")
    assert after.wait(timeout=300) == 0, after.stderr.read()
    assert notice_count(warehouse) == 3
