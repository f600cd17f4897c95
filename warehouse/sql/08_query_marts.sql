-- Marts that answer the example queries (warehouse/queries/) at corpus scale: each pre-joins or pre-filters
-- what a query reads, so the query scans a few tens of thousands of rows instead of joining or filtering
-- millions (mart_indicator has ~1.6 million rows at 10,000 notices). Built after 03_marts.sql and
-- 04_indicator_marts.sql (scripts run in name order), from their tables, like every mart at each refresh.
--
-- Each is stored sorted by the columns its query orders by (CREATE TABLE ... AS ... ORDER BY keeps that
-- order on disk): the query still says ORDER BY, and DuckDB's sort is several times cheaper on input that
-- is already in order; a filter on the leading sort column also skips row groups by their min/max. A patched
-- refresh (warehouse/patch.py) rebuilds mart_unit_headline (sums over every notice on a unit); in the others,
-- whose rows each belong to one notice, it appends the rewritten notices' rows after the sorted ones, until
-- the next full build (the query's ORDER BY puts them in place).

-- One row per summary claim (fact_claim) with its inspected unit and whether the text bears it out.
CREATE TABLE mart_claim AS
SELECT c.claim_key, c.notice_key, n.organization, c.subject, c.status,
       c.claimed_count, c.parsed_count, c.claimed_count - c.parsed_count AS gap,
       c.reconciled,
       CASE WHEN c.reconciled THEN 'agrees' WHEN NOT c.reconciled THEN 'differs' ELSE 'unverifiable' END AS verdict,
       c.quote
FROM fact_claim c
JOIN mart_notice n USING (notice_key)
ORDER BY verdict, n.organization, c.subject;
COMMENT ON TABLE mart_claim IS 'One row per summary count a notice claims (fact_claim: 共计…个问题, …条整改措施) with its inspected unit, the gap to the parsed count and a verdict; sorted by verdict, organization, subject when built in full (a patched refresh appends the rows of the notices it rewrites after them).';
COMMENT ON COLUMN mart_claim.claim_key IS 'The claim (fact_claim).';
COMMENT ON COLUMN mart_claim.notice_key IS 'The notice (dim_notice).';
COMMENT ON COLUMN mart_claim.organization IS 'The inspected unit as written (mart_notice.organization).';
COMMENT ON COLUMN mart_claim.subject IS 'What is counted: issues, measures, categories, ... (fact_claim.subject).';
COMMENT ON COLUMN mart_claim.status IS 'Status the count is about, NULL for a total.';
COMMENT ON COLUMN mart_claim.claimed_count IS 'The count the notice states.';
COMMENT ON COLUMN mart_claim.parsed_count IS 'The count parsed from the hierarchy, NULL when it cannot be checked.';
COMMENT ON COLUMN mart_claim.gap IS 'claimed_count − parsed_count, NULL when parsed_count is NULL.';
COMMENT ON COLUMN mart_claim.reconciled IS 'claimed_count = parsed_count; NULL when unverifiable (fact_claim.reconciled).';
COMMENT ON COLUMN mart_claim.verdict IS 'agrees, differs or unverifiable (reconciled true, false or NULL).';
COMMENT ON COLUMN mart_claim.quote IS 'The text of the claim.';

-- One row per figure that counts towards a headline (mart_indicator rows with a headline).
CREATE TABLE mart_headline_figure AS
SELECT indicator_key, notice_key, organization, headline, metric,
       issue_key, issue_number, issue_title,
       value, unit, qualifier, value_base, base_unit, quote
FROM mart_indicator
WHERE headline IS NOT NULL
ORDER BY headline, organization, value DESC;
COMMENT ON TABLE mart_headline_figure IS 'One row per figure counted towards a headline of mart_notice (mart_indicator rows whose headline is set: levels, not changes), with its quote and problem; sorted by headline, organization, value descending when built in full, so one headline is a contiguous slice (a patched refresh appends the rows of the notices it rewrites after them).';
COMMENT ON COLUMN mart_headline_figure.indicator_key IS 'The figure (fact_indicator).';
COMMENT ON COLUMN mart_headline_figure.notice_key IS 'The notice (dim_notice).';
COMMENT ON COLUMN mart_headline_figure.organization IS 'The inspected unit as written.';
COMMENT ON COLUMN mart_headline_figure.headline IS 'The headline the figure counts towards (mart_headline_metric.headline).';
COMMENT ON COLUMN mart_headline_figure.metric IS 'What the figure measures (fact_indicator.metric).';
COMMENT ON COLUMN mart_headline_figure.issue_key IS 'The issue node whose text holds the figure.';
COMMENT ON COLUMN mart_headline_figure.issue_number IS 'Label of that node as written.';
COMMENT ON COLUMN mart_headline_figure.issue_title IS 'Title of that node.';
COMMENT ON COLUMN mart_headline_figure.value IS 'The number as written.';
COMMENT ON COLUMN mart_headline_figure.unit IS 'The unit as written.';
COMMENT ON COLUMN mart_headline_figure.qualifier IS 'at_least, approx or NULL.';
COMMENT ON COLUMN mart_headline_figure.value_base IS 'The value in base_unit (what headline sums add).';
COMMENT ON COLUMN mart_headline_figure.base_unit IS 'Base unit of the headline: count or CNY.';
COMMENT ON COLUMN mart_headline_figure.quote IS 'The exact text of the mention.';

-- One row per inspected unit (as written) and headline: the figures of mart_headline_figure summed.
CREATE TABLE mart_unit_headline AS
SELECT organization, headline, base_unit,
       count(*) AS mentions, sum(value_base) AS total, max(value_base) AS largest_single_figure
FROM mart_headline_figure
GROUP BY organization, headline, base_unit
ORDER BY organization, headline;
COMMENT ON TABLE mart_unit_headline IS 'One row per inspected unit (by its name as written, so notices on the same unit add up) and headline it reports figures for: mention count, sum and largest figure; sorted by organization, headline.';
COMMENT ON COLUMN mart_unit_headline.organization IS 'The inspected unit as written (NULL when the notice names none).';
COMMENT ON COLUMN mart_unit_headline.headline IS 'The headline (mart_headline_metric.headline).';
COMMENT ON COLUMN mart_unit_headline.base_unit IS 'Base unit of the sums: count or CNY.';
COMMENT ON COLUMN mart_unit_headline.mentions IS 'Figures summed (each mention counts once; a total and its parts both count).';
COMMENT ON COLUMN mart_unit_headline.total IS 'Sum of value_base of those figures.';
COMMENT ON COLUMN mart_unit_headline.largest_single_figure IS 'Largest value_base among them.';

-- One row per problem whose status says it is not (fully) rectified yet.
CREATE TABLE mart_open_problem AS
SELECT issue_key, notice_key, organization, publish_date, number, title, topic,
       status, status_group, status_phrase, expected_completion, measures, measures_next_step, node_ordinal
FROM mart_issue
WHERE is_leaf AND status_group IN ('open', 'basically_completed', 'not_feasible')
ORDER BY organization, node_ordinal;
COMMENT ON TABLE mart_open_problem IS 'One row per finest problem (mart_issue with is_leaf) whose status is open (in_progress, long_term), basically_completed or not_feasible, with when the notice expects it done; problems of unknown status are not here. Sorted by organization, node_ordinal when built in full (a patched refresh appends the rows of the notices it rewrites after them).';
COMMENT ON COLUMN mart_open_problem.issue_key IS 'The issue node (fact_issue).';
COMMENT ON COLUMN mart_open_problem.notice_key IS 'The notice (dim_notice).';
COMMENT ON COLUMN mart_open_problem.organization IS 'The inspected unit as written.';
COMMENT ON COLUMN mart_open_problem.publish_date IS 'Signature date of the notice, NULL when unsigned.';
COMMENT ON COLUMN mart_open_problem.number IS 'Label as written: 1 / (1).';
COMMENT ON COLUMN mart_open_problem.title IS 'The problem statement.';
COMMENT ON COLUMN mart_open_problem.topic IS 'Topic of the problem (fact_issue.topic).';
COMMENT ON COLUMN mart_open_problem.status IS 'Normalised status code: in_progress, long_term, basically_completed or not_feasible.';
COMMENT ON COLUMN mart_open_problem.status_group IS 'open, basically_completed or not_feasible (mart_issue.status_group).';
COMMENT ON COLUMN mart_open_problem.status_phrase IS 'The status phrase as written.';
COMMENT ON COLUMN mart_open_problem.expected_completion IS 'Expected completion date when stated.';
COMMENT ON COLUMN mart_open_problem.measures IS 'Measures answering this problem (both phases).';
COMMENT ON COLUMN mart_open_problem.measures_next_step IS 'Measures in the next_step phase (下一步).';
COMMENT ON COLUMN mart_open_problem.node_ordinal IS 'Position of the node in the notice, for reading order.';
