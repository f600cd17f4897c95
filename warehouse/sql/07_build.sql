-- What this warehouse was built from (issue 4). A refresh whose inputs and code give the same digests
-- leaves the published file untouched: nothing is parsed, staged, gated or published.

CREATE TABLE refresh_build (
    build_digest   VARCHAR NOT NULL,
    input_digest   VARCHAR NOT NULL,
    code_digest    VARCHAR NOT NULL,
    source_files   BIGINT NOT NULL,
    prune_missing  BOOLEAN NOT NULL,
    built_at       TIMESTAMP WITH TIME ZONE NOT NULL
);
COMMENT ON TABLE refresh_build IS 'One row: the build that produced this file. A later refresh with the same input and code digests does nothing and leaves the file as it is.';
COMMENT ON COLUMN refresh_build.build_digest IS 'Digest of input_digest and code_digest (16 hex digits).';
COMMENT ON COLUMN refresh_build.input_digest IS 'Digest of every landed file (name, SHA-256 of its bytes, read error), the fetch log and the prune option.';
COMMENT ON COLUMN refresh_build.code_digest IS 'Digest of every code, DDL, suite and reference file of the project and of the versions of the libraries that shape the tables.';
COMMENT ON COLUMN refresh_build.source_files IS 'Files (and fetched pages) the build read, quarantined ones included.';
COMMENT ON COLUMN refresh_build.prune_missing IS 'True when the build removed the facts of notices whose file had disappeared (--prune).';
COMMENT ON COLUMN refresh_build.built_at IS 'When the build was staged (UTC); the file was published after the gate passed.';
