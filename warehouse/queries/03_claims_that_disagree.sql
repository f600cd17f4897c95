-- Answers: which summary counts in the notices (共计…个问题, …条整改措施) differ from what the text
-- actually lists, and by how much? Claims the hierarchy cannot check are shown as unverifiable.
SELECT n.organization, c.subject, coalesce(c.status, 'total') AS status,
       c.claimed_count, c.parsed_count, c.claimed_count - c.parsed_count AS gap,
       CASE WHEN c.reconciled THEN 'agrees' WHEN NOT c.reconciled THEN 'differs' ELSE 'unverifiable' END AS verdict,
       c.quote
FROM fact_claim c
JOIN mart_notice n USING (notice_key)
WHERE c.reconciled IS DISTINCT FROM true
ORDER BY verdict, n.organization, c.subject;
