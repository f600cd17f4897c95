"""Connecting as a BI tool does: SQLAlchemy + duckdb-engine, read-only, reflecting the schema, querying marts."""

import shutil

import duckdb
import pytest
import sqlalchemy as sa

from warehouse.store import publish

CONTRACT_TABLES = {"dim_notice", "dim_inspection", "dim_organization", "fact_issue", "fact_measure",
                   "fact_indicator", "fact_claim", "quarantine_notice"}
MARTS = {"mart_notice", "mart_issue", "mart_indicator", "mart_unit_progress"}


def bi_engine(path):
    # The settings the README gives for Superset: duckdb:///<absolute path>, read_only.
    return sa.create_engine(f"duckdb:///{path}", connect_args={"read_only": True}, poolclass=sa.pool.NullPool)


def test_inspector_lists_contract_tables_and_marts_with_their_comments(published):
    engine = bi_engine(published)
    try:
        inspector = sa.inspect(engine)
        assert CONTRACT_TABLES <= set(inspector.get_table_names())
        assert MARTS <= set(inspector.get_table_names())  # built as tables by every refresh
        assert "整改进展情况通报" in inspector.get_table_comment("dim_notice")["text"]
        # Column names and types as BI tools list them in their dataset editors (information_schema works
        # for every client; see the README for duckdb-engine's own column reflection).
        with engine.connect() as connection:
            columns = dict(connection.execute(sa.text(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'mart_notice'")).all())
        assert columns["completion_rate_computed"] == "DOUBLE"
        assert columns["publish_date"] == "DATE"
    finally:
        engine.dispose()


def test_a_mart_can_be_queried_and_aggregated_through_sqlalchemy(published):
    engine = bi_engine(published)
    mart_issue = sa.table("mart_issue", sa.column("organization"), sa.column("status_group"), sa.column("is_leaf"))
    query = (sa.select(mart_issue.c.status_group, sa.func.count().label("problems"))
             .where(mart_issue.c.is_leaf).group_by(mart_issue.c.status_group).order_by(mart_issue.c.status_group))
    try:
        with engine.connect() as connection:
            counts = dict(connection.execute(query).all())
            (notices,) = connection.execute(sa.text("SELECT count(*) FROM mart_notice")).one()
    finally:
        engine.dispose()
    assert notices == 5
    with duckdb.connect(str(published), read_only=True) as con:
        leaves = con.execute("SELECT count(*) FROM fact_issue f WHERE level <> 'category' AND NOT EXISTS "
                             "(SELECT 1 FROM fact_issue c WHERE c.parent_issue_key = f.issue_key)").fetchone()[0]
    assert sum(counts.values()) == leaves
    assert counts["completed"] == 26 and counts["open"] == 13


def test_the_bi_connection_cannot_write(published):
    before = published.read_bytes()
    engine = bi_engine(published)
    try:
        with engine.connect() as connection, pytest.raises(sa.exc.DBAPIError, match="read-only"):
            connection.execute(sa.text("DELETE FROM fact_claim"))
    finally:
        engine.dispose()
    assert published.read_bytes() == before


def test_an_open_bi_connection_keeps_its_snapshot_when_a_refresh_replaces_the_file(published, tmp_path):
    served = tmp_path / "zhenggai.duckdb"
    shutil.copy(published, served)
    staging = tmp_path / "zhenggai.duckdb.staging"
    shutil.copy(published, staging)
    with duckdb.connect(str(staging)) as con:
        con.execute("DELETE FROM fact_claim WHERE NOT reconciled")
    engine = bi_engine(served)
    try:
        with engine.connect() as connection:
            count = sa.text("SELECT count(*) FROM fact_claim")
            assert connection.execute(count).scalar() == 23
            publish(staging, served)  # what the nightly refresh does: os.replace
            assert connection.execute(count).scalar() == 23  # the open connection reads its snapshot
    finally:
        engine.dispose()
    reconnected = bi_engine(served)
    try:
        with reconnected.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM fact_claim")).scalar() == 23 - 4
    finally:
        reconnected.dispose()
