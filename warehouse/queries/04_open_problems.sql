-- Answers: which problems are not yet rectified (in progress, long-term, basically completed or not
-- feasible), and when do the notices expect them to be done?
SELECT organization, number, title, status, status_phrase, expected_completion, measures_next_step
FROM mart_open_problem
ORDER BY organization, node_ordinal;
