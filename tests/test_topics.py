"""Topic taxonomy (transforms.topics): keyword rules on titles, inheritance, text fallback, and the seeds."""

import polars as pl
import pytest

from tests.conftest import notice_frame
from transforms.structure import extract_issues
from transforms.topics import OTHER, assign_topics, topic_of_text, topic_of_title, topic_rules, topic_table

TAXONOMY = {
    "political_ideological", "party_discipline_responsibility", "eight_rules_four_winds", "corruption_key_areas",
    "organisational_line", "economic_development", "financial_debt_risk", "environment", "safety",
    "livelihoods_petitions", "rural_revitalisation", "rectification", "other",
}


def test_taxonomy_covers_the_issue_list_and_every_rule_names_a_known_topic():
    assert set(topic_table()["topic"]) == TAXONOMY
    assert topic_table().filter(pl.col("name_zh").str.len_chars() == 0).is_empty()
    assert {topic for topic, _ in topic_rules()} == TAXONOMY - {OTHER}


@pytest.mark.parametrize(
    ("title", "topic", "keyword"),
    [
        # Hand-checked titles of the kind inspections report (taken from the five seed layouts).
        ("理论学习没有入脑入心", "political_ideological", "理论学习"),
        ("落实意识形态工作责任制有盲区", "political_ideological", "意识形态"),
        ("全面从严治党主体责任还没有扛稳抓牢", "party_discipline_responsibility", "全面从严治党"),
        ("'两个责任'未扛牢压实", "party_discipline_responsibility", "两个责任"),
        ("监督执纪偏轻偏软", "party_discipline_responsibility", "监督执纪"),
        ("落实中央八项规定精神不够严格,形式主义、官僚主义仍然存在", "eight_rules_four_winds", "八项规定"),
        ("区委前九轮巡察发现违反中央八项规定精神问题中有部分资金未退缴到位", "eight_rules_four_winds", "八项规定"),
        ("区直部门向基层摊派报刊杂志征订多、负担过重", "eight_rules_four_winds", "摊派"),
        ("政府采购和招投标违规现象仍有发生", "corruption_key_areas", "招投标"),
        ("少数领导干部插手工程建设、直接指定施工单位,涉及项目多", "corruption_key_areas", "工程"),
        ("违规向民企出借资金余额较大", "corruption_key_areas", "资金"),
        ("干部选拔任用工作有欠缺", "organisational_line", "选拔任用"),
        ("基层党建工作重视不够", "organisational_line", "基层党建"),
        ("招商引资工作质量不高", "economic_development", "招商"),
        ("营商环境不够优化,企业群众反响强烈", "economic_development", "营商环境"),
        ("防范化解金融风险成效不佳", "financial_debt_risk", "金融风险"),
        ("污染防治攻坚不够有力,生态环保存在弱项", "environment", "污染"),
        ("群众生产生活安全隐患突出", "safety", "安全隐患"),
        ("老旧小区改造群众满意度不高", "livelihoods_petitions", "老旧小区"),
        ("镇综合行政执法和信访案件查办程序不严", "livelihoods_petitions", "信访"),
        ("撂荒复耕工作开展不扎实", "rural_revitalisation", "撂荒"),
        ("巡视反馈问题整改不力", "rectification", "反馈问题整改"),
        ("‘部分往来款长期未清理’问题整改不到位", "rectification", "整改不到位"),
    ],
)
def test_title_rules(title, topic, keyword):
    assert topic_of_title(title) == (topic, keyword)


def test_no_rule_no_topic():
    assert topic_of_title("三大攻坚战存在薄弱环节") is None
    assert topic_of_title("") is None and topic_of_text(None) is None


def test_text_fallback_takes_the_topic_with_most_keyword_hits():
    text = "开展污染源排查,整治污染企业3家,修复生态环境;召开干部会议1次。"
    assert topic_of_text(text) == ("environment", "污染")


OPENING = "根据区委统一部署,区委第一巡察组对某镇进行了巡察。\n"
NOTICE = OPENING + "\n".join(
    [
        "二、反馈问题整改情况",
        "(一)全面从严治党方面",
        "1.关于“扫黑除恶力度不大”问题的整改",
        "(1)“六清”尚有线索未清",
        "整改情况:已完成清理。",
        "(2)群众反映强烈的“黄赌毒”问题打击不力",
        "整改情况:开展专项行动。",
        "2.关于“工作落实不到位”问题的整改",
        "整改情况:整治污染企业3家,开展污染源排查,修复生态环境。",
        "3.关于“其他事项”问题的整改",
        "整改情况:按期办结。",
    ]
)


def test_assign_topics_title_then_parent_then_text_then_other():
    topics = assign_topics(extract_issues(notice_frame(NOTICE)))
    got = {row["title"]: (row["level"], row["topic"], row["topic_rule"]) for row in topics.iter_rows(named=True)}
    assert got == {
        "全面从严治党方面": ("category", "party_discipline_responsibility", "title:全面从严治党"),
        "扫黑除恶力度不大": ("issue", "safety", "title:扫黑除恶"),
        "“六清”尚有线索未清": ("sub_issue", "safety", "parent:扫黑除恶"),  # inherited: no rule in its own title
        "群众反映强烈的“黄赌毒”问题打击不力": ("sub_issue", "safety", "title:黄赌毒"),
        # An issue does not inherit its category's topic; its measures decide.
        "工作落实不到位": ("issue", "environment", "text:污染"),
        "其他事项": ("issue", OTHER, None),
    }


def test_seeds_mostly_get_a_topic_from_their_titles(seed_texts):
    topics = assign_topics(extract_issues(notice_frame(*seed_texts.values())))
    assert topics.height == 170
    assert topics["topic"].is_in(topic_table()["topic"].implode()).all()
    share_topic = topics.filter(pl.col("topic") != OTHER).height / topics.height
    share_title = topics.filter(pl.col("topic_rule").str.starts_with("title:")).height / topics.height
    # Measured on the seeds: 169 of 170 nodes get a topic (only 三大攻坚战存在薄弱环节 stays 'other'),
    # 159 of them from their own title, 8 inherited from the parent issue, 2 from the text.
    assert share_topic >= 0.98
    assert share_title >= 0.9
    assert topics.filter(pl.col("topic") == OTHER)["title"].to_list() == ["三大攻坚战存在薄弱环节"]
    # Every topic of the taxonomy occurs in the seeds except none: the five layouts span all of it.
    assert set(topics["topic"]) == TAXONOMY


def test_every_keyword_is_listed_once_and_political_ecology_is_not_the_environment():
    from transforms.topics import topic_of_text, topic_rules

    keywords = [keyword for _, keyword in topic_rules()]
    assert len(keywords) == len(set(keywords))
    assert topic_of_text("持续净化政治生态,营造风清气正的政治生态")[0] == "party_discipline_responsibility"
    assert topic_of_text("加强生态保护和生态修复")[0] == "environment"
