"""A second refresh while one holds the warehouse lock (issue 4)."""



from orchestration.cli import EXIT_LOCKED
from tests.fault_helpers import digest, notice_count, zhenggai, served_copy, two_then_three  # noqa: F401 (fixture)
from warehouse.store import refresh_lock




def test_a_second_refresh_exits_with_a_clear_message_while_one_runs(two_then_three, tmp_path):
    _, small, _, published = two_then_three
    warehouse = served_copy(published, tmp_path)
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
