"""Topic taxonomy of what inspections find (问题领域), assigned to every issue node by keyword rules.

The taxonomy (`topics.csv`: code, English and Chinese name, description) and the keyword rules
(`topic_rules.csv`: topic, keyword, note) are readable CSV files next to this module; extend them, not the
code. A node's topic is decided in this order, and `topic_rule` records which step and keyword decided it:

1. its title: the rules are tried in file order and the first keyword found in the title decides
   (`title:八项规定`). The file lists specific topics before broad ones, so 违反中央八项规定精神问题中有部分资金
   未退缴 is about the eight-point rules, not about funds;
2. a sub_issue whose title matches nothing inherits its parent issue's topic when the parent's own title
   decided it (`parent:八项规定`): a 具体问题 such as “六清”尚有线索 is an instance of its parent
   (扫黑除恶力度不大), and the parent's heading says more than the sub-issue's measures do. Issues do not
   inherit from categories: a category (全面从严治党有差距,作风建设问题突出) is too broad to say what
   each of its issues is about;
3. its own text (the measures): the topic whose keywords occur most often wins, ties going to the earlier
   topic in the rule file (`text:污染`, the topic's most frequent keyword). Measures describe the remedy, so this
   step is a fallback only;
4. otherwise 'other' with topic_rule NULL.
"""

import csv
from functools import cache
from pathlib import Path

import polars as pl

OTHER = "other"
_HERE = Path(__file__).parent
TOPIC_SCHEMA = {"topic": pl.String, "name": pl.String, "name_zh": pl.String, "description": pl.String}


@cache
def topic_table() -> pl.DataFrame:
    """The taxonomy: one row per topic code (dim_topic), 'other' included."""
    with (_HERE / "topics.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    frame = pl.DataFrame(rows, schema=TOPIC_SCHEMA)
    if frame["topic"].n_unique() != frame.height or OTHER not in frame["topic"].to_list():
        raise ValueError("topics.csv: topic codes must be unique and include 'other'")
    return frame


@cache
def topic_rules() -> tuple[tuple[str, str], ...]:
    """(topic, keyword) pairs in the priority order of topic_rules.csv."""
    with (_HERE / "topic_rules.csv").open(encoding="utf-8") as handle:
        rules = tuple((row["topic"].strip(), row["keyword"].strip()) for row in csv.DictReader(handle))
    unknown = {topic for topic, _ in rules} - set(topic_table()["topic"].to_list())
    if unknown:
        raise ValueError(f"topic_rules.csv: topics not in topics.csv: {sorted(unknown)}")
    if any(not keyword for _, keyword in rules):
        raise ValueError("topic_rules.csv: empty keyword")
    keywords = [keyword for _, keyword in rules]
    repeated = sorted({keyword for keyword in keywords if keywords.count(keyword) > 1})
    if repeated:  # a repeated keyword never decides a title again, and counts twice in topic_of_text
        raise ValueError(f"topic_rules.csv: keywords listed twice: {repeated}")
    return rules


@cache
def _rule_rank() -> dict[str, tuple[int, str]]:
    """keyword → (its rank in topic_rules.csv, its topic); keywords are unique (checked by topic_rules)."""
    return {keyword: (rank, topic) for rank, (topic, keyword) in enumerate(topic_rules())}


def keywords_in(texts: pl.Expr) -> pl.Expr:
    """The keywords of topic_rules.csv that occur in each of `texts`, as a list (every occurrence, overlaps
    included): one Aho-Corasick pass in Polars instead of a substring search per rule and title (ten times
    faster on titles; on node texts, hundreds of characters long, the searches of topic_of_text are faster)."""
    return texts.str.extract_many([keyword for _, keyword in topic_rules()], overlapping=True)


def topic_of_title(title: str | None, present: list[str] | None = None) -> tuple[str, str] | None:
    """(topic, keyword) of the first rule whose keyword occurs in `title`, or None.

    `present`: the keywords that occur in `title` (`keywords_in`), when the caller has them."""
    if not title:
        return None
    if present is not None:
        keyword = min(present, key=_rule_rank().__getitem__, default=None)
        return (_rule_rank()[keyword][1], keyword) if keyword else None
    for topic, keyword in topic_rules():
        if keyword in title:
            return topic, keyword
    return None


def topic_of_text(text: str | None) -> tuple[str, str] | None:
    """(topic, its most frequent keyword) of the topic whose keywords occur most often in `text`, or None."""
    if not text:
        return None
    hits: dict[str, dict[str, int]] = {}
    for topic, keyword in topic_rules():
        count = text.count(keyword)
        if count:
            hits.setdefault(topic, {})[keyword] = count
    if not hits:
        return None
    # dicts keep insertion order = rule order, and max() keeps the first of equal values.
    best = max(hits, key=lambda topic: sum(hits[topic].values()))
    keyword = max(hits[best], key=hits[best].get)
    return best, keyword


def assign_topics(issues: pl.DataFrame) -> pl.DataFrame:
    """`issues` (transforms.structure ISSUE_SCHEMA) with `topic` and `topic_rule` columns added."""
    topics, rules = [], []
    decided_by_title: dict[tuple[str, int], tuple[str, str]] = {}
    rows = issues.select(
        "content_sha256", "node_ordinal", "parent_ordinal", "level", "title", "text",
        keywords_in(pl.col("title")).alias("in_title"),
    )
    for sha, ordinal, parent, level, title, text, in_title in rows.iter_rows():
        found = topic_of_title(title, in_title)
        rule = None
        if found:
            decided_by_title[(sha, ordinal)] = found
            rule = f"title:{found[1]}"
        elif level == "sub_issue" and (sha, parent) in decided_by_title:
            found = decided_by_title[(sha, parent)]
            rule = f"parent:{found[1]}"
        else:
            found = topic_of_text(text)
            rule = f"text:{found[1]}" if found else None
        topics.append(found[0] if found else OTHER)
        rules.append(rule)
    return issues.with_columns(
        pl.Series("topic", topics, dtype=pl.String), pl.Series("topic_rule", rules, dtype=pl.String)
    )
