"""What a fetched page is: a notice to load, or a page to record and skip (with the reason).

Also the links of a list page and its next page. Pure functions over decoded HTML; the cues are in
page_cues.yaml beside this file.
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import yaml
from selectolax.lexbor import LexborHTMLParser

from landing.sources import LinkRule
from transforms.text import html_to_text, looks_like_html, normalize_text

CUES_FILE = Path(__file__).with_name("page_cues.yaml")
_LETTERS = re.compile(r"[^\W\d_]")

NOTICE = "notice"
LISTING = "listing"  # a configured list page: its links are followed, it is never loaded
SOFT_404 = "soft_404"
LIST_PAGE = "list_page"  # a page reached as a notice link that turned out to be a list of links
NOT_A_NOTICE = "not_a_notice"
PAGE_KINDS = (NOTICE, LISTING, SOFT_404, LIST_PAGE, NOT_A_NOTICE)


@dataclass(frozen=True)
class PageKind:
    kind: str
    reason: str | None = None


@cache
def cues() -> dict:
    return yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))


def is_html(decoded: str, content_type: str | None) -> bool:
    return "html" in (content_type or "").lower() or looks_like_html(decoded)


def classify_page(decoded: str, content_type: str | None = None) -> PageKind:
    """Classify a decoded page reached as a notice link (or listed as a notice page)."""
    c = cues()
    html = is_html(decoded, content_type)
    tree = LexborHTMLParser(decoded) if html else None
    text = normalize_text(html_to_text(decoded) if html else decoded)
    title_node = tree.css_first("title") if tree is not None else None
    title = normalize_text(title_node.text()) if title_node is not None else ""

    soft = c["soft_404"]
    if len(text) <= soft["max_chars"]:
        # Link text is left out: a list page linking to "已撤稿件" is not an error page.
        own_text = _text_without_links(decoded) if html else text
        opening = (title + "\n" + own_text[: soft["opening_chars"]]).lower()
        for phrase in soft["phrases"]:
            if str(phrase).lower() in opening:
                return PageKind(SOFT_404, f"error page served with status 200 (says {phrase!r}, {len(text)} characters)")

    if tree is not None:
        links, share = _link_share(tree, text)
        lp = c["list_page"]
        if links >= lp["min_links"] and share >= lp["min_link_share"]:
            return PageKind(LIST_PAGE, f"a list of links, not a notice ({links} links, {share:.0%} of the text is link text)")

    n = c["notice"]
    if len(text) < n["min_chars"]:
        return PageKind(NOT_A_NOTICE, f"too short to be a notice ({len(text)} characters)")
    missing = [group["name"] for group in n["requires"] if not any(word in text for word in group["any"])]
    if missing:
        return PageKind(NOT_A_NOTICE, "no rectification content: does not mention " + " nor ".join(missing))
    return PageKind(NOTICE)


def _text_without_links(decoded: str) -> str:
    tree = LexborHTMLParser(decoded)
    for anchor in tree.css("a"):
        anchor.decompose()
    return normalize_text(html_to_text(tree.html or ""))


def _link_share(tree: LexborHTMLParser, text: str) -> tuple[int, float]:
    body = tree.body or tree.root
    if body is None:
        return 0, 0.0
    anchors = body.css("a[href]")
    # Letters only (CJK included): the dates and counts beside each link say nothing about what the page is.
    link_chars = sum(len(_LETTERS.findall(normalize_text(a.text()))) for a in anchors)
    all_chars = len(_LETTERS.findall(text)) or 1
    return len(anchors), min(1.0, link_chars / all_chars)


def _base_url(tree: LexborHTMLParser, page_url: str) -> str:
    base = tree.css_first("base[href]")
    return urljoin(page_url, base.attributes.get("href") or "") if base is not None else page_url


def _absolute(base: str, href: str | None) -> str | None:
    if not href or href.strip().lower().startswith(("javascript:", "mailto:", "tel:", "#")):
        return None
    url = urldefrag(urljoin(base, href.strip())).url
    return url if urlsplit(url).scheme in ("http", "https") else None


def _anchors(tree: LexborHTMLParser, selector: str):
    for node in tree.css(selector):
        if node.tag == "a" and node.attributes.get("href"):
            yield node
        else:
            yield from node.css("a[href]")


def extract_links(decoded: str, page_url: str, rule: LinkRule) -> list[str]:
    """Absolute URLs of the links `rule` selects on a list page, in page order, each once."""
    tree = LexborHTMLParser(decoded)
    base = _base_url(tree, page_url)
    if rule.kind == "css":
        candidates = (_absolute(base, a.attributes.get("href")) for a in _anchors(tree, rule.value))
        found = [u for u in candidates if u]
    else:
        pattern = re.compile(rule.value)
        candidates = (_absolute(base, a.attributes.get("href")) for a in tree.css("a[href]"))
        found = [u for u in candidates if u and pattern.search(u)]
    return list(dict.fromkeys(found))


def next_page_url(decoded: str, page_url: str, first_url: str, rule: LinkRule, pages_seen: int) -> str | None:
    """The URL of the list page after `page_url` (`pages_seen` list pages read so far), or None."""
    if rule.kind == "template":
        return urljoin(first_url, rule.value.format(n=pages_seen))
    tree = LexborHTMLParser(decoded)
    base = _base_url(tree, page_url)
    if rule.kind == "css":
        anchors = list(_anchors(tree, rule.value))
    elif rule.kind == "text":
        wanted = normalize_text(rule.value)
        anchors = [a for a in tree.css("a[href]") if wanted in normalize_text(a.text())]
    else:
        pattern = re.compile(rule.value)
        anchors = [a for a in tree.css("a[href]") if pattern.search(_absolute(base, a.attributes.get("href")) or "")]
    for anchor in anchors:
        url = _absolute(base, anchor.attributes.get("href"))
        if url and url != page_url:
            return url
    return None
