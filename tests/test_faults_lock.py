"""A second refresh while one holds the warehouse lock (issue 4)."""

import shutil

import pytest

from orchestration.cli import EXIT_LOCKED
from tests.fault_helpers import build_two_then_three, digest, notice_count, zhenggai
from warehouse.store import refresh_lock


@pytest.fixture(scope="module")
def two_then_three(tmp_path_factory):
    return build_two_then_three(tmp_path_factory)


def test_a_second_refresh_exits_with_a_clear_message_while_one_runs(two_then_three, tmp_path):
    _, small, _, published = two_then_three
    warehouse = tmp_path / "zhenggai.duckdb"
    shutil.copy(published, warehouse)
    before = digest(warehouse)
    with refresh_lock(warehouse):  # a refresh in progress
        second = zhenggai("refresh", "--source", str(small), "--warehouse", str(warehouse))
        _, stderr = second.communicate(timeout=300)
    assert second.returncode == EXIT_LOCKED
    assert "another refresh is running" in stderr
    assert digest(warehouse) == before
    # once the running refresh ends, the next one goes through
    again = zhenggai("refresh", "--source", str(small), "--warehouse", str(warehouse), "--quiet")
    assert again.wait(timeout=300) == 0, again.stderr.read()
    assert notice_count(warehouse) == 2
