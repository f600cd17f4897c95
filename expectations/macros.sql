-- Helpers for the derived columns of expectations/suites.yaml, created as TEMP macros on each read-only
-- connection the gate opens to the staged warehouse (nothing is written to the file).

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

-- The text of each notice at the spans (notice_key, char_start, char_end, quote) of a table that quotes it
-- (fact_indicator, fact_claim), the texts (notice_key, text) being those of the table `texts`: one row per
-- distinct span and quote of a notice in `texts`, `text` being what substr(texts.text, char_start + 1,
-- char_end - char_start) returns. The quote is carried along so that the caller can keep only the spans whose
-- text differs from their quote (suites.yaml: the gate then holds the failures, not a copy of every quote).
-- The gate passes a slice of raw_notice's rows at a time (suites.yaml prepare_slices), and in delta mode the
-- changed notices' texts; spans of notices not in `texts` have no row (they are left out before the spans are
-- grouped by notice, so that a slice groups its own notices' spans only).
-- substr() counts characters from the start of the UTF-8 text, so asking it directly costs O(char_start) per
-- span, O(spans × length) per notice: minutes at corpus scale. Here each text is cut into lines once
-- (string_split on the newline byte, linear), each span is placed in its line by an ASOF join on the offsets
-- at which the lines start, and only that line is cut. A span that does not lie within one line (it crosses
-- a newline, or its offsets are out of range) is cut from the whole text as before.
CREATE OR REPLACE TEMP MACRO notice_text_from(spans, texts) AS TABLE
WITH line AS (  -- where each line starts (offsets only)
    SELECT notice_key, line_no, line_length,
           CAST(sum(line_length + 1) OVER (PARTITION BY notice_key ORDER BY line_no ROWS UNBOUNDED PRECEDING)
                - line_length - 1 AS BIGINT) AS line_start
    FROM (SELECT notice_key, unnest(range(len(lengths))) AS line_no, unnest(lengths) AS line_length
          FROM (SELECT notice_key, list_transform(string_split(text, chr(10)), lambda l: length(l)) AS lengths
                FROM query_table(texts)))
), located AS (  -- the spans of each notice, each with the line it starts in
    SELECT s.notice_key,
           list(struct_pack(char_start := s.char_start, char_end := s.char_end, quote := s.quote,
                            line_no := l.line_no, line_start := l.line_start,
                            within_line := coalesce(s.char_start <= s.char_end
                                                    AND s.char_end <= l.line_start + l.line_length, false))) AS parts
    FROM (SELECT DISTINCT notice_key, char_start, char_end, quote FROM query_table(spans)
          WHERE notice_key IN (SELECT notice_key FROM query_table(texts))) AS s
    ASOF LEFT JOIN line AS l ON l.notice_key = s.notice_key AND l.line_start <= s.char_start
    GROUP BY s.notice_key
), cut AS (  -- one row per notice: its lines, and the text of each span
    SELECT notice_key,
           list_transform(parts, lambda p: struct_pack(char_start := p.char_start, char_end := p.char_end, quote := p.quote,
               text := CASE WHEN p.within_line
                            THEN substr(lines[p.line_no + 1], p.char_start - p.line_start + 1, p.char_end - p.char_start)
                            ELSE substr(text, p.char_start + 1, p.char_end - p.char_start) END)) AS spans_text
    -- (len(parts) > 0 always holds: it makes the planner take the span lists for the small side of the join, so
    -- they are hashed and the texts stream past them instead of every text being held in a hash table)
    FROM (SELECT r.notice_key, r.text, string_split(r.text, chr(10)) AS lines, x.parts
          FROM query_table(texts) AS r JOIN (SELECT * FROM located WHERE len(parts) > 0) AS x ON x.notice_key = r.notice_key)
)
SELECT notice_key, span.char_start, span.char_end, span.quote, span.text
FROM (SELECT notice_key, unnest(spans_text) AS span FROM cut);

-- The SQL that reads the spans (notice_key, char_start, char_end, quote) of the tables that quote the notice text: a
-- UNION ALL over fact_indicator and fact_claim, each only if it has the four columns (a table without them is left
-- out, so that its own suite fails to load, not the other's). Text, for query(), which takes no subquery: the quote
-- checks' prepare steps set it into a variable and read it through a view (suites.yaml, quoted_span).
CREATE OR REPLACE TEMP MACRO quoting_tables_sql() AS (
    SELECT string_agg(format('SELECT notice_key, char_start, char_end, quote FROM "{}"', table_name), ' UNION ALL ')
    FROM (SELECT table_name FROM duckdb_columns()
          WHERE database_name = current_database() AND schema_name = 'main'
            AND table_name IN ('fact_indicator', 'fact_claim')
            AND column_name IN ('notice_key', 'char_start', 'char_end', 'quote')
          GROUP BY table_name HAVING count(*) = 4));

-- The spans of `spans` (as notice_text_from takes them) whose notice text is not their quote: what the gate keeps for
-- the quote checks (suites.yaml, misquoted_span). A span without text (its offsets or its notice's text missing) is
-- not kept: the quote check reports none there, as it did when it read every span's text.
CREATE OR REPLACE TEMP MACRO misquoted_spans(spans, texts) AS TABLE
SELECT * FROM notice_text_from(spans, texts) WHERE text IS NOT NULL AND text IS DISTINCT FROM quote;
