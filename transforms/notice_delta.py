"""What changed between the published warehouse and the one a refresh builds, notice by notice (变更集).

A refresh after a few edited files builds a warehouse that differs from the published one in a few notices
only. warehouse/patch.py then writes the staging file as a copy of the published file with that difference
applied instead of loading every notice again; the frames here say what the difference is, from keys and
names only (no text, no I/O):

- a notice is *added* when its key is loaded now but was not published (new content; an edited file's new
  version), *removed* when it was published but is not loaded now (pruned file; the old version of an edited
  file: notice_key is derived from content_sha256, so an edit is a removal plus an addition);
- a notice is *renamed* when its key stays but is loaded under another file name (the file was renamed, or
  its first name is gone and an exact duplicate under another name now carries it);
- version rows (notice_version without raw_text) are compared whole: a row is kept when an identical row
  was published, inserted when it is new (a new version, or a version closed now), deleted when it is gone.
"""

from dataclasses import dataclass

import polars as pl

NOTICE_NAMES = {"notice_key": pl.String, "source_name": pl.String}


@dataclass(frozen=True)
class NoticeDelta:
    """The notices whose rows differ between the published warehouse and the one being built."""

    added: pl.Series  # notice_key loaded now, not published
    removed: pl.Series  # notice_key published, not loaded now
    renamed: pl.DataFrame  # notice_key, source_name (the new name) of notices published under another name
    loaded: int  # notices loaded now

    @property
    def changed(self) -> int:
        """Notices whose rows are inserted, deleted or rewritten."""
        return self.added.len() + self.removed.len() + self.renamed.height

    def rewritten_keys(self) -> list[str]:
        """Keys of the loaded notices whose rows the patch writes (added or renamed), sorted."""
        return sorted(set(self.added.to_list()) | set(self.renamed["notice_key"].to_list()))


def notice_delta(published: pl.DataFrame, loaded: pl.DataFrame) -> NoticeDelta:
    """The delta from `published` to `loaded`, both (notice_key, source_name), one row per notice."""
    before = published.select(list(NOTICE_NAMES)).cast(NOTICE_NAMES).unique("notice_key", keep="first", maintain_order=True)
    after = loaded.select(list(NOTICE_NAMES)).cast(NOTICE_NAMES).unique("notice_key", keep="first", maintain_order=True)
    renamed = (
        after.join(before, on="notice_key", how="inner", suffix="_published")
        .filter(pl.col("source_name") != pl.col("source_name_published"))
        .select(list(NOTICE_NAMES))
        .sort("notice_key")
    )
    return NoticeDelta(
        added=after.join(before, on="notice_key", how="anti")["notice_key"].sort(),
        removed=before.join(after, on="notice_key", how="anti")["notice_key"].sort(),
        renamed=renamed,
        loaded=after.height,
    )


def is_small_change(changed: int, published_notices: int, loaded_notices: int, max_share: float, always_below: int) -> bool:
    """Whether patching is worth it: at most `always_below` changed notices (NoticeDelta.changed), or at most
    `max_share` of the larger of the published and the loaded notice counts."""
    return changed <= max(always_below, max_share * max(published_notices, loaded_notices))


def version_delta(published: pl.DataFrame, versions: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows to insert, rows to delete) that turn the `published` version rows into `versions` (both with the
    same columns, no raw_text); rows equal in every column (NULL equal to NULL) are left alone."""
    columns = versions.columns
    before = published.select(columns).cast(versions.schema)
    insert = versions.join(before, on=columns, how="anti", nulls_equal=True)
    delete = before.join(versions, on=columns, how="anti", nulls_equal=True)
    return insert, delete
