"""transforms/warm_up.py: the made-up notice a long-lived process stages and parses before its first real one."""

from transforms.warm_up import warm_up


def test_the_warm_up_notice_goes_through_staging_and_every_part_of_the_parse():
    star = warm_up()
    assert star["raw_notice"].height == 1 and star["raw_notice"]["encoding"].item() == "utf-8"
    issues = star["fact_issue"].filter(star["fact_issue"]["level"] == "issue")
    assert sorted(issues["status"].to_list()) == ["completed", "in_progress"]
    assert 125000 in star["fact_indicator"]["value_base"].to_list()
    assert star["dim_inspection"].height == 1 and star["fact_measure"].height == 4
