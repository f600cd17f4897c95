-- Answers: what did each unit report doing, in numbers — people disciplined, cases, petitions, rules,
-- meetings, money recovered, spent and invested (summed mentions, changes excluded)?
SELECT u.organization, h.label_en, h.label_zh, h.base_unit,
       CAST(sum(u.mentions) AS BIGINT) AS mentions, sum(u.total) AS total,
       max(u.largest_single_figure) AS largest_single_figure
FROM mart_unit_headline u
JOIN mart_headline_metric h USING (headline)
GROUP BY ALL
ORDER BY u.organization, h.label_en;
