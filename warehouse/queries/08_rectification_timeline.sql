-- Answers: how long do the steps take — from the end of the inspection to the feedback, and from the
-- feedback to the published notice — by inspecting level and kind?
SELECT inspection_kind, inspecting_level, organization,
       inspection_end, feedback_date, publish_date,
       days_inspection_end_to_feedback, days_feedback_to_publish, lags_approximate
FROM mart_notice
ORDER BY inspection_kind, inspecting_level, feedback_date;
