-- Answers: which notices are in the warehouse — who was inspected, by whom, when, and how many problems
-- each lists (parsed) beside how many it says it has (claimed)?
SELECT organization, inspecting_body, report_stage, feedback_date, publish_date,
       parsed_issues, claimed_issues, parsed_measures, claimed_measures, indicators
FROM mart_notice
ORDER BY publish_date NULLS LAST, organization;
