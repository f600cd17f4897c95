-- zhenggai warehouse: the star schema of DESIGN §4 (the contract other tools rely on), plus source and
-- date tables. Keys are VARCHARs derived from content (see transforms/star.py): the same notice content
-- gives the same keys on every refresh. Keys and foreign keys are not declared as constraints: the
-- Great Expectations gate (expectations/) checks uniqueness and referential integrity on the staged file
-- before publication, which keeps loading fast and lets the gate report every violation at once.

-- Columns of long texts (whole notices, node and measure texts) are stored USING COMPRESSION zstd: DuckDB's
-- default weighs every string compression per row group and compresses with the one it picks (at 10,000
-- notices fact_measure.text took 7 s of CPU to load, 3 s with zstd), and it found none that shrank
-- fact_issue.text, stored uncompressed (0.6 GB of the 1 GB file; the whole file is 0.35 GB with zstd).
-- DuckDB 1.4 clients read zstd columns.
CREATE TABLE raw_notice (
    notice_key      VARCHAR,
    source_name     VARCHAR NOT NULL,
    content_sha256  VARCHAR NOT NULL,
    encoding        VARCHAR NOT NULL,
    raw_text        VARCHAR USING COMPRESSION zstd NOT NULL,
    text            VARCHAR USING COMPRESSION zstd NOT NULL
);
COMMENT ON TABLE raw_notice IS 'Every loaded notice as received: the decoded original text and the normalised text that all character offsets refer to. One row per distinct content.';
COMMENT ON COLUMN raw_notice.notice_key IS 'Key of the notice (first 16 hex digits of content_sha256); joins dim_notice.';
COMMENT ON COLUMN raw_notice.source_name IS 'File name in the landing folder.';
COMMENT ON COLUMN raw_notice.content_sha256 IS 'SHA-256 of the raw bytes of the file.';
COMMENT ON COLUMN raw_notice.encoding IS 'Encoding the bytes were decoded from (utf-8, utf-8-sig, gb18030, utf-16, ...).';
COMMENT ON COLUMN raw_notice.raw_text IS 'The file content decoded as published, before normalisation (the whole page for HTML files).';
COMMENT ON COLUMN raw_notice.text IS 'Normalised text (NFKC width, 笫→第, spacing); char_start/char_end columns of the fact tables index this string (0-based, end exclusive).';

CREATE TABLE dim_organization (
    organization_key VARCHAR,
    name             VARCHAR NOT NULL,
    org_type         VARCHAR,
    province         VARCHAR,
    city             VARCHAR,
    county           VARCHAR,
    township         VARCHAR,
    adcode           VARCHAR
);
COMMENT ON TABLE dim_organization IS 'Inspected organisations (被巡视/巡察单位), one row per name as written in the notices.';
COMMENT ON COLUMN dim_organization.organization_key IS 'Key derived from the name.';
COMMENT ON COLUMN dim_organization.name IS 'The inspected unit as written in the notice opening (e.g. 薛家镇及所辖村(社区)).';
COMMENT ON COLUMN dim_organization.org_type IS 'township, street, county_district, city, development_zone, department, soe, university, village, or NULL when no cue says.';
COMMENT ON COLUMN dim_organization.province IS 'Province (省/自治区/直辖市): from the division table when a named county or city resolves (adcode set), else where the notice names it, else NULL.';
COMMENT ON COLUMN dim_organization.city IS 'Prefecture-level city (市/州) where the notice names it, else NULL.';
COMMENT ON COLUMN dim_organization.county IS 'County-level unit (区/县/县级市) where the notice names it, else NULL.';

CREATE TABLE dim_inspection (
    inspection_key             VARCHAR,
    inspection_kind            VARCHAR,
    inspecting_level           VARCHAR,
    inspecting_body            VARCHAR,
    inspection_start           DATE,
    inspection_start_precision VARCHAR,
    inspection_end             DATE,
    inspection_end_precision   VARCHAR,
    feedback_date              DATE,
    feedback_date_precision    VARCHAR
);
COMMENT ON TABLE dim_inspection IS 'Inspection rounds (巡视/巡察): who inspected, when, and when feedback (反馈) was given. One row per distinct inspection described by a notice.';
COMMENT ON COLUMN dim_inspection.inspection_key IS 'Key derived from kind, body, unit and dates.';
COMMENT ON COLUMN dim_inspection.inspection_kind IS '巡视 (central or provincial committee) or 巡察 (city, county or district committee).';
COMMENT ON COLUMN dim_inspection.inspecting_level IS 'Level of the inspecting committee: 中央, 省委, 市委, 区委, 县委, ...';
COMMENT ON COLUMN dim_inspection.inspecting_body IS 'The inspection group as written (e.g. 省委第九巡视组, 区委第二巡察组).';
COMMENT ON COLUMN dim_inspection.inspection_start IS 'First day of the on-site inspection; for a vague date, the first day of the period.';
COMMENT ON COLUMN dim_inspection.inspection_start_precision IS 'Precision of inspection_start: day, month, early_month (上旬), mid_month (中旬), late_month (下旬), year.';
COMMENT ON COLUMN dim_inspection.inspection_end IS 'Last day of the on-site inspection (first day of the period when vague).';
COMMENT ON COLUMN dim_inspection.inspection_end_precision IS 'Precision of inspection_end (see inspection_start_precision).';
COMMENT ON COLUMN dim_inspection.feedback_date IS 'Date the inspection group gave feedback (反馈) to the inspected unit; omitted years inferred from context.';
COMMENT ON COLUMN dim_inspection.feedback_date_precision IS 'Precision of feedback_date (see inspection_start_precision).';

CREATE TABLE dim_notice (
    notice_key       VARCHAR,
    source_name      VARCHAR NOT NULL,
    content_sha256   VARCHAR NOT NULL,
    title            VARCHAR,
    publisher        VARCHAR,
    publish_date     DATE,
    report_stage     VARCHAR,
    inspection_key   VARCHAR,
    organization_key VARCHAR,
    contact_phones   VARCHAR[],
    contact_emails   VARCHAR[],
    contact_address  VARCHAR,
    char_count       INTEGER NOT NULL
);
COMMENT ON TABLE dim_notice IS 'Rectification notices (整改进展情况通报), one row per distinct notice content.';
COMMENT ON COLUMN dim_notice.notice_key IS 'Key of the notice: first 16 hex digits of content_sha256, stable across refreshes.';
COMMENT ON COLUMN dim_notice.source_name IS 'File name in the landing folder.';
COMMENT ON COLUMN dim_notice.content_sha256 IS 'SHA-256 of the raw bytes of the file.';
COMMENT ON COLUMN dim_notice.title IS 'Title line when the notice has one, else NULL (never invented).';
COMMENT ON COLUMN dim_notice.publisher IS 'Signing organisation (e.g. 中共常州市新北区薛家镇委员会), from the signature or the title.';
COMMENT ON COLUMN dim_notice.publish_date IS 'Signature date at the end of the notice, else NULL.';
COMMENT ON COLUMN dim_notice.report_stage IS 'What is published, as stated: 整改情况, 整改进展情况, 整改阶段性进展情况, ...';
COMMENT ON COLUMN dim_notice.inspection_key IS 'The inspection this notice reports on (dim_inspection).';
COMMENT ON COLUMN dim_notice.organization_key IS 'The inspected organisation (dim_organization).';
COMMENT ON COLUMN dim_notice.contact_phones IS 'Phone numbers given for supervision and feedback.';
COMMENT ON COLUMN dim_notice.contact_emails IS 'E-mail addresses given for supervision and feedback.';
COMMENT ON COLUMN dim_notice.contact_address IS 'Postal address (邮政信箱/地址) given for feedback.';
COMMENT ON COLUMN dim_notice.char_count IS 'Length of the normalised text in characters.';

CREATE TABLE fact_issue (
    issue_key           VARCHAR,
    notice_key          VARCHAR NOT NULL,
    parent_issue_key    VARCHAR,
    level               VARCHAR NOT NULL,
    number              VARCHAR,
    title               VARCHAR NOT NULL,
    status              VARCHAR,
    status_phrase       VARCHAR,
    status_source       VARCHAR,
    expected_completion DATE,
    topic               VARCHAR,
    measure_count       INTEGER NOT NULL,
    node_ordinal        INTEGER NOT NULL,
    text                VARCHAR USING COMPRESSION zstd,
    char_start          BIGINT NOT NULL,
    char_end            BIGINT NOT NULL,
    topic_rule          VARCHAR
);
COMMENT ON TABLE fact_issue IS 'The problem hierarchy of each notice: categories (问题类别), issues (反馈问题) and sub-issues (具体问题), with their rectification status.';
COMMENT ON COLUMN fact_issue.issue_key IS 'Key: notice_key, ''-i'' and the node ordinal; stable for the same content.';
COMMENT ON COLUMN fact_issue.notice_key IS 'The notice (dim_notice).';
COMMENT ON COLUMN fact_issue.parent_issue_key IS 'The enclosing node (a category for an issue, an issue for a sub-issue); NULL at the top.';
COMMENT ON COLUMN fact_issue.level IS 'category, issue or sub_issue.';
COMMENT ON COLUMN fact_issue.number IS 'Label as written: 一 / (一) / 1 / (1).';
COMMENT ON COLUMN fact_issue.title IS 'The problem statement, without the 关于“…”问题的整改 wrapper.';
COMMENT ON COLUMN fact_issue.status IS 'Normalised status: completed, completed_long_term, basically_completed, in_progress, long_term, not_feasible; NULL when the notice does not say.';
COMMENT ON COLUMN fact_issue.status_phrase IS 'The status phrase as written (e.g. 已完成整改并长期坚持).';
COMMENT ON COLUMN fact_issue.status_source IS 'Where the status was read: section_heading, status_line or text.';
COMMENT ON COLUMN fact_issue.expected_completion IS 'Expected completion date when stated (预计2023年12月完成 → 2023-12-01).';
COMMENT ON COLUMN fact_issue.topic IS 'Topic of the node (dim_topic.topic; ''other'' when no keyword rule matched), see transforms/topics.py.';
COMMENT ON COLUMN fact_issue.measure_count IS 'Number of rows in fact_measure for this node.';
COMMENT ON COLUMN fact_issue.node_ordinal IS 'Position of the node in the notice, 0-based in reading order.';
COMMENT ON COLUMN fact_issue.text IS 'The node''s own text: from the end of its heading to the next node.';
COMMENT ON COLUMN fact_issue.char_start IS 'Offset of the node (heading included) in raw_notice.text.';
COMMENT ON COLUMN fact_issue.char_end IS 'End offset (exclusive) of the node in raw_notice.text.';

CREATE TABLE fact_measure (
    measure_key VARCHAR,
    issue_key   VARCHAR NOT NULL,
    notice_key  VARCHAR NOT NULL,
    ordinal     INTEGER NOT NULL,
    label       VARCHAR,
    phase       VARCHAR NOT NULL,
    text        VARCHAR USING COMPRESSION zstd NOT NULL,
    char_start  BIGINT NOT NULL,
    char_end    BIGINT NOT NULL
);
COMMENT ON TABLE fact_measure IS 'Rectification measures (整改措施), one row per enumerated measure (一是…, (1)…) or unenumerated block.';
COMMENT ON COLUMN fact_measure.measure_key IS 'Key: issue_key, ''-m'' and the ordinal.';
COMMENT ON COLUMN fact_measure.issue_key IS 'The issue or sub-issue the measure answers (fact_issue).';
COMMENT ON COLUMN fact_measure.notice_key IS 'The notice (dim_notice).';
COMMENT ON COLUMN fact_measure.ordinal IS 'Position of the measure within its issue, from 1.';
COMMENT ON COLUMN fact_measure.label IS 'Enumeration label as written (一是, (12), 一方面), NULL for an unenumerated block.';
COMMENT ON COLUMN fact_measure.phase IS 'done (what was done: 整改情况, 整改结果及成效) or next_step (下一步推进举措).';
COMMENT ON COLUMN fact_measure.text IS 'Text of the measure.';
COMMENT ON COLUMN fact_measure.char_start IS 'Offset of the measure in raw_notice.text.';
COMMENT ON COLUMN fact_measure.char_end IS 'End offset (exclusive) of the measure in raw_notice.text.';

CREATE TABLE fact_indicator (
    indicator_key VARCHAR,
    notice_key    VARCHAR NOT NULL,
    issue_key     VARCHAR,
    measure_key   VARCHAR,
    value         DOUBLE NOT NULL,
    unit          VARCHAR NOT NULL,
    value_base    DOUBLE,
    base_unit     VARCHAR,
    qualifier     VARCHAR,
    direction     VARCHAR,
    metric        VARCHAR NOT NULL,
    quote         VARCHAR NOT NULL,
    char_start    BIGINT NOT NULL,
    char_end      BIGINT NOT NULL,
    value_low     DOUBLE NOT NULL,
    value_high    DOUBLE NOT NULL,
    dimension     VARCHAR,
    metric_rule   VARCHAR,
    period        VARCHAR,
    period_start  DATE,
    period_end    DATE
);
COMMENT ON TABLE fact_indicator IS 'Quantitative indicators: every figure with a unit found in issue and measure text.';
COMMENT ON COLUMN fact_indicator.indicator_key IS 'Key: notice_key, ''-x'' and the character offset of the mention.';
COMMENT ON COLUMN fact_indicator.notice_key IS 'The notice (dim_notice).';
COMMENT ON COLUMN fact_indicator.issue_key IS 'The issue node whose text holds the figure (fact_issue); NULL for a figure outside every issue node (the opening, the organisation of the work, the claimed totals, the closing).';
COMMENT ON COLUMN fact_indicator.measure_key IS 'The measure whose text holds the figure (fact_measure), NULL outside measures.';
COMMENT ON COLUMN fact_indicator.value IS 'The number as written, in the unit as written (3700余件 → 3700).';
COMMENT ON COLUMN fact_indicator.unit IS 'The unit as written (件, 万元, %, 个百分点, 亩, ...).';
COMMENT ON COLUMN fact_indicator.value_base IS 'The value in base_unit, computed with exact decimals (16.4亿元 → 1640000000).';
COMMENT ON COLUMN fact_indicator.base_unit IS 'Base unit: CNY, USD, count, mu, m2, percent, percentage_point, day, ...';
COMMENT ON COLUMN fact_indicator.qualifier IS 'at_least (余, 多, 以上, 超), approx (约, 近, 左右) or NULL.';
COMMENT ON COLUMN fact_indicator.direction IS 'increase (增长, 上升, 提高) or decrease (下降, 减少, 压减) when the figure is a change, else NULL.';
COMMENT ON COLUMN fact_indicator.metric IS 'What the figure measures (dim_metric vocabulary), ''other'' when no rule matches.';
COMMENT ON COLUMN fact_indicator.quote IS 'The exact text of the mention.';
COMMENT ON COLUMN fact_indicator.char_start IS 'Offset of the quote in raw_notice.text.';
COMMENT ON COLUMN fact_indicator.char_end IS 'End offset (exclusive) of the quote in raw_notice.text.';
COMMENT ON COLUMN fact_indicator.value_low IS 'Lower end of the figure in the written unit: the first number of a range (3-5个 → 3), else value.';
COMMENT ON COLUMN fact_indicator.value_high IS 'Upper end of the figure in the written unit: the second number of a range (3-5个 → 5), else value. value and value_base hold the lower end.';
COMMENT ON COLUMN fact_indicator.dimension IS 'What the unit measures: count, people, money, area, percent, percentage_point, time, concentration, fraction (19/25), number (a bare 16.72万), ...';
COMMENT ON COLUMN fact_indicator.metric_rule IS 'The rule of transforms/metrics.csv that set metric: ''keyword 处分 (people)'' (a keyword near the figure, for that unit dimension) or ''dimension percent'' (a fallback by dimension); NULL when metric is ''other''.';
COMMENT ON COLUMN fact_indicator.period IS 'The period phrase the figure refers to, as written in its sentence (2021年, 2021年1—6月, 截至6月30日, 今年以来); NULL when the sentence states none.';
COMMENT ON COLUMN fact_indicator.period_start IS 'First day of period when the phrase states its year (2021年1—6月 → 2021-01-01); NULL for a cumulative 截至 phrase or a phrase without a year.';
COMMENT ON COLUMN fact_indicator.period_end IS 'Last day of period when the phrase states its year (2021年1—6月 → 2021-06-30, 截至2021年底 → 2021-12-31); NULL for 以来 or a phrase without a year.';

CREATE TABLE dim_metric (
    metric       VARCHAR,
    name         VARCHAR NOT NULL,
    name_zh      VARCHAR NOT NULL,
    dimension    VARCHAR,
    description  VARCHAR NOT NULL,
    keyword_rule VARCHAR NOT NULL,
    rule_count   INTEGER NOT NULL
);
COMMENT ON TABLE dim_metric IS 'What an indicator measures: the metric catalogue (transforms/metric_catalogue.csv) with its keyword rules (transforms/metrics.csv). fact_indicator.metric joins metric.';
COMMENT ON COLUMN dim_metric.metric IS 'Metric code (people_disciplined, funds_recovered, petitions, rules_created, ..., other).';
COMMENT ON COLUMN dim_metric.name IS 'English name of the metric.';
COMMENT ON COLUMN dim_metric.name_zh IS 'Chinese name of the metric (受处理处分人数, 追缴挽损资金, ...).';
COMMENT ON COLUMN dim_metric.dimension IS 'The unit dimension the metric is about (people, money, percent, area); NULL when figures of several dimensions qualify.';
COMMENT ON COLUMN dim_metric.description IS 'What the metric counts, with example keywords.';
COMMENT ON COLUMN dim_metric.keyword_rule IS 'The keyword rules, grouped by the unit dimension they apply to (any: every dimension; (any figure): a fallback by dimension). In the figure''s clause a keyword marked * wins, else the keyword nearest the figure, else the longer keyword.';
COMMENT ON COLUMN dim_metric.rule_count IS 'Number of keyword rules of the metric in transforms/metrics.csv.';

CREATE TABLE fact_claim (
    claim_key     VARCHAR,
    notice_key    VARCHAR NOT NULL,
    subject       VARCHAR NOT NULL,
    status        VARCHAR,
    claimed_count BIGINT NOT NULL,
    parsed_count  BIGINT,
    reconciled    BOOLEAN,
    quote         VARCHAR NOT NULL,
    char_start    BIGINT NOT NULL,
    char_end      BIGINT NOT NULL
);
COMMENT ON TABLE fact_claim IS 'Summary counts a notice claims (共计15个问题已完成整改), beside the count parsed from its hierarchy. Disagreements are recorded, not corrected.';
COMMENT ON COLUMN fact_claim.claim_key IS 'Key: notice_key, ''-c'' and the character offset of the claim.';
COMMENT ON COLUMN fact_claim.notice_key IS 'The notice (dim_notice).';
COMMENT ON COLUMN fact_claim.subject IS 'What is counted: issues, categories, measures, ...';
COMMENT ON COLUMN fact_claim.status IS 'Status the count refers to (status codes of fact_issue), NULL for a total.';
COMMENT ON COLUMN fact_claim.claimed_count IS 'The count the notice states.';
COMMENT ON COLUMN fact_claim.parsed_count IS 'The count found in the parsed hierarchy, NULL when the hierarchy cannot say.';
COMMENT ON COLUMN fact_claim.reconciled IS 'claimed_count = parsed_count; NULL when parsed_count is NULL.';
COMMENT ON COLUMN fact_claim.quote IS 'The exact text of the claim.';
COMMENT ON COLUMN fact_claim.char_start IS 'Offset of the quote in raw_notice.text.';
COMMENT ON COLUMN fact_claim.char_end IS 'End offset (exclusive) of the quote in raw_notice.text.';

CREATE TABLE quarantine_notice (
    source_name    VARCHAR NOT NULL,
    content_sha256 VARCHAR NOT NULL,
    reason         VARCHAR NOT NULL,
    raw_text       VARCHAR,
    raw_bytes      BLOB NOT NULL,
    quarantined_at TIMESTAMP WITH TIME ZONE NOT NULL
);
COMMENT ON TABLE quarantine_notice IS 'Notices that could not be read or parsed, with the reason; nothing is dropped silently.';
COMMENT ON COLUMN quarantine_notice.source_name IS 'File name in the landing folder.';
COMMENT ON COLUMN quarantine_notice.content_sha256 IS 'SHA-256 of the raw bytes.';
COMMENT ON COLUMN quarantine_notice.reason IS 'Why the notice was not loaded.';
COMMENT ON COLUMN quarantine_notice.raw_text IS 'The text as far as it could be decoded (NULL for binary content).';
COMMENT ON COLUMN quarantine_notice.raw_bytes IS 'The file''s bytes exactly as received.';
COMMENT ON COLUMN quarantine_notice.quarantined_at IS 'When this content was first quarantined (kept across refreshes).';

CREATE TABLE dim_date (
    date_key     DATE,
    year         INTEGER NOT NULL,
    quarter      INTEGER NOT NULL,
    month        INTEGER NOT NULL,
    day          INTEGER NOT NULL,
    iso_week     INTEGER NOT NULL,
    day_of_week  INTEGER NOT NULL,
    year_month   VARCHAR NOT NULL
);
COMMENT ON TABLE dim_date IS 'Calendar covering every date in the warehouse (whole years), for BI date hierarchies.';
COMMENT ON COLUMN dim_date.date_key IS 'The date; joins every DATE column of the dimensions and facts.';
COMMENT ON COLUMN dim_date.year IS 'Calendar year.';
COMMENT ON COLUMN dim_date.quarter IS 'Quarter 1-4.';
COMMENT ON COLUMN dim_date.month IS 'Month 1-12.';
COMMENT ON COLUMN dim_date.day IS 'Day of month.';
COMMENT ON COLUMN dim_date.iso_week IS 'ISO week number.';
COMMENT ON COLUMN dim_date.day_of_week IS 'ISO day of week, 1 = Monday.';
COMMENT ON COLUMN dim_date.year_month IS 'YYYY-MM, for monthly grouping.';

-- Topic taxonomy (issue 7): codes and keyword rules in transforms/topics.csv and transforms/topic_rules.csv
-- (fact_issue.topic, fact_issue.topic_rule).
COMMENT ON COLUMN fact_issue.topic_rule IS 'What decided the topic: title:<keyword> (own title), parent:<keyword> (a sub-issue inheriting its parent issue''s title topic), text:<keyword> (most keyword hits in the node''s text); NULL when the topic is ''other''.';

CREATE TABLE dim_topic (
    topic       VARCHAR,
    name        VARCHAR NOT NULL,
    name_zh     VARCHAR NOT NULL,
    description VARCHAR NOT NULL
);
COMMENT ON TABLE dim_topic IS 'Taxonomy of what inspections find (问题领域); every fact_issue.topic is one of these codes.';
COMMENT ON COLUMN dim_topic.topic IS 'Topic code (e.g. eight_rules_four_winds); ''other'' for nodes no rule matched.';
COMMENT ON COLUMN dim_topic.name IS 'English name of the topic.';
COMMENT ON COLUMN dim_topic.name_zh IS 'Chinese name of the topic (e.g. 中央八项规定精神和“四风”).';
COMMENT ON COLUMN dim_topic.description IS 'What the topic covers.';

CREATE TABLE parse_report (
    notice_key             VARCHAR,
    numbering              VARCHAR,
    measure_numbering      VARCHAR,
    category_count         INTEGER NOT NULL,
    issue_count            INTEGER NOT NULL,
    sub_issue_count        INTEGER NOT NULL,
    measure_count          INTEGER NOT NULL,
    indicator_count        INTEGER NOT NULL,
    claim_count            INTEGER NOT NULL,
    problem_level          VARCHAR,
    problems_with_status   INTEGER NOT NULL,
    status_sources         VARCHAR,
    claims_checked         INTEGER NOT NULL,
    claims_reconciled      INTEGER NOT NULL,
    issue_total_claimed    BIGINT,
    issue_total_reconciled BOOLEAN,
    found                  VARCHAR[] NOT NULL,
    missing                VARCHAR[] NOT NULL,
    confidence             VARCHAR NOT NULL,
    confidence_reason      VARCHAR NOT NULL
);
COMMENT ON TABLE parse_report IS 'What the parser understood of each loaded notice, and how far to trust it (confidence); filter on confidence before analysing. Rule in transforms/parse_report.py.';
COMMENT ON COLUMN parse_report.notice_key IS 'The notice (dim_notice).';
COMMENT ON COLUMN parse_report.numbering IS 'Numbering systems of the hierarchy as nested in the notice, top down (e.g. category:cn_paren > issue:arabic > sub_issue:arabic_paren); NULL when no node was found.';
COMMENT ON COLUMN parse_report.measure_numbering IS 'How measures are enumerated: arabic_paren ((1)…), inline (一是…二是…), … ; NULL when measures carry no label.';
COMMENT ON COLUMN parse_report.category_count IS 'Category nodes (问题类别) in fact_issue.';
COMMENT ON COLUMN parse_report.issue_count IS 'Issue nodes (反馈问题) in fact_issue.';
COMMENT ON COLUMN parse_report.sub_issue_count IS 'Sub-issue nodes (具体问题) in fact_issue.';
COMMENT ON COLUMN parse_report.measure_count IS 'Rows in fact_measure.';
COMMENT ON COLUMN parse_report.indicator_count IS 'Rows in fact_indicator.';
COMMENT ON COLUMN parse_report.claim_count IS 'Rows in fact_claim.';
COMMENT ON COLUMN parse_report.problem_level IS 'The finest level with nodes (sub_issue, else issue), whose nodes are the counted problems; NULL when none.';
COMMENT ON COLUMN parse_report.problems_with_status IS 'Problems (nodes of problem_level) with a status.';
COMMENT ON COLUMN parse_report.status_sources IS 'Where those statuses were read, comma-separated: section_heading, status_line, text.';
COMMENT ON COLUMN parse_report.claims_checked IS 'Claims the hierarchy can count (fact_claim.parsed_count not NULL).';
COMMENT ON COLUMN parse_report.claims_reconciled IS 'Of those, claims whose claimed count equals the parsed count.';
COMMENT ON COLUMN parse_report.issue_total_claimed IS 'The largest total number of problems the notice claims (fact_claim subject issues, no status); NULL when it claims none.';
COMMENT ON COLUMN parse_report.issue_total_reconciled IS 'A claimed total of problems equals the number of problem nodes; NULL when no total is claimed.';
COMMENT ON COLUMN parse_report.found IS 'What was found among hierarchy, statuses, measures, claims, indicators, title, publisher, publish_date, inspected_unit, inspecting_body, feedback_date.';
COMMENT ON COLUMN parse_report.missing IS 'What of the same list was not found.';
COMMENT ON COLUMN parse_report.confidence IS 'high (nodes corroborated by a reconciled total or complete statuses), medium (nodes found, not corroborated), low (no nodes, or fewer than half the claimed problems).';
COMMENT ON COLUMN parse_report.confidence_reason IS 'Why the confidence was given, in words.';

CREATE TABLE fact_claim_rate (
    rate_key         VARCHAR,
    notice_key       VARCHAR NOT NULL,
    stated_percent   DOUBLE NOT NULL,
    computed_percent DOUBLE,
    total_count      BIGINT,
    completed_count  BIGINT,
    agrees           BOOLEAN,
    quote            VARCHAR NOT NULL,
    char_start       BIGINT NOT NULL,
    char_end         BIGINT NOT NULL
);
COMMENT ON TABLE fact_claim_rate IS 'Completion rates a notice states (总体完成率98.71%), recomputed from the counts it claims on the same line (transforms/claim_rates.py).';
COMMENT ON COLUMN fact_claim_rate.rate_key IS 'Key: notice_key, ''-r'' and char_start; stable for the same content.';
COMMENT ON COLUMN fact_claim_rate.notice_key IS 'The notice (dim_notice).';
COMMENT ON COLUMN fact_claim_rate.stated_percent IS 'The rate as stated, in percent (98.71).';
COMMENT ON COLUMN fact_claim_rate.computed_percent IS '100 × completed_count / total_count; NULL when the line claims no total or no completed count before the rate.';
COMMENT ON COLUMN fact_claim_rate.total_count IS 'The last total of problems claimed on the line before the rate (fact_claim, subject issues, no status).';
COMMENT ON COLUMN fact_claim_rate.completed_count IS 'Problems claimed completed (completed or completed_long_term) after that total and before the rate.';
COMMENT ON COLUMN fact_claim_rate.agrees IS 'stated and computed differ by less than one unit of the last stated decimal (rounding or truncation); NULL when not computable.';
COMMENT ON COLUMN fact_claim_rate.quote IS 'The exact text of the rate.';
COMMENT ON COLUMN fact_claim_rate.char_start IS 'Offset of the quote in raw_notice.text.';
COMMENT ON COLUMN fact_claim_rate.char_end IS 'End offset (exclusive) of the quote in raw_notice.text.';

-- Places looked up in the administrative-division code table shipped by the cpca package (transforms/places.py).
COMMENT ON COLUMN dim_organization.township IS 'Township or street (镇 / 乡 / 街道) written right after the county or city in the name (薛家镇); NULL when not stated.';
COMMENT ON COLUMN dim_organization.adcode IS 'Administrative division code (12 digits) of the finest level resolved in the division table; NULL when the names were not found in it (places then come from the name suffixes only).';
