"""The raw page archive and the fetch log: every fetched page's bytes as received, and every request made.

Layout under the archive folder:

    pages/ab/ab12…ef          the bytes of a response body exactly as received, named by their SHA-256
    pages/ab/ab12…ef.json     what was detected about them (encoding, content type, first URL, first fetched)
    fetch_log.jsonl           one JSON line per request (or skipped request), appended as it happens

Bytes are written once per content (content-addressed), through a temporary file and os.replace, so a
crash never leaves a truncated page under its final name. A parser fix can be replayed over the whole
history from here without fetching again; the fetch log is also what the next run reads for conditional
requests, so `zhenggai fetch` alone keeps the state even when no refresh publishes a warehouse.
"""

import hashlib
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

import polars as pl

FETCH_LOG_SCHEMA = {
    "source": pl.String,
    "url": pl.String,
    "role": pl.String,
    "fetched_at": pl.Datetime("us", "UTC"),
    "http_status": pl.Int32,
    "attempts": pl.Int32,
    "conditional": pl.Boolean,
    "bytes": pl.Int64,
    "content_sha256": pl.String,
    "etag": pl.String,
    "last_modified": pl.String,
    "content_type": pl.String,
    "encoding": pl.String,
    "outcome": pl.String,
    "page_kind": pl.String,
    "reason": pl.String,
}
LOG_NAME = "fetch_log.jsonl"


class ArchiveError(OSError):
    """A page that the fetch log names is not in the archive (deleted or never written)."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Archive:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    @property
    def log_file(self) -> Path:
        return self.root / LOG_NAME

    def page_path(self, sha256: str) -> Path:
        return self.root / "pages" / sha256[:2] / sha256

    def store(self, data: bytes, *, url: str, content_type: str | None, encoding: str | None, fetched_at: datetime) -> str:
        """Save `data` (if not already there) and return its SHA-256."""
        sha = sha256_hex(data)
        path = self.page_path(sha)
        if not path.exists():
            _atomic_write(path, data)
            meta = {"sha256": sha, "bytes": len(data), "encoding": encoding, "content_type": content_type,
                    "first_url": url, "first_fetched_at": fetched_at.isoformat()}
            _atomic_write(path.with_name(sha + ".json"), json.dumps(meta, ensure_ascii=False, indent=1).encode())
        return sha

    def load(self, sha256: str) -> bytes:
        try:
            return self.page_path(sha256).read_bytes()
        except FileNotFoundError:
            raise ArchiveError(f"archived page {sha256} is missing from {self.root / 'pages'}") from None

    def has(self, sha256: str | None) -> bool:
        return bool(sha256) and self.page_path(sha256).exists()

    def append_log(self, rows: list[dict]) -> None:
        if not rows:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(_jsonable(row), ensure_ascii=False) + "\n" for row in rows)
        with self.log_file.open("a", encoding="utf-8") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())

    def read_log(self) -> pl.DataFrame:
        """The whole fetch log, oldest first (empty when nothing was ever fetched)."""
        if not self.log_file.exists():
            return pl.DataFrame(schema=FETCH_LOG_SCHEMA)
        rows = []
        with self.log_file.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    # A line cut short by a crash while appending: the request is simply made again next time.
                    continue
        if not rows:
            return pl.DataFrame(schema=FETCH_LOG_SCHEMA)
        frame = pl.DataFrame(rows, schema={k: (pl.String if k == "fetched_at" else v) for k, v in FETCH_LOG_SCHEMA.items()})
        return frame.with_columns(pl.col("fetched_at").str.to_datetime(time_zone="UTC", time_unit="us"))


def log_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=FETCH_LOG_SCHEMA) if rows else pl.DataFrame(schema=FETCH_LOG_SCHEMA)


def _jsonable(row: dict) -> dict:
    return {key: (value.isoformat() if isinstance(value, datetime) else value) for key, value in row.items() if key in FETCH_LOG_SCHEMA}


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
