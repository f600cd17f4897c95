-- Answers: which summary counts in the notices (共计…个问题, …条整改措施) differ from what the text
-- actually lists, and by how much? Claims the hierarchy cannot check are shown as unverifiable.
SELECT organization, subject, coalesce(status, 'total') AS status,
       claimed_count, parsed_count, gap, verdict, quote
FROM mart_claim
WHERE reconciled IS DISTINCT FROM true
ORDER BY verdict, organization, subject;
