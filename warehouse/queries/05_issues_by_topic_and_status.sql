-- Answers: what kinds of problems were found (by topic) and how many of each are completed, still open,
-- or of unknown status? Problems without a topic yet are grouped as 'unclassified'.
SELECT coalesce(topic, 'unclassified') AS topic, status_group, count(*) AS problems
FROM mart_issue
WHERE is_leaf
GROUP BY ALL
ORDER BY topic, problems DESC;
