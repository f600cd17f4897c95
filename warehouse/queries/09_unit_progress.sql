-- Answers: how does each inspected unit's rectification progress over its successive notices — the
-- share of problems completed at each report, and whether that share comes from parsed statuses or
-- from the unit's own claims?
SELECT organization, inspecting_body, report_seq, report_stage, publish_date, days_since_feedback,
       issues, completed, open, status_unknown, completed_share, completed_share_source,
       previous_completed_share
FROM mart_unit_progress
ORDER BY organization, report_seq;
