from datetime import date

import polars as pl

from transforms.indicators import INDICATORS_SCHEMA

from transforms.star import assign_measures, build_star, digest_key, dim_date

SHA = "ab" * 32
KEY = SHA[:16]


def _frames():
    notices = pl.DataFrame(
        {"content_sha256": [SHA], "source_name": ["n.txt"], "encoding": ["utf-8"], "raw_text": ["x"], "text": ["一、问题\n1.关于“甲”问题的整改。整改情况:一是清退3万元。"]}
    )
    metadata = pl.DataFrame(
        {
            "content_sha256": [SHA], "title": [None], "publisher": ["中共某市某区委"], "publish_date": [date(2022, 4, 11)],
            "report_stage": ["整改进展情况"], "inspection_kind": ["巡察"], "inspecting_level": ["区委"],
            "inspecting_body": ["区委第二巡察组"], "inspected_unit": ["某镇"], "inspection_start": [date(2021, 8, 13)],
            "inspection_start_precision": ["day"], "inspection_end": [date(2021, 10, 29)], "inspection_end_precision": ["day"],
            "feedback_date": [date(2021, 11, 29)], "feedback_date_precision": ["day"], "contact_phones": [["85951003"]],
            "contact_emails": [[]], "contact_address": [None],
        },
        schema_overrides={"title": pl.String, "contact_address": pl.String, "contact_emails": pl.List(pl.String)},
    )
    issues = pl.DataFrame(
        {
            "content_sha256": [SHA, SHA], "node_ordinal": [0, 1], "parent_ordinal": [None, 0], "level": ["category", "issue"],
            "number": ["一", "1"], "title": ["问题", "甲"], "status": [None, "completed"], "status_phrase": [None, "已完成整改"],
            "status_source": [None, "section_heading"], "expected_completion": [None, None], "text": ["", "整改情况:一是清退3万元。"],
            "char_start": [0, 5], "char_end": [5, 33],
        },
        schema_overrides={"node_ordinal": pl.Int32, "parent_ordinal": pl.Int32, "expected_completion": pl.Date, "char_start": pl.Int64, "char_end": pl.Int64},
    )
    measures = pl.DataFrame(
        {"content_sha256": [SHA], "node_ordinal": [1], "measure_ordinal": [1], "label": ["一是"], "phase": ["done"], "text": ["清退3万元。"], "char_start": [22], "char_end": [33]},
        schema_overrides={"node_ordinal": pl.Int32, "measure_ordinal": pl.Int32, "char_start": pl.Int64, "char_end": pl.Int64},
    )
    claims = pl.DataFrame(
        {"content_sha256": [SHA], "subject": ["issues"], "status": ["completed"], "claimed_count": [2], "parsed_count": [1], "quote": ["共计2个问题已完成整改"], "char_start": [0], "char_end": [11]}
    )
    indicators = pl.DataFrame(
        {
            "content_sha256": [SHA], "node_ordinal": [1], "measure_ordinal": [None], "value": [3.0], "unit": ["万元"], "value_base": [30000.0],
            "base_unit": ["CNY"], "qualifier": [None], "direction": [None], "metric": ["funds_recovered"], "quote": ["3万元"], "char_start": [26], "char_end": [29],
            "value_low": [3.0], "value_high": [3.0], "dimension": ["money"], "metric_rule": [None], "period": [None], "period_start": [None], "period_end": [None],
        },
        schema=INDICATORS_SCHEMA,
    )
    return notices, metadata, issues, measures, claims, indicators


def test_keys_are_derived_from_content():
    tables = build_star(*_frames())
    assert tables["dim_notice"]["notice_key"].to_list() == [KEY]
    assert tables["fact_issue"]["issue_key"].to_list() == [f"{KEY}-i0", f"{KEY}-i1"]
    assert tables["fact_issue"]["parent_issue_key"].to_list() == [None, f"{KEY}-i0"]
    assert tables["fact_measure"]["measure_key"].to_list() == [f"{KEY}-i1-m1"]
    assert tables["fact_claim"]["claim_key"].to_list() == [f"{KEY}-c0"]
    assert tables["fact_indicator"]["indicator_key"].to_list() == [f"{KEY}-x26"]
    assert tables["dim_organization"]["organization_key"].to_list() == [digest_key("某镇")]
    assert build_star(*_frames())["dim_inspection"].equals(tables["dim_inspection"])


def test_claims_record_disagreement_and_issues_count_their_measures():
    tables = build_star(*_frames())
    assert tables["fact_claim"]["reconciled"].to_list() == [False]
    assert tables["fact_issue"]["measure_count"].to_list() == [0, 1]


def test_indicator_inside_a_measure_links_to_it():
    _, _, _, measures, _, indicators = _frames()
    assert assign_measures(indicators, measures)["measure_ordinal"].to_list() == [1]
    outside = indicators.with_columns(pl.lit(5, dtype=pl.Int64).alias("char_start"), pl.lit(8, dtype=pl.Int64).alias("char_end"))
    assert assign_measures(outside, measures)["measure_ordinal"].to_list() == [None]


def test_dim_date_covers_whole_years_of_every_date():
    tables = build_star(*_frames())
    days = tables["dim_date"]
    assert days["date_key"].min() == date(2021, 1, 1) and days["date_key"].max() == date(2022, 12, 31)
    assert days.height == 730
    assert dim_date({"t": pl.DataFrame({"d": [None]}, schema={"d": pl.Date})}).is_empty()
