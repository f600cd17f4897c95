-- Helpers for the derived columns of expectations/suites.yaml, created as TEMP macros on the gate's
-- read-only connection to the staged warehouse (nothing is written to the file).

-- Last day of the period a stored date stands for. Vague dates are stored as the FIRST day of their
-- period (DESIGN §1, 01_schema.sql: "2023年1月上旬" → 2023-01-01, precision early_month), so an ordering
-- rule "a ≤ b" is only violated when a is after the LAST day b may mean: a precise inspection start on
-- 2023-01-15 does not contradict an end written "2023年1月" (stored 2023-01-01, precision month).
-- An unknown or NULL precision is taken as a day (the strict reading).
CREATE OR REPLACE TEMP MACRO period_end(d, precision) AS
    CASE precision
        WHEN 'month'       THEN last_day(d)
        WHEN 'early_month' THEN d + 9          -- 上旬: 1st to 10th
        WHEN 'mid_month'   THEN d + 9          -- 中旬: 11th to 20th
        WHEN 'late_month'  THEN last_day(d)    -- 下旬: 21st to the end of the month
        WHEN 'year'        THEN make_date(year(d), 12, 31)
        ELSE d
    END;

-- The date as text for failure messages ('NULL' when missing).
CREATE OR REPLACE TEMP MACRO date_text(d) AS coalesce(CAST(d AS VARCHAR), 'NULL');
