"""Where notices are published: the sources of sources.yaml, loaded and validated.

A source is one of three kinds (the key present says which):

    - name: seeds                      # a local folder of .txt / .html notices (today's landing folder)
      folder: seeds
    - name: county_jw                  # a fixed list of notice pages
      pages: [https://example.gov.cn/xcgz/t20240105_1.html]
    - name: city_xuncha                # a list page (巡视巡察 / 整改公开 column) whose links are notices
      listing: https://example.gov.cn/xcgz/index.html
      links: {css: "ul.list li a"}     # or {regex: '/t\\d{8}_\\d+\\.html$'} (searched in the absolute URL)
      next_page: {text: 下一页}         # or {css: ...}, {regex: ...}, {template: index_{n}.html}
      max_pages: 3

Top-level keys: `archive` (folder of the raw page archive and its fetch log, default `warehouse/archive`),
`politeness` (defaults for every web source; a source may override any of them under its own `politeness`).
Relative paths are relative to the folder of sources.yaml. Any mistake is a `SourcesError` naming the file
and the source, never a silent default.
"""

import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

DEFAULT_ARCHIVE = "warehouse/archive"
DEFAULT_USER_AGENT = (
    "zhenggai/0.1 (research warehouse of published rectification notices; polite crawler: honours robots.txt, "
    "one request at a time per host)"
)
# A source name becomes a Dagster asset key and a Python identifier.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_KINDS = ("folder", "pages", "listing")
_LINK_RULES = ("css", "regex")
_NEXT_RULES = ("css", "regex", "text", "template")


class SourcesError(ValueError):
    """sources.yaml is missing, malformed, or describes a source that cannot be fetched."""


@dataclass(frozen=True)
class Politeness:
    """How gently a web source is fetched. The defaults suit a small government web server."""

    user_agent: str = DEFAULT_USER_AGENT
    max_per_host: int = 1  # requests in flight to one host at a time
    delay_seconds: float = 1.0  # between the starts of two requests to one host (robots.txt Crawl-delay wins if longer)
    timeout_seconds: float = 20.0  # connect / read / write timeout of one request
    retries: int = 3  # further attempts after a 5xx, a 429, a timeout or a network error; never after other 4xx
    backoff_seconds: float = 2.0  # first wait before a retry, doubled at each further attempt
    max_backoff_seconds: float = 60.0  # cap of one wait (also of a server's Retry-After)
    max_bytes: int = 20_000_000  # a bigger response is not a notice page

    @classmethod
    def from_mapping(cls, values: Any, where: str, base: "Politeness | None" = None) -> "Politeness":
        base = base or cls()
        if values is None:
            return base
        if not isinstance(values, dict):
            raise SourcesError(f"{where}: politeness must be a mapping")
        known = {f.name: f.type for f in fields(cls)}
        unknown = set(values) - set(known)
        if unknown:
            raise SourcesError(f"{where}: unknown politeness setting(s) {sorted(unknown)}; known: {sorted(known)}")
        checked = {}
        for name, value in values.items():
            default = getattr(base, name)
            if isinstance(default, str):
                if not isinstance(value, str) or not value.strip():
                    raise SourcesError(f"{where}: politeness.{name} must be a non-empty string")
            else:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise SourcesError(f"{where}: politeness.{name} must be a number ≥ 0, got {value!r}")
                if isinstance(default, int) and value != int(value):
                    raise SourcesError(f"{where}: politeness.{name} must be a whole number, got {value!r}")
                value = type(default)(value)
            checked[name] = value
        result = replace(base, **checked)
        if result.max_per_host < 1:
            raise SourcesError(f"{where}: politeness.max_per_host must be at least 1")
        if result.timeout_seconds <= 0:
            raise SourcesError(f"{where}: politeness.timeout_seconds must be > 0")
        return result


@dataclass(frozen=True)
class LinkRule:
    """How to find links on a list page: a CSS selector (selectolax / lexbor) or a regex over absolute URLs.

    For a next-page rule also `text` (the link's visible text, e.g. 下一页) or `template` (a URL relative to
    the list page with `{n}` the page number from 1: `index_{n}.html`, the common CMS layout).
    """

    kind: str
    value: str

    @classmethod
    def from_mapping(cls, values: Any, where: str, allowed: tuple[str, ...]) -> "LinkRule":
        if isinstance(values, str):  # a bare string is a CSS selector
            values = {"css": values}
        if not isinstance(values, dict) or len(values) != 1:
            raise SourcesError(f"{where}: expected exactly one of {', '.join(allowed)}, e.g. {{css: 'ul.list a'}}")
        ((kind, value),) = values.items()
        if kind not in allowed:
            raise SourcesError(f"{where}: unknown rule {kind!r}; use one of {', '.join(allowed)}")
        if not isinstance(value, str) or not value.strip():
            raise SourcesError(f"{where}: {kind} must be a non-empty string")
        if kind == "regex":
            try:
                re.compile(value)
            except re.error as error:
                raise SourcesError(f"{where}: invalid regex {value!r}: {error}") from None
        if kind == "css":
            from selectolax.lexbor import LexborHTMLParser

            try:
                LexborHTMLParser("<p></p>").css(value)
            except Exception as error:  # lexbor raises a bare exception type for a bad selector
                raise SourcesError(f"{where}: invalid CSS selector {value!r}: {error}") from None
        if kind == "template" and "{n}" not in value:
            raise SourcesError(f"{where}: template must contain {{n}} (the page number), got {value!r}")
        return cls(kind, value)


@dataclass(frozen=True)
class Source:
    """One configured place notices are published."""

    name: str
    kind: str  # folder | pages | listing
    folder: Path | None = None  # folder: None means the landing folder of the notice_source resource
    urls: tuple[str, ...] = ()  # pages: the notice pages; listing: the first list page
    links: LinkRule | None = None
    next_page: LinkRule | None = None
    max_pages: int = 1
    politeness: Politeness = field(default_factory=Politeness)

    @property
    def is_web(self) -> bool:
        return self.kind != "folder"


@dataclass(frozen=True)
class SourcesConfig:
    sources: tuple[Source, ...]
    archive: Path
    file: Path | None = None  # the sources.yaml it was read from

    @property
    def web_sources(self) -> tuple[Source, ...]:
        return tuple(s for s in self.sources if s.is_web)


def default_config() -> SourcesConfig:
    """No sources.yaml: the landing folder of the notice_source resource (ZHENGGAI_SOURCE / --source), as before."""
    return SourcesConfig(sources=(Source(name="landing", kind="folder"),), archive=Path(DEFAULT_ARCHIVE))


def load_sources(path: Path | str) -> SourcesConfig:
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SourcesError(f"cannot read sources file {path}: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise SourcesError(f"{path}: not valid YAML: {error}") from None
    return parse_sources(document, path)


def parse_sources(document: Any, path: Path) -> SourcesConfig:
    where = str(path)
    if not isinstance(document, dict):
        raise SourcesError(f"{where}: expected a mapping with a `sources` list")
    unknown = set(document) - {"sources", "archive", "politeness"}
    if unknown:
        raise SourcesError(f"{where}: unknown top-level key(s) {sorted(unknown)}; known: archive, politeness, sources")
    base_dir = path.parent
    politeness = Politeness.from_mapping(document.get("politeness"), where)
    entries = document.get("sources")
    if not isinstance(entries, list) or not entries:
        raise SourcesError(f"{where}: `sources` must be a non-empty list")
    sources = [_parse_source(entry, f"{where}: sources[{index}]", base_dir, politeness) for index, entry in enumerate(entries)]
    names = [s.name for s in sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SourcesError(f"{where}: duplicate source name(s) {duplicates}")
    archive = document.get("archive", DEFAULT_ARCHIVE)
    if not isinstance(archive, str) or not archive.strip():
        raise SourcesError(f"{where}: archive must be a folder path")
    return SourcesConfig(sources=tuple(sources), archive=base_dir / archive, file=path)


def _parse_source(entry: Any, where: str, base_dir: Path, politeness: Politeness) -> Source:
    if not isinstance(entry, dict):
        raise SourcesError(f"{where}: each source is a mapping with a name and one of {', '.join(_KINDS)}")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SourcesError(f"{where}: name must be lower-case letters, digits and _ (starting with a letter), got {name!r}")
    where = f"{where} ({name})"
    kinds = [k for k in _KINDS if k in entry]
    if len(kinds) != 1:
        raise SourcesError(f"{where}: give exactly one of {', '.join(_KINDS)}")
    kind = kinds[0]
    allowed = {"name", kind, "politeness"} | ({"links", "next_page", "max_pages"} if kind == "listing" else set())
    unknown = set(entry) - allowed
    if unknown:
        raise SourcesError(f"{where}: unknown key(s) {sorted(unknown)} for a {kind} source")
    if kind == "folder":
        folder = entry["folder"]
        if not isinstance(folder, str) or not folder.strip():
            raise SourcesError(f"{where}: folder must be a path")
        if "politeness" in entry:
            raise SourcesError(f"{where}: politeness applies to web sources only")
        return Source(name=name, kind=kind, folder=base_dir / folder)
    own_politeness = Politeness.from_mapping(entry.get("politeness"), where, base=politeness)
    if kind == "pages":
        urls = entry["pages"]
        if isinstance(urls, str):
            urls = [urls]
        if not isinstance(urls, list) or not urls:
            raise SourcesError(f"{where}: pages must be a non-empty list of URLs")
        return Source(name=name, kind=kind, urls=tuple(_check_url(u, where) for u in dict.fromkeys(urls)), politeness=own_politeness)
    if "links" not in entry:
        raise SourcesError(f"{where}: a listing source needs `links` (a CSS selector or a regex for the notice links)")
    links = LinkRule.from_mapping(entry["links"], f"{where}: links", _LINK_RULES)
    next_page = LinkRule.from_mapping(entry["next_page"], f"{where}: next_page", _NEXT_RULES) if entry.get("next_page") else None
    max_pages = entry.get("max_pages", 5 if next_page else 1)
    if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
        raise SourcesError(f"{where}: max_pages must be a whole number ≥ 1, got {max_pages!r}")
    return Source(
        name=name, kind=kind, urls=(_check_url(entry["listing"], where),), links=links, next_page=next_page,
        max_pages=max_pages, politeness=own_politeness,
    )


def _check_url(url: Any, where: str) -> str:
    if not isinstance(url, str):
        raise SourcesError(f"{where}: a URL must be a string, got {url!r}")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SourcesError(f"{where}: not an http(s) URL: {url!r}")
    return url.strip()
