-- Answers: which problems received the most rectification measures, and how many figures back them up?
SELECT organization, level, number, title, status_group, measures, measures_done, measures_next_step,
       indicators, indicator_metrics
FROM mart_issue
ORDER BY measures DESC, indicators DESC, issue_key
LIMIT 10;
