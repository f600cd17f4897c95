"""warehouse/compare.py: two warehouse files compared table by table, as multisets of rows."""

from datetime import datetime, timezone

import duckdb

from warehouse.compare import compare_warehouses

BUILT = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)


def _file(path, statements: list[str], built_at: datetime = BUILT):
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE refresh_build (build_digest VARCHAR, built_at TIMESTAMPTZ)")
    con.execute("INSERT INTO refresh_build VALUES ('b1', ?)", [built_at])
    con.execute("CREATE TABLE notice_version (notice_key VARCHAR, valid_from TIMESTAMPTZ, valid_to TIMESTAMPTZ)")
    con.execute("INSERT INTO notice_version VALUES ('n1', ?, NULL), ('n2', TIMESTAMPTZ '2026-01-01 00:00:00+00', ?)",
                [built_at, built_at])
    for statement in statements:
        con.execute(statement)
    con.close()
    return path


FACTS = ["CREATE TABLE fact (k INTEGER, v VARCHAR)", "INSERT INTO fact VALUES (1, 'a'), (2, 'b'), (2, 'b')"]


def _by_table(comparisons):
    return {c.table: c for c in comparisons}


def test_the_same_rows_in_another_order_are_the_same(tmp_path):
    first = _file(tmp_path / "a.duckdb", FACTS)
    second = _file(tmp_path / "b.duckdb", ["CREATE TABLE fact (k INTEGER, v VARCHAR)",
                                           "INSERT INTO fact VALUES (2, 'b'), (1, 'a'), (2, 'b')"])
    comparisons = compare_warehouses(first, second)
    assert [c.table for c in comparisons] == ["fact", "notice_version", "refresh_build"]
    assert all(c.same for c in comparisons)
    assert _by_table(comparisons)["fact"].rows == (3, 3)


def test_rows_are_counted_with_their_multiplicity(tmp_path):
    first = _file(tmp_path / "a.duckdb", FACTS)
    second = _file(tmp_path / "b.duckdb", ["CREATE TABLE fact (k INTEGER, v VARCHAR)",
                                           "INSERT INTO fact VALUES (1, 'a'), (2, 'b'), (3, 'c'), (3, 'c')"])
    fact = _by_table(compare_warehouses(first, second))["fact"]
    assert (fact.rows, fact.only_in_first, fact.only_in_second, fact.same) == ((3, 4), 1, 2, False)


def test_a_missing_table_or_other_columns_differ(tmp_path):
    first = _file(tmp_path / "a.duckdb", [*FACTS, "CREATE TABLE extra (k INTEGER)"])
    second = _file(tmp_path / "b.duckdb", ["CREATE TABLE fact (k INTEGER, v VARCHAR, w VARCHAR)"])
    tables = _by_table(compare_warehouses(first, second))
    assert tables["extra"].rows == (0, None) and not tables["extra"].same
    assert tables["fact"].rows == (3, 0) and not tables["fact"].same_columns and not tables["fact"].same


def test_times_are_compared_by_their_order_only_when_asked(tmp_path):
    first = _file(tmp_path / "a.duckdb", FACTS)
    second = _file(tmp_path / "b.duckdb", FACTS, built_at=datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc))
    exact = _by_table(compare_warehouses(first, second))
    assert not exact["refresh_build"].same and not exact["notice_version"].same
    assert exact["notice_version"].only_in_first == 2
    # the other file's build came a day later: the same history, its times in the same order
    assert all(c.same for c in compare_warehouses(first, second, times_by_order=True))
    # n2's version now opened after the build that closed it: another order
    con = duckdb.connect(str(second))
    con.execute("UPDATE notice_version SET valid_from = TIMESTAMPTZ '2026-12-01 00:00:00+00' WHERE notice_key = 'n2'")
    con.close()
    by_order = _by_table(compare_warehouses(first, second, times_by_order=True))
    assert not by_order["notice_version"].same and by_order["fact"].same


def test_names_that_need_quoting(tmp_path):
    statements = ['CREATE TABLE "odd ""name""" ("a ""b""" INTEGER)', 'INSERT INTO "odd ""name""" VALUES (1)']
    first = _file(tmp_path / "a.duckdb", statements)
    second = _file(tmp_path / "b.duckdb", [*statements, 'INSERT INTO "odd ""name""" VALUES (2)'])
    odd = _by_table(compare_warehouses(first, second))['odd "name"']
    assert (odd.rows, odd.only_in_second, odd.same) == ((1, 2), 1, False)
