-- The fetch log (issue 9): every request made to a configured web source, and every page robots.txt kept
-- us from, with what came of it. Loaded from <archive>/fetch_log.jsonl by each refresh; the bytes of every
-- response with content are in <archive>/pages/<sha256[:2]>/<sha256> (see README, "Sources").

CREATE TABLE fetch_log (
    source          VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,
    role            VARCHAR NOT NULL,
    fetched_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    http_status     INTEGER,
    attempts        INTEGER NOT NULL,
    conditional     BOOLEAN NOT NULL,
    bytes           BIGINT,
    content_sha256  VARCHAR,
    etag            VARCHAR,
    last_modified   VARCHAR,
    content_type    VARCHAR,
    encoding        VARCHAR,
    outcome         VARCHAR NOT NULL,
    page_kind       VARCHAR,
    reason          VARCHAR
);
COMMENT ON TABLE fetch_log IS 'One row per request to a web source of sources.yaml (retries of one request count as one row), oldest first. History is kept: every nightly run adds its rows.';
COMMENT ON COLUMN fetch_log.source IS 'Name of the source in sources.yaml.';
COMMENT ON COLUMN fetch_log.url IS 'The URL requested (as linked; redirects are followed). Equals dim_notice.source_name / raw_notice.source_name for a loaded notice page.';
COMMENT ON COLUMN fetch_log.role IS 'listing (a list page whose links are followed) or page (a candidate notice page).';
COMMENT ON COLUMN fetch_log.fetched_at IS 'When the final answer arrived (UTC), or when the request was skipped.';
COMMENT ON COLUMN fetch_log.http_status IS 'HTTP status of the final attempt; NULL when no answer came (network error, timeout) or no request was made (robots.txt).';
COMMENT ON COLUMN fetch_log.attempts IS 'Attempts made: 1 plus the retries after 5xx, 429, timeouts and network errors; 0 when robots.txt forbade the request.';
COMMENT ON COLUMN fetch_log.conditional IS 'True when the request carried If-None-Match and/or If-Modified-Since from the previous fetch of the URL.';
COMMENT ON COLUMN fetch_log.bytes IS 'Size of the page in bytes (the archived copy for a 304); NULL without content.';
COMMENT ON COLUMN fetch_log.content_sha256 IS 'SHA-256 of the page bytes, the name of its archived copy; equals raw_notice.content_sha256 when loaded as a notice.';
COMMENT ON COLUMN fetch_log.etag IS 'ETag validator of the page (sent back as If-None-Match next time).';
COMMENT ON COLUMN fetch_log.last_modified IS 'Last-Modified validator of the page as sent by the server (sent back as If-Modified-Since next time).';
COMMENT ON COLUMN fetch_log.content_type IS 'Content-Type header as sent by the server (its charset may be wrong; encoding is what the bytes are).';
COMMENT ON COLUMN fetch_log.encoding IS 'Encoding detected from the bytes (utf-8, gb18030 covering GB2312/GBK, big5, ...), whatever the page declares.';
COMMENT ON COLUMN fetch_log.outcome IS 'new | changed | unchanged (200, same bytes as last time) | not_modified (304, archived copy reused) | disallowed (robots.txt) | http_error (4xx, or 5xx after every retry) | network_error (timeouts, refused connections after every retry).';
COMMENT ON COLUMN fetch_log.page_kind IS 'For content: notice (handed on to parsing) | listing | soft_404 (error page served with 200) | list_page (a list of links reached as a notice link) | not_a_notice (no rectification content, too short, undecodable). Only notice pages are parsed.';
COMMENT ON COLUMN fetch_log.reason IS 'Why the page was skipped or the request failed; NULL for notices and list pages read fine.';
