-- Answers: how far has each unit's rectification come, by its own claims and by the statuses of the
-- problems it lists — and where do the two disagree?
SELECT organization, report_stage,
       claimed_completed, claimed_issues, completion_rate_stated,
       parsed_completed, parsed_issues, completion_rate_computed,
       round(completion_rate_computed - completion_rate_stated, 4) AS difference
FROM mart_notice
WHERE completion_rate_stated IS NOT NULL OR completion_rate_computed IS NOT NULL
ORDER BY organization;
