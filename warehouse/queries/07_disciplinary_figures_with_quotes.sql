-- Answers: what exactly do the notices say about disciplining people (处分, 问责, 诫勉 …)? Each figure
-- with its quote and the problem it answers, so a number can be checked against the text.
SELECT organization, issue_number, issue_title, value, unit, qualifier, quote
FROM mart_headline_figure
WHERE headline = 'people_disciplined'
ORDER BY organization, value DESC;
