-- Lineage of the loaded notices: every source file and every version of its content (issue 4).

CREATE TABLE source_file (
    source_name    VARCHAR NOT NULL,
    content_sha256 VARCHAR NOT NULL,
    notice_key     VARCHAR,
    state          VARCHAR NOT NULL,
    detail         VARCHAR
);
COMMENT ON TABLE source_file IS 'One row per source file seen by the latest refresh (in the landing folder, or kept although its file is gone) and what became of it.';
COMMENT ON COLUMN source_file.source_name IS 'File name in the landing folder.';
COMMENT ON COLUMN source_file.content_sha256 IS 'SHA-256 of the file''s bytes.';
COMMENT ON COLUMN source_file.notice_key IS 'The notice its content is loaded as (dim_notice.notice_key); NULL when quarantined.';
COMMENT ON COLUMN source_file.state IS 'loaded | duplicate (same content as another loaded file, loaded once) | quarantined (see quarantine_notice) | missing (file no longer in the landing folder; its facts are kept until a refresh with --prune).';
COMMENT ON COLUMN source_file.detail IS 'For duplicates the file whose content was loaded; for missing files what to do.';

CREATE TABLE notice_version (
    source_name    VARCHAR NOT NULL,
    content_sha256 VARCHAR NOT NULL,
    notice_key     VARCHAR NOT NULL,
    raw_text       VARCHAR USING COMPRESSION zstd,
    valid_from     TIMESTAMP WITH TIME ZONE NOT NULL,
    valid_to       TIMESTAMP WITH TIME ZONE,
    -- a closed version's text is nowhere else once its content is no longer loaded
    CHECK (valid_to IS NULL OR raw_text IS NOT NULL)
);
COMMENT ON TABLE notice_version IS 'History of every version of every source file ever loaded: a file republished with edits gets a new version and the old one is closed, its raw text kept (the current version''s text is raw_notice.raw_text, stored once). Not exposed in the BI views (raw text may name private individuals).';
COMMENT ON COLUMN notice_version.source_name IS 'File name in the landing folder.';
COMMENT ON COLUMN notice_version.content_sha256 IS 'SHA-256 of this version''s bytes.';
COMMENT ON COLUMN notice_version.notice_key IS 'Key of this version (first 16 hex digits of content_sha256); in dim_notice while the version is current.';
COMMENT ON COLUMN notice_version.raw_text IS 'The decoded text of this version as published, once the version is closed; NULL while it is current (valid_to NULL): its text is then raw_notice.raw_text of the same content_sha256.';
COMMENT ON COLUMN notice_version.valid_from IS 'When a refresh first loaded this version under this file name.';
COMMENT ON COLUMN notice_version.valid_to IS 'When a refresh replaced it (file edited) or pruned it (file deleted); NULL while current.';

CREATE VIEW notice_change AS
SELECT
    new.source_name,
    old.notice_key     AS previous_notice_key,
    new.notice_key     AS notice_key,
    new.valid_from     AS changed_at,
    length(coalesce(new.raw_text, loaded.raw_text)) - length(old.raw_text) AS length_change
FROM notice_version AS new
JOIN notice_version AS old
  ON old.source_name = new.source_name AND old.valid_to = new.valid_from
LEFT JOIN (SELECT content_sha256, any_value(raw_text) AS raw_text FROM raw_notice GROUP BY content_sha256) AS loaded
  ON new.raw_text IS NULL AND loaded.content_sha256 = new.content_sha256;
COMMENT ON VIEW notice_change IS 'One row per republication with edits: the file, the replaced and the new version, when. Compare their texts to see what changed (notice_version.raw_text, or raw_notice.raw_text for the current version).';
COMMENT ON COLUMN notice_change.source_name IS 'File name in the landing folder.';
COMMENT ON COLUMN notice_change.previous_notice_key IS 'Key of the replaced version.';
COMMENT ON COLUMN notice_change.notice_key IS 'Key of the version that replaced it.';
COMMENT ON COLUMN notice_change.changed_at IS 'The refresh that loaded the new version.';
COMMENT ON COLUMN notice_change.length_change IS 'Characters added (negative: removed) by the edit.';
