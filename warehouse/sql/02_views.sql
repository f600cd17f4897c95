-- Views over the star schema. Views hold no data; they are recomputed by every query.

CREATE VIEW notice_summary AS
WITH issues AS (
    SELECT notice_key,
           count(*) FILTER (WHERE level = 'category')  AS categories,
           count(*) FILTER (WHERE level = 'issue')     AS issues,
           count(*) FILTER (WHERE level = 'sub_issue') AS sub_issues,
           count(*) FILTER (WHERE status IN ('completed', 'completed_long_term')) AS completed,
           count(*) FILTER (WHERE status = 'basically_completed') AS basically_completed,
           count(*) FILTER (WHERE status IN ('in_progress', 'long_term')) AS in_progress_or_long_term,
           count(*) FILTER (WHERE status = 'not_feasible') AS not_feasible,
           count(*) FILTER (WHERE status IS NULL AND level <> 'category') AS status_unknown
    FROM fact_issue GROUP BY notice_key
), measures AS (
    SELECT notice_key, count(*) AS measures, count(*) FILTER (WHERE phase = 'next_step') AS next_steps
    FROM fact_measure GROUP BY notice_key
), indicators AS (
    SELECT notice_key, count(*) AS indicators FROM fact_indicator GROUP BY notice_key
), claims AS (
    SELECT notice_key, count(*) AS claims,
           count(*) FILTER (WHERE reconciled) AS claims_reconciled,
           count(*) FILTER (WHERE NOT reconciled) AS claims_disagreeing
    FROM fact_claim GROUP BY notice_key
)
SELECT n.notice_key, n.source_name, o.name AS organization, n.publish_date,
       coalesce(i.categories, 0) AS categories, coalesce(i.issues, 0) AS issues,
       coalesce(i.sub_issues, 0) AS sub_issues, coalesce(i.completed, 0) AS completed,
       coalesce(i.basically_completed, 0) AS basically_completed,
       coalesce(i.in_progress_or_long_term, 0) AS in_progress_or_long_term,
       coalesce(i.not_feasible, 0) AS not_feasible, coalesce(i.status_unknown, 0) AS status_unknown,
       coalesce(m.measures, 0) AS measures, coalesce(m.next_steps, 0) AS next_steps,
       coalesce(x.indicators, 0) AS indicators, coalesce(c.claims, 0) AS claims,
       coalesce(c.claims_reconciled, 0) AS claims_reconciled,
       coalesce(c.claims_disagreeing, 0) AS claims_disagreeing
FROM dim_notice n
LEFT JOIN dim_organization o USING (organization_key)
LEFT JOIN issues i USING (notice_key)
LEFT JOIN measures m USING (notice_key)
LEFT JOIN indicators x USING (notice_key)
LEFT JOIN claims c USING (notice_key)
ORDER BY n.source_name;
COMMENT ON VIEW notice_summary IS 'One row per notice: issue nodes by level and status, measures, indicators, and claims reconciled or not with the parsed hierarchy.';
COMMENT ON COLUMN notice_summary.notice_key IS 'The notice (dim_notice).';
COMMENT ON COLUMN notice_summary.source_name IS 'File name in the landing folder.';
COMMENT ON COLUMN notice_summary.organization IS 'The inspected organisation as written.';
COMMENT ON COLUMN notice_summary.publish_date IS 'Signature date of the notice.';
COMMENT ON COLUMN notice_summary.categories IS 'Category nodes (问题类别) parsed.';
COMMENT ON COLUMN notice_summary.issues IS 'Issue nodes (反馈问题) parsed.';
COMMENT ON COLUMN notice_summary.sub_issues IS 'Sub-issue nodes (具体问题) parsed.';
COMMENT ON COLUMN notice_summary.completed IS 'Issue and sub-issue nodes with status completed or completed_long_term.';
COMMENT ON COLUMN notice_summary.basically_completed IS 'Nodes with status basically_completed.';
COMMENT ON COLUMN notice_summary.in_progress_or_long_term IS 'Nodes with status in_progress or long_term.';
COMMENT ON COLUMN notice_summary.not_feasible IS 'Nodes with status not_feasible.';
COMMENT ON COLUMN notice_summary.status_unknown IS 'Issue and sub-issue nodes whose status the notice does not state.';
COMMENT ON COLUMN notice_summary.measures IS 'Measures parsed (both phases).';
COMMENT ON COLUMN notice_summary.next_steps IS 'Measures in the next_step phase (下一步).';
COMMENT ON COLUMN notice_summary.indicators IS 'Indicators extracted.';
COMMENT ON COLUMN notice_summary.claims IS 'Summary counts the notice claims.';
COMMENT ON COLUMN notice_summary.claims_reconciled IS 'Claims whose count equals the parsed count.';
COMMENT ON COLUMN notice_summary.claims_disagreeing IS 'Claims whose count differs from the parsed count.';
