-- Marts over the indicators (fact_indicator classified by dim_metric) for analysts: tables built after the load,
-- like those of 03_marts.sql.
--
-- Sums add every mention of a metric in a notice: a notice that writes a total and then its parts ("处理12人,
-- 其中党纪处分5人") counts both, so read a sum together with its mention count and the quotes in
-- fact_indicator. Changes (direction increase/decrease: "减少33件") are not amounts and are left out of the sums.

CREATE TABLE mart_notice_figures AS
WITH figures AS (
    SELECT notice_key,
           sum(value_base) FILTER (WHERE metric = 'people_disciplined' AND base_unit = 'count' AND direction IS NULL) AS people_disciplined,
           count(*) FILTER (WHERE metric = 'people_disciplined' AND base_unit = 'count' AND direction IS NULL) AS people_disciplined_mentions,
           sum(value_base) FILTER (WHERE metric = 'funds_recovered' AND base_unit = 'CNY' AND direction IS NULL) AS funds_recovered_cny,
           count(*) FILTER (WHERE metric = 'funds_recovered' AND base_unit = 'CNY' AND direction IS NULL) AS funds_recovered_mentions,
           sum(value_base) FILTER (WHERE metric = 'petitions' AND base_unit = 'count' AND direction IS NULL) AS petitions_received,
           sum(value_base) FILTER (WHERE metric = 'petitions_closed' AND base_unit = 'count' AND direction IS NULL) AS petitions_handled,
           count(*) FILTER (WHERE metric IN ('petitions', 'petitions_closed') AND base_unit = 'count' AND direction IS NULL) AS petitions_mentions,
           sum(value_base) FILTER (WHERE metric = 'rules_created' AND base_unit = 'count' AND direction IS NULL) AS rules_created,
           count(*) FILTER (WHERE metric = 'rules_created' AND base_unit = 'count' AND direction IS NULL) AS rules_created_mentions,
           arg_min(value_base, char_start) FILTER (WHERE metric = 'rectification_rate' AND base_unit = 'percent' AND direction IS NULL) AS stated_completion_rate,
           arg_min(quote, char_start) FILTER (WHERE metric = 'rectification_rate' AND base_unit = 'percent' AND direction IS NULL) AS stated_completion_quote
    FROM fact_indicator
    GROUP BY notice_key
), issue_claims AS (
    SELECT notice_key,
           max(claimed_count) FILTER (WHERE status IS NULL) AS claimed_total,
           sum(claimed_count) FILTER (WHERE status IS NOT NULL) AS claimed_by_status,
           count(DISTINCT status) AS statuses,
           sum(claimed_count) FILTER (WHERE status IN ('completed', 'completed_long_term')) AS claimed_completed
    FROM fact_claim
    WHERE subject = 'issues'
    GROUP BY notice_key
), claims AS (
    SELECT notice_key,
           -- 0 only when the notice claims counts by status but none for completed; NULL when it claims no status
           CASE WHEN statuses > 0 THEN coalesce(claimed_completed, 0) END AS claimed_completed,
           -- the stated total, else the per-status counts when more than one status is claimed
           coalesce(claimed_total, CASE WHEN statuses > 1 THEN claimed_by_status END) AS claimed_issues
    FROM issue_claims
)
SELECT n.notice_key,
       n.source_name,
       coalesce(f.people_disciplined, 0) AS people_disciplined,
       coalesce(f.people_disciplined_mentions, 0) AS people_disciplined_mentions,
       coalesce(f.funds_recovered_cny, 0) AS funds_recovered_cny,
       coalesce(f.funds_recovered_mentions, 0) AS funds_recovered_mentions,
       coalesce(f.petitions_received, 0) AS petitions_received,
       coalesce(f.petitions_handled, 0) AS petitions_handled,
       coalesce(f.petitions_mentions, 0) AS petitions_mentions,
       coalesce(f.rules_created, 0) AS rules_created,
       coalesce(f.rules_created_mentions, 0) AS rules_created_mentions,
       f.stated_completion_rate,
       f.stated_completion_quote,
       c.claimed_issues,
       c.claimed_completed,
       CASE WHEN c.claimed_issues > 0
            THEN round(100.0 * c.claimed_completed / c.claimed_issues, 2) END AS computed_completion_rate,
       CASE WHEN c.claimed_issues > 0 AND f.stated_completion_rate IS NOT NULL
            THEN round(f.stated_completion_rate - 100.0 * c.claimed_completed / c.claimed_issues, 2) END AS completion_rate_gap
FROM dim_notice n
LEFT JOIN figures f USING (notice_key)
LEFT JOIN claims c USING (notice_key)
ORDER BY n.source_name;
COMMENT ON TABLE mart_notice_figures IS 'One row per notice: the headline figures analysts ask for (people disciplined, funds recovered, petitions handled, rules created) summed over the notice''s indicators, and the completion rate it states beside the rate computed from its claimed issue counts. Sums add every mention (a total and its parts both count); changes (增长/减少 …) are excluded.';
COMMENT ON COLUMN mart_notice_figures.notice_key IS 'The notice (dim_notice).';
COMMENT ON COLUMN mart_notice_figures.source_name IS 'File name in the landing folder.';
COMMENT ON COLUMN mart_notice_figures.people_disciplined IS 'Sum of people counts with metric people_disciplined (党纪处分, 政务处分, 诫勉, 问责, 约谈, 移送司法 …); 0 when none.';
COMMENT ON COLUMN mart_notice_figures.people_disciplined_mentions IS 'Number of indicators summed into people_disciplined.';
COMMENT ON COLUMN mart_notice_figures.funds_recovered_cny IS 'Sum in CNY of money figures with metric funds_recovered (追缴, 退缴, 清退, 挽回经济损失 …); 0 when none. Exact base values (万元/亿元 converted with decimals).';
COMMENT ON COLUMN mart_notice_figures.funds_recovered_mentions IS 'Number of indicators summed into funds_recovered_cny.';
COMMENT ON COLUMN mart_notice_figures.petitions_received IS 'Sum of counts with metric petitions (信访件, 投诉, 举报, 接访 … received or handed over); 0 when none.';
COMMENT ON COLUMN mart_notice_figures.petitions_handled IS 'Sum of counts with metric petitions_closed (办结, 化解: petitions closed or resolved); 0 when none.';
COMMENT ON COLUMN mart_notice_figures.petitions_mentions IS 'Number of indicators summed into petitions_received and petitions_handled.';
COMMENT ON COLUMN mart_notice_figures.rules_created IS 'Sum of counts with metric rules_created (制度, 办法, 细则, 机制 …); 0 when none.';
COMMENT ON COLUMN mart_notice_figures.rules_created_mentions IS 'Number of indicators summed into rules_created.';
COMMENT ON COLUMN mart_notice_figures.stated_completion_rate IS 'The first rectification completion rate the notice states (metric rectification_rate: 整改完成率, 整改率, 销号率), in percent; NULL when it states none.';
COMMENT ON COLUMN mart_notice_figures.stated_completion_quote IS 'The quote of stated_completion_rate.';
COMMENT ON COLUMN mart_notice_figures.claimed_issues IS 'Issues the notice claims in total (fact_claim subject issues without status), else the sum of its per-status issue claims when it claims more than one status; NULL when it cannot be told.';
COMMENT ON COLUMN mart_notice_figures.claimed_completed IS 'Issues the notice claims completed (status completed or completed_long_term; basically_completed is not counted); NULL when the notice claims no count by status.';
COMMENT ON COLUMN mart_notice_figures.computed_completion_rate IS '100 × claimed_completed / claimed_issues, in percent, rounded to 2 decimals; NULL when claimed_issues or claimed_completed is unknown.';
COMMENT ON COLUMN mart_notice_figures.completion_rate_gap IS 'stated_completion_rate − computed_completion_rate in percentage points; NULL unless both are known.';
