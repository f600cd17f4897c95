-- Answers: what did each unit report doing, in numbers — people disciplined, cases, petitions, rules,
-- meetings, money recovered, spent and invested (summed mentions, changes excluded)?
SELECT i.organization, h.label_en, h.label_zh, h.base_unit,
       count(*) AS mentions, sum(i.value_base) AS total, max(i.value_base) AS largest_single_figure
FROM mart_indicator i
JOIN mart_headline_metric h USING (headline)
GROUP BY ALL
ORDER BY i.organization, h.label_en;
