-- Marts: denormalised tables for BI tools and analysts (Superset, Metabase, DBeaver, pandas). Each has a
-- stated grain (README "Marts") and reads only the contract tables of 01_schema.sql. They are built here, in
-- the staging file, once the contract tables are loaded (warehouse/store.py runs this file after the load),
-- so the gate validates the file they are in and they are never stale: every refresh rebuilds the file.
-- Built once rather than recomputed by every query, they answer dashboards at corpus scale (mart_issue alone
-- aggregates every measure and indicator). Only SQL that DuckDB 1.4 clients understand, as for every object
-- of the published file.

-- ===========================================================================================================
-- HEADLINE METRICS — the one place that names metric codes of transforms/metrics.csv.
-- When the metric vocabulary changes, edit this VALUES list only: the headline column names of mart_notice
-- (people_disciplined, funds_recovered_cny, ...) stay the same for dashboards.
-- ===========================================================================================================
CREATE TABLE mart_headline_metric AS
SELECT * FROM (VALUES
    ('people_disciplined', 'people_disciplined',  'count', '处理/问责人数',   'People disciplined or held accountable'),
    ('cases_and_clues',    'cases_and_clues',     'count', '问题线索与案件', 'Cases and leads handled'),
    ('petitions',          'petitions',           'count', '信访件',         'Petitions and complaints handled'),
    ('rules_created',      'rules_created',       'count', '制度机制',       'Rules and mechanisms created or revised'),
    ('meetings',           'meetings_trainings',  'count', '会议与培训',     'Meetings, trainings and study sessions'),
    ('trainings',          'meetings_trainings',  'count', '会议与培训',     'Meetings, trainings and study sessions'),
    ('funds_recovered',    'funds_recovered_cny', 'CNY',   '挽回/追缴资金',  'Funds recovered (CNY)'),
    ('funds',              'funds_cny',           'CNY',   '资金投入',       'Funds spent or allocated (CNY)'),
    ('investment',         'investment_cny',      'CNY',   '投资',           'Investment (CNY)')
) AS headline(metric, headline, base_unit, label_zh, label_en);
COMMENT ON TABLE mart_headline_metric IS 'One row per metric counted into a headline figure: which fact_indicator metric, in which base unit, is summed into which mart_notice column (several metrics may feed one headline). The only place where marts name metric codes.';
COMMENT ON COLUMN mart_headline_metric.metric IS 'Metric code of fact_indicator.metric (transforms/metrics.csv).';
COMMENT ON COLUMN mart_headline_metric.headline IS 'Column of mart_notice holding the sum, and value of mart_indicator.headline.';
COMMENT ON COLUMN mart_headline_metric.base_unit IS 'Only figures in this base unit are summed (a count and an amount of money never add up).';
COMMENT ON COLUMN mart_headline_metric.label_zh IS 'Chinese label for reports and dashboards.';
COMMENT ON COLUMN mart_headline_metric.label_en IS 'English label for reports and dashboards.';

-- One row per issue node that is a problem (issue or sub-issue), with its place in the hierarchy.
CREATE TABLE mart_issue AS
WITH children AS (
    SELECT parent_issue_key AS issue_key, count(*) AS child_nodes
    FROM fact_issue WHERE parent_issue_key IS NOT NULL GROUP BY parent_issue_key
), measures AS (
    SELECT issue_key, count(*) AS measures,
           count(*) FILTER (WHERE phase = 'done') AS measures_done,
           count(*) FILTER (WHERE phase = 'next_step') AS measures_next_step
    FROM fact_measure GROUP BY issue_key
), indicators AS (
    SELECT issue_key, count(*) AS indicators, list_sort(list_distinct(list(metric))) AS indicator_metrics
    FROM fact_indicator WHERE issue_key IS NOT NULL GROUP BY issue_key
)
SELECT f.issue_key, f.notice_key, n.source_name, o.name AS organization, n.publish_date,
       f.level, f.number, f.title,
       CASE WHEN p.level = 'category' THEN p.issue_key WHEN g.level = 'category' THEN g.issue_key END AS category_key,
       CASE WHEN p.level = 'category' THEN p.title WHEN g.level = 'category' THEN g.title END AS category_title,
       f.parent_issue_key,
       CASE WHEN p.level <> 'category' THEN p.title END AS parent_issue_title,
       coalesce(c.child_nodes, 0) = 0 AS is_leaf,
       f.topic, f.status, f.status_phrase, f.status_source,
       CASE WHEN f.status IN ('completed', 'completed_long_term') THEN 'completed'
            WHEN f.status = 'basically_completed' THEN 'basically_completed'
            WHEN f.status IN ('in_progress', 'long_term') THEN 'open'
            WHEN f.status = 'not_feasible' THEN 'not_feasible'
            ELSE 'unknown' END AS status_group,
       f.status IN ('completed', 'completed_long_term') AS is_completed,
       f.expected_completion,
       coalesce(m.measures, 0) AS measures, coalesce(m.measures_done, 0) AS measures_done,
       coalesce(m.measures_next_step, 0) AS measures_next_step,
       coalesce(x.indicators, 0) AS indicators, coalesce(x.indicator_metrics, []) AS indicator_metrics,
       f.node_ordinal
FROM fact_issue f
JOIN dim_notice n USING (notice_key)
LEFT JOIN dim_organization o USING (organization_key)
LEFT JOIN fact_issue p ON p.issue_key = f.parent_issue_key
LEFT JOIN fact_issue g ON g.issue_key = p.parent_issue_key
LEFT JOIN children c ON c.issue_key = f.issue_key
LEFT JOIN measures m ON m.issue_key = f.issue_key
LEFT JOIN indicators x ON x.issue_key = f.issue_key
WHERE f.level <> 'category';
COMMENT ON TABLE mart_issue IS 'One row per problem (issue or sub-issue node of fact_issue; categories appear as category_title): status, topic, measures and indicators. Count problems with WHERE is_leaf to avoid counting an issue and its sub-issues twice.';
COMMENT ON COLUMN mart_issue.issue_key IS 'The issue node (fact_issue).';
COMMENT ON COLUMN mart_issue.notice_key IS 'The notice (dim_notice).';
COMMENT ON COLUMN mart_issue.source_name IS 'File name of the notice.';
COMMENT ON COLUMN mart_issue.organization IS 'The inspected unit as written.';
COMMENT ON COLUMN mart_issue.publish_date IS 'Signature date of the notice, NULL when unsigned.';
COMMENT ON COLUMN mart_issue.level IS 'issue or sub_issue.';
COMMENT ON COLUMN mart_issue.number IS 'Label as written: 1 / (1).';
COMMENT ON COLUMN mart_issue.title IS 'The problem statement.';
COMMENT ON COLUMN mart_issue.category_key IS 'The enclosing category node (问题类别), NULL when the notice has no categories.';
COMMENT ON COLUMN mart_issue.category_title IS 'Title of the enclosing category, NULL when none.';
COMMENT ON COLUMN mart_issue.parent_issue_key IS 'The enclosing node (a category or, for a sub-issue, its issue).';
COMMENT ON COLUMN mart_issue.parent_issue_title IS 'Title of the enclosing issue for a sub-issue, NULL for an issue.';
COMMENT ON COLUMN mart_issue.is_leaf IS 'True when no node lies below this one: the finest problem the notice lists (具体问题 where given).';
COMMENT ON COLUMN mart_issue.topic IS 'Topic of the issue (fact_issue.topic).';
COMMENT ON COLUMN mart_issue.status IS 'Normalised status code, NULL when the notice does not say.';
COMMENT ON COLUMN mart_issue.status_phrase IS 'The status phrase as written.';
COMMENT ON COLUMN mart_issue.status_source IS 'Where the status was read: section_heading, status_line or text.';
COMMENT ON COLUMN mart_issue.status_group IS 'completed (incl. completed_long_term), basically_completed, open (in_progress, long_term), not_feasible or unknown.';
COMMENT ON COLUMN mart_issue.is_completed IS 'Status is completed or completed_long_term; NULL when the status is unknown.';
COMMENT ON COLUMN mart_issue.expected_completion IS 'Expected completion date when stated.';
COMMENT ON COLUMN mart_issue.measures IS 'Measures answering this node (both phases).';
COMMENT ON COLUMN mart_issue.measures_done IS 'Measures in the done phase (整改情况).';
COMMENT ON COLUMN mart_issue.measures_next_step IS 'Measures in the next_step phase (下一步).';
COMMENT ON COLUMN mart_issue.indicators IS 'Figures found in this node''s own text (not its sub-issues).';
COMMENT ON COLUMN mart_issue.indicator_metrics IS 'Distinct metrics of those figures, sorted.';
COMMENT ON COLUMN mart_issue.node_ordinal IS 'Position of the node in the notice, for reading order.';

-- One row per figure, with the notice, issue and measure it belongs to.
CREATE TABLE mart_indicator AS
SELECT x.indicator_key, x.notice_key, n.source_name, o.name AS organization, n.publish_date,
       x.issue_key, f.level AS issue_level, f.number AS issue_number, f.title AS issue_title,
       f.status AS issue_status, f.topic,
       x.measure_key, m.phase AS measure_phase,
       x.metric, h.headline,
       x.value, x.unit, x.value_base, x.base_unit, x.qualifier, x.direction, x.quote
FROM fact_indicator x
JOIN dim_notice n USING (notice_key)
LEFT JOIN dim_organization o USING (organization_key)
LEFT JOIN fact_issue f ON f.issue_key = x.issue_key
LEFT JOIN fact_measure m ON m.measure_key = x.measure_key
-- Same rule as the headline sums of mart_notice: changes (增长/下降) count towards no headline.
LEFT JOIN mart_headline_metric h ON h.metric = x.metric AND h.base_unit = x.base_unit AND x.direction IS NULL;
COMMENT ON TABLE mart_indicator IS 'One row per figure (fact_indicator): metric and value in its base unit, with the notice, issue and measure it was quoted in.';
COMMENT ON COLUMN mart_indicator.indicator_key IS 'The figure (fact_indicator).';
COMMENT ON COLUMN mart_indicator.notice_key IS 'The notice (dim_notice).';
COMMENT ON COLUMN mart_indicator.source_name IS 'File name of the notice.';
COMMENT ON COLUMN mart_indicator.organization IS 'The inspected unit as written.';
COMMENT ON COLUMN mart_indicator.publish_date IS 'Signature date of the notice.';
COMMENT ON COLUMN mart_indicator.issue_key IS 'The issue node whose text holds the figure.';
COMMENT ON COLUMN mart_indicator.issue_level IS 'Level of that node: category, issue or sub_issue.';
COMMENT ON COLUMN mart_indicator.issue_number IS 'Label of that node as written.';
COMMENT ON COLUMN mart_indicator.issue_title IS 'Title of that node.';
COMMENT ON COLUMN mart_indicator.issue_status IS 'Status code of that node.';
COMMENT ON COLUMN mart_indicator.topic IS 'Topic of that node.';
COMMENT ON COLUMN mart_indicator.measure_key IS 'The measure whose text holds the figure, NULL outside measures.';
COMMENT ON COLUMN mart_indicator.measure_phase IS 'Phase of that measure: done or next_step.';
COMMENT ON COLUMN mart_indicator.metric IS 'What the figure measures (fact_indicator.metric).';
COMMENT ON COLUMN mart_indicator.headline IS 'The mart_notice headline column this figure counts towards (see mart_headline_metric), NULL when none or when the figure is a change.';
COMMENT ON COLUMN mart_indicator.value IS 'The number as written.';
COMMENT ON COLUMN mart_indicator.unit IS 'The unit as written.';
COMMENT ON COLUMN mart_indicator.value_base IS 'The value in base_unit.';
COMMENT ON COLUMN mart_indicator.base_unit IS 'Base unit: CNY, count, mu, percent, ...';
COMMENT ON COLUMN mart_indicator.qualifier IS 'at_least, approx or NULL.';
COMMENT ON COLUMN mart_indicator.direction IS 'increase or decrease when the figure is a change, else NULL.';
COMMENT ON COLUMN mart_indicator.quote IS 'The exact text of the mention.';

-- One row per notice: who, by whom, when, how far along, and the headline figures.
CREATE TABLE mart_notice AS
WITH nodes AS (
    SELECT f.notice_key, f.level, f.status,
           NOT EXISTS (SELECT 1 FROM fact_issue c WHERE c.parent_issue_key = f.issue_key) AS is_leaf
    FROM fact_issue f
), parsed AS (
    SELECT notice_key,
           count(*) FILTER (WHERE level = 'category') AS parsed_categories,
           count(*) FILTER (WHERE level <> 'category' AND is_leaf) AS parsed_issues,
           count(*) FILTER (WHERE level <> 'category' AND is_leaf AND status IN ('completed', 'completed_long_term')) AS parsed_completed,
           count(*) FILTER (WHERE level <> 'category' AND is_leaf AND status = 'basically_completed') AS parsed_basically_completed,
           count(*) FILTER (WHERE level <> 'category' AND is_leaf AND status IN ('in_progress', 'long_term')) AS parsed_open,
           count(*) FILTER (WHERE level <> 'category' AND is_leaf AND status = 'not_feasible') AS parsed_not_feasible,
           count(*) FILTER (WHERE level <> 'category' AND is_leaf AND status IS NULL) AS parsed_status_unknown
    FROM nodes GROUP BY notice_key
), claims AS (
    SELECT notice_key,
           arg_min(claimed_count, char_start) FILTER (WHERE subject = 'issues' AND status IS NULL) AS claimed_issues,
           sum(claimed_count) FILTER (WHERE subject = 'issues' AND status IN ('completed', 'completed_long_term')) AS claimed_completed,
           sum(claimed_count) FILTER (WHERE subject = 'issues' AND status IS NOT NULL) AS claimed_by_status,
           count(DISTINCT status) FILTER (WHERE subject = 'issues') AS claimed_statuses,
           arg_min(claimed_count, char_start) FILTER (WHERE subject = 'measures' AND status IS NULL) AS claimed_measures,
           count(*) AS claims,
           count(*) FILTER (WHERE reconciled) AS claims_reconciled,
           count(*) FILTER (WHERE NOT reconciled) AS claims_disagreeing
    FROM fact_claim GROUP BY notice_key
), measures AS (
    SELECT notice_key, count(*) AS parsed_measures FROM fact_measure GROUP BY notice_key
), figures AS (
    -- Levels only: a change (增长/下降 …) is not an amount and would not add up with amounts.
    SELECT x.notice_key, count(*) AS indicators,
           sum(x.value_base) FILTER (WHERE h.headline = 'people_disciplined') AS people_disciplined,
           sum(x.value_base) FILTER (WHERE h.headline = 'cases_and_clues') AS cases_and_clues,
           sum(x.value_base) FILTER (WHERE h.headline = 'petitions') AS petitions,
           sum(x.value_base) FILTER (WHERE h.headline = 'rules_created') AS rules_created,
           sum(x.value_base) FILTER (WHERE h.headline = 'meetings_trainings') AS meetings_trainings,
           sum(x.value_base) FILTER (WHERE h.headline = 'funds_recovered_cny') AS funds_recovered_cny,
           sum(x.value_base) FILTER (WHERE h.headline = 'funds_cny') AS funds_cny,
           sum(x.value_base) FILTER (WHERE h.headline = 'investment_cny') AS investment_cny
    FROM fact_indicator x
    LEFT JOIN mart_headline_metric h ON h.metric = x.metric AND h.base_unit = x.base_unit AND x.direction IS NULL
    GROUP BY x.notice_key
)
SELECT n.notice_key, n.source_name, n.title, n.publisher, n.report_stage,
       i.inspection_key, i.inspection_kind, i.inspecting_level, i.inspecting_body,
       n.organization_key, o.name AS organization, o.org_type, o.province, o.city, o.county,
       i.inspection_start, i.inspection_end, i.feedback_date, n.publish_date,
       year(n.publish_date) AS publish_year,
       date_diff('day', i.inspection_end, i.feedback_date) AS days_inspection_end_to_feedback,
       date_diff('day', i.feedback_date, n.publish_date) AS days_feedback_to_publish,
       coalesce(i.inspection_end_precision <> 'day' OR i.feedback_date_precision <> 'day', false) AS lags_approximate,
       coalesce(p.parsed_categories, 0) AS parsed_categories,
       coalesce(p.parsed_issues, 0) AS parsed_issues,
       coalesce(p.parsed_completed, 0) AS parsed_completed,
       coalesce(p.parsed_basically_completed, 0) AS parsed_basically_completed,
       coalesce(p.parsed_open, 0) AS parsed_open,
       coalesce(p.parsed_not_feasible, 0) AS parsed_not_feasible,
       coalesce(p.parsed_status_unknown, 0) AS parsed_status_unknown,
       c.claimed_issues, c.claimed_completed,
       c.claimed_measures, coalesce(ms.parsed_measures, 0) AS parsed_measures,
       coalesce(c.claims, 0) AS claims, coalesce(c.claims_reconciled, 0) AS claims_reconciled,
       coalesce(c.claims_disagreeing, 0) AS claims_disagreeing,
       -- Stated: the notice's own numbers. The denominator is its claimed total, or the sum of its per-status
       -- claims when it gives at least two statuses (共计15个已完成, 10个正在整改); one status alone says nothing
       -- about the total.
       round(c.claimed_completed / nullif(coalesce(c.claimed_issues,
             CASE WHEN c.claimed_statuses >= 2 THEN c.claimed_by_status END), 0), 4) AS completion_rate_stated,
       -- Computed: completed finest problems over all finest problems, NULL when no status was parsed at all.
       CASE WHEN p.parsed_issues > p.parsed_status_unknown
            THEN round(p.parsed_completed / p.parsed_issues, 4) END AS completion_rate_computed,
       coalesce(f.indicators, 0) AS indicators,
       f.people_disciplined, f.cases_and_clues, f.petitions, f.rules_created, f.meetings_trainings,
       f.funds_recovered_cny, f.funds_cny, f.investment_cny
FROM dim_notice n
LEFT JOIN dim_inspection i USING (inspection_key)
LEFT JOIN dim_organization o USING (organization_key)
LEFT JOIN parsed p USING (notice_key)
LEFT JOIN claims c USING (notice_key)
LEFT JOIN measures ms USING (notice_key)
LEFT JOIN figures f USING (notice_key);
COMMENT ON TABLE mart_notice IS 'One row per notice: inspection, inspected unit and place, dates and lags, claimed and parsed counts, completion rates stated and computed, headline figures summed by metric (see mart_headline_metric).';
COMMENT ON COLUMN mart_notice.notice_key IS 'The notice (dim_notice).';
COMMENT ON COLUMN mart_notice.source_name IS 'File name in the landing folder.';
COMMENT ON COLUMN mart_notice.title IS 'Title line, NULL when the notice has none.';
COMMENT ON COLUMN mart_notice.publisher IS 'Signing organisation.';
COMMENT ON COLUMN mart_notice.report_stage IS 'What is published: 整改情况, 整改进展情况, 整改阶段性进展情况, ...';
COMMENT ON COLUMN mart_notice.inspection_key IS 'The inspection (dim_inspection).';
COMMENT ON COLUMN mart_notice.inspection_kind IS '巡视 or 巡察.';
COMMENT ON COLUMN mart_notice.inspecting_level IS 'Level of the inspecting committee: 中央, 省委, 市委, 区委, 县委, ...';
COMMENT ON COLUMN mart_notice.inspecting_body IS 'The inspection group as written.';
COMMENT ON COLUMN mart_notice.organization_key IS 'The inspected unit (dim_organization).';
COMMENT ON COLUMN mart_notice.organization IS 'The inspected unit as written.';
COMMENT ON COLUMN mart_notice.org_type IS 'Kind of unit: township, county_district, development_zone, ...';
COMMENT ON COLUMN mart_notice.province IS 'Province where stated.';
COMMENT ON COLUMN mart_notice.city IS 'Prefecture-level city where stated.';
COMMENT ON COLUMN mart_notice.county IS 'County-level unit where stated.';
COMMENT ON COLUMN mart_notice.inspection_start IS 'First day of the on-site inspection.';
COMMENT ON COLUMN mart_notice.inspection_end IS 'Last day of the on-site inspection.';
COMMENT ON COLUMN mart_notice.feedback_date IS 'Date of the feedback (反馈).';
COMMENT ON COLUMN mart_notice.publish_date IS 'Signature date of the notice, NULL when unsigned.';
COMMENT ON COLUMN mart_notice.publish_year IS 'Year of publish_date.';
COMMENT ON COLUMN mart_notice.days_inspection_end_to_feedback IS 'Days from the end of the inspection to the feedback.';
COMMENT ON COLUMN mart_notice.days_feedback_to_publish IS 'Days from the feedback to the signature of this notice (the rectification period reported on).';
COMMENT ON COLUMN mart_notice.lags_approximate IS 'True when inspection_end or feedback_date is a vague date (上旬, month only, ...), so the lags are approximate.';
COMMENT ON COLUMN mart_notice.parsed_categories IS 'Category nodes parsed.';
COMMENT ON COLUMN mart_notice.parsed_issues IS 'Finest problems parsed: issue or sub-issue nodes with nothing below them.';
COMMENT ON COLUMN mart_notice.parsed_completed IS 'Of parsed_issues, status completed or completed_long_term.';
COMMENT ON COLUMN mart_notice.parsed_basically_completed IS 'Of parsed_issues, status basically_completed.';
COMMENT ON COLUMN mart_notice.parsed_open IS 'Of parsed_issues, status in_progress or long_term.';
COMMENT ON COLUMN mart_notice.parsed_not_feasible IS 'Of parsed_issues, status not_feasible.';
COMMENT ON COLUMN mart_notice.parsed_status_unknown IS 'Of parsed_issues, status not stated.';
COMMENT ON COLUMN mart_notice.claimed_issues IS 'Total of problems the notice claims (first such claim in the text), NULL when it states none.';
COMMENT ON COLUMN mart_notice.claimed_completed IS 'Problems the notice claims completed, NULL when it states none.';
COMMENT ON COLUMN mart_notice.claimed_measures IS 'Total of measures the notice claims, NULL when it states none.';
COMMENT ON COLUMN mart_notice.parsed_measures IS 'Measures parsed (both phases).';
COMMENT ON COLUMN mart_notice.claims IS 'Summary counts the notice claims (fact_claim rows).';
COMMENT ON COLUMN mart_notice.claims_reconciled IS 'Claims equal to the parsed count.';
COMMENT ON COLUMN mart_notice.claims_disagreeing IS 'Claims that differ from the parsed count.';
COMMENT ON COLUMN mart_notice.completion_rate_stated IS 'claimed_completed over the claimed total (or the sum of per-status claims when at least two statuses are claimed); 0-1, NULL when the notice does not say enough.';
COMMENT ON COLUMN mart_notice.completion_rate_computed IS 'parsed_completed over parsed_issues; 0-1, NULL when no status was parsed.';
COMMENT ON COLUMN mart_notice.indicators IS 'Figures extracted from the notice.';
COMMENT ON COLUMN mart_notice.people_disciplined IS 'Headline: sum of people disciplined or held accountable (count). Headline sums add every mention that is not a change (增长/下降), so a figure quoted twice counts twice.';
COMMENT ON COLUMN mart_notice.cases_and_clues IS 'Headline: sum of cases and leads (count).';
COMMENT ON COLUMN mart_notice.petitions IS 'Headline: sum of petitions and complaints (count).';
COMMENT ON COLUMN mart_notice.rules_created IS 'Headline: sum of rules and mechanisms created or revised (count).';
COMMENT ON COLUMN mart_notice.meetings_trainings IS 'Headline: sum of meetings, trainings and study sessions (count).';
COMMENT ON COLUMN mart_notice.funds_recovered_cny IS 'Headline: sum of funds recovered, in yuan.';
COMMENT ON COLUMN mart_notice.funds_cny IS 'Headline: sum of funds spent or allocated, in yuan.';
COMMENT ON COLUMN mart_notice.investment_cny IS 'Headline: sum of investment, in yuan.';

-- One row per report on an inspected unit: how far its rectification had come at each published notice.
CREATE TABLE mart_unit_progress AS
SELECT organization_key, organization, org_type, province, city, county,
       inspection_key, inspection_kind, inspecting_body, feedback_date,
       notice_key, publish_date, report_stage,
       row_number() OVER unit_reports AS report_seq,
       days_feedback_to_publish AS days_since_feedback,
       parsed_issues AS issues, parsed_completed AS completed, parsed_basically_completed AS basically_completed,
       parsed_open AS open, parsed_not_feasible AS not_feasible, parsed_status_unknown AS status_unknown,
       claimed_issues, claimed_completed,
       completion_rate_computed, completion_rate_stated,
       coalesce(completion_rate_computed, completion_rate_stated) AS completed_share,
       CASE WHEN completion_rate_computed IS NOT NULL THEN 'parsed'
            WHEN completion_rate_stated IS NOT NULL THEN 'claimed' END AS completed_share_source,
       lag(coalesce(completion_rate_computed, completion_rate_stated)) OVER unit_reports AS previous_completed_share
FROM mart_notice
WINDOW unit_reports AS (PARTITION BY organization_key, inspection_key ORDER BY publish_date NULLS LAST, notice_key);
COMMENT ON TABLE mart_unit_progress IS 'One row per notice on an inspected unit, ordered in time within (unit, inspection): the share of problems completed at each report stage, to follow rectification progress.';
COMMENT ON COLUMN mart_unit_progress.organization_key IS 'The inspected unit (dim_organization).';
COMMENT ON COLUMN mart_unit_progress.organization IS 'The inspected unit as written.';
COMMENT ON COLUMN mart_unit_progress.org_type IS 'Kind of unit.';
COMMENT ON COLUMN mart_unit_progress.province IS 'Province where stated.';
COMMENT ON COLUMN mart_unit_progress.city IS 'City where stated.';
COMMENT ON COLUMN mart_unit_progress.county IS 'County-level unit where stated.';
COMMENT ON COLUMN mart_unit_progress.inspection_key IS 'The inspection reported on.';
COMMENT ON COLUMN mart_unit_progress.inspection_kind IS '巡视 or 巡察.';
COMMENT ON COLUMN mart_unit_progress.inspecting_body IS 'The inspection group as written.';
COMMENT ON COLUMN mart_unit_progress.feedback_date IS 'Date of the feedback (反馈), where the rectification period starts.';
COMMENT ON COLUMN mart_unit_progress.notice_key IS 'The notice reporting this stage.';
COMMENT ON COLUMN mart_unit_progress.publish_date IS 'Signature date of the notice, NULL when unsigned (ordered last).';
COMMENT ON COLUMN mart_unit_progress.report_stage IS 'What is published: 整改情况, 整改进展情况, 整改阶段性进展情况, ...';
COMMENT ON COLUMN mart_unit_progress.report_seq IS '1 for the first notice on this unit and inspection, 2 for the next, ...';
COMMENT ON COLUMN mart_unit_progress.days_since_feedback IS 'Days from the feedback to this notice.';
COMMENT ON COLUMN mart_unit_progress.issues IS 'Finest problems parsed.';
COMMENT ON COLUMN mart_unit_progress.completed IS 'Of those, completed or completed_long_term.';
COMMENT ON COLUMN mart_unit_progress.basically_completed IS 'Of those, basically_completed.';
COMMENT ON COLUMN mart_unit_progress.open IS 'Of those, in_progress or long_term.';
COMMENT ON COLUMN mart_unit_progress.not_feasible IS 'Of those, not_feasible.';
COMMENT ON COLUMN mart_unit_progress.status_unknown IS 'Of those, status not stated.';
COMMENT ON COLUMN mart_unit_progress.claimed_issues IS 'Total of problems the notice claims.';
COMMENT ON COLUMN mart_unit_progress.claimed_completed IS 'Problems the notice claims completed.';
COMMENT ON COLUMN mart_unit_progress.completion_rate_computed IS 'Completed share from the parsed statuses (mart_notice).';
COMMENT ON COLUMN mart_unit_progress.completion_rate_stated IS 'Completed share from the notice''s own claims (mart_notice).';
COMMENT ON COLUMN mart_unit_progress.completed_share IS 'completion_rate_computed where statuses were parsed, else completion_rate_stated; 0-1.';
COMMENT ON COLUMN mart_unit_progress.completed_share_source IS 'parsed or claimed: which rate completed_share is; NULL when neither is known.';
COMMENT ON COLUMN mart_unit_progress.previous_completed_share IS 'completed_share at the previous notice on the same unit and inspection, NULL for the first.';
