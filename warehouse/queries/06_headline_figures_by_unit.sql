-- Answers: what did each unit report doing, in numbers — people disciplined, cases, petitions, rules,
-- meetings, money recovered, spent and invested (summed mentions, changes excluded)?
-- A headline fed by two metrics (meetings and trainings) has two rows in mart_headline_metric: one label each.
SELECT u.organization, h.label_en, h.label_zh, h.base_unit,
       u.mentions, u.total, u.largest_single_figure
FROM mart_unit_headline u
JOIN (SELECT DISTINCT headline, label_en, label_zh, base_unit FROM mart_headline_metric) h USING (headline)
ORDER BY u.organization, h.label_en;
