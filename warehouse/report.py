"""`zhenggai report`: one self-contained HTML page about the published warehouse.

Per notice: who was inspected by whom and when, completion by status (parsed and as the notice claims),
problems by topic, headline figures, and the gaps between the counts a notice claims and what its text lists.
Everything comes from the marts (warehouse/sql/03_marts.sql) over a read-only connection. The page fetches
nothing: the style sheet is inline and the charts are SVG drawn here, so it can be mailed or archived as is.
"""

import html
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from string import Template

import polars as pl

from warehouse.summary import run_query

TEMPLATE = Path(__file__).with_name("report_template.html")

# Status groups of mart_issue.status_group, in the order a reader expects, with colours distinguishable in
# greyscale print (dark → light) and for the common colour-vision deficiencies.
STATUS_GROUPS = (
    ("completed", "completed 已完成", "#1b7837"),
    ("basically_completed", "basically completed 基本完成", "#7fbf7b"),
    ("open", "in progress / long term 推进中", "#f1a340"),
    ("not_feasible", "not feasible 暂不具备条件", "#b2182b"),
    ("unknown", "status not stated 未说明", "#c9ced6"),
)
BAR_COLOUR = "#3b6ea8"
CLAIMED_COLOUR, PARSED_COLOUR = "#555f6d", "#3b6ea8"


@dataclass(frozen=True)
class ReportData:
    notices: pl.DataFrame
    status_counts: pl.DataFrame
    topic_counts: pl.DataFrame
    headlines: pl.DataFrame
    claims: pl.DataFrame
    totals: dict[str, int]


def load_report_data(warehouse: Path) -> ReportData:
    """Everything the page shows, read from the marts of `warehouse`."""
    notices = run_query(warehouse, """
        SELECT * FROM mart_notice ORDER BY publish_date NULLS LAST, organization, notice_key""")
    status_counts = run_query(warehouse, """
        SELECT notice_key, status_group, count(*) AS problems
        FROM mart_issue WHERE is_leaf GROUP BY ALL""")
    topic_counts = run_query(warehouse, """
        SELECT notice_key, coalesce(topic, 'unclassified') AS topic, count(*) AS problems
        FROM mart_issue WHERE is_leaf GROUP BY ALL ORDER BY notice_key, problems DESC, topic""")
    headlines = run_query(warehouse, """
        SELECT i.notice_key, h.headline, h.label_zh, h.label_en, h.base_unit,
               count(*) AS mentions, sum(i.value_base) AS total, max(i.value_base) AS largest
        FROM mart_indicator i
        -- one row per headline: several metrics may count towards one (meetings and trainings)
        JOIN (SELECT DISTINCT headline, label_zh, label_en, base_unit FROM mart_headline_metric) h USING (headline)
        GROUP BY ALL ORDER BY i.notice_key, h.base_unit DESC, total DESC""")
    claims = run_query(warehouse, """
        SELECT notice_key, subject, coalesce(status, 'total') AS status, claimed_count, parsed_count,
               claimed_count - parsed_count AS gap,
               CASE WHEN reconciled THEN 'agrees' WHEN NOT reconciled THEN 'differs' ELSE 'unverifiable' END AS verdict,
               quote
        FROM fact_claim ORDER BY notice_key, char_start""")
    totals = run_query(warehouse, """
        SELECT (SELECT count(*) FROM dim_notice) AS notices,
               (SELECT count(*) FROM mart_issue WHERE is_leaf) AS problems,
               (SELECT count(*) FROM fact_measure) AS measures,
               (SELECT count(*) FROM fact_indicator) AS figures,
               (SELECT count(*) FROM fact_claim WHERE NOT reconciled) AS claims_differing,
               (SELECT count(*) FROM quarantine_notice) AS quarantined""").row(0, named=True)
    return ReportData(notices, status_counts, topic_counts, headlines, claims, totals)


def write_report(warehouse: Path, output: Path, now: datetime | None = None) -> Path:
    """Render the report of `warehouse` to `output` (written whole, then renamed into place)."""
    page = render_report(load_report_data(warehouse), warehouse, now or datetime.now(timezone.utc))
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, output)
    return output


def render_report(data: ReportData, warehouse: Path, now: datetime) -> str:
    title = "zhenggai — rectification notices report (整改进展情况通报)"
    parts = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">Warehouse {_e(str(warehouse))} · generated {now:%Y-%m-%d %H:%M} UTC</p>',
        _kpis(data.totals),
        "<h3>Notices</h3>",
        _overview(data.notices),
        '<p class="note">Problems are the finest items a notice lists (具体问题 where given). Computed completion '
        "counts their parsed statuses; stated completion uses the totals the notice itself claims.</p>",
    ]
    for notice in data.notices.iter_rows(named=True):
        parts.append(_notice_section(notice, data))
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(title=_e(title), body="\n".join(parts))


# --- page parts ------------------------------------------------------------------------------------------

def _kpis(totals: dict[str, int]) -> str:
    labels = (("notices", "notices 通报"), ("problems", "problems 问题"), ("measures", "measures 措施"),
              ("figures", "figures 数据"), ("claims_differing", "claims that differ"),
              ("quarantined", "files quarantined"))
    cells = "".join(f'<div class="kpi"><b>{totals[key]:,}</b><span>{_e(label)}</span></div>' for key, label in labels)
    return f'<div class="kpis">{cells}</div>'


def _overview(notices: pl.DataFrame) -> str:
    head = ("<tr><th>inspected unit</th><th>inspection</th><th>published</th><th class='num'>problems</th>"
            "<th class='num'>completed (computed)</th><th class='num'>completed (stated)</th>"
            "<th class='num'>claims agree / differ</th></tr>")
    rows = []
    for n in notices.iter_rows(named=True):
        rows.append(
            f"<tr><td><a href='#{_anchor(n)}'>{_e(n['organization'])}</a></td>"
            f"<td>{_e(n['inspecting_body'])}</td><td>{_date(n['publish_date'])}</td>"
            f"<td class='num'>{n['parsed_issues']}</td><td class='num'>{_pct(n['completion_rate_computed'])}</td>"
            f"<td class='num'>{_pct(n['completion_rate_stated'])}</td>"
            f"<td class='num'>{n['claims_reconciled']} / {n['claims_disagreeing']}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _notice_section(n: dict, data: ReportData) -> str:
    key = n["notice_key"]
    statuses = dict(data.status_counts.filter(pl.col("notice_key") == key).select("status_group", "problems").iter_rows())
    topics = data.topic_counts.filter(pl.col("notice_key") == key)
    headlines = data.headlines.filter(pl.col("notice_key") == key)
    claims = data.claims.filter(pl.col("notice_key") == key)
    lags = []
    if n["days_inspection_end_to_feedback"] is not None:
        lags.append(f"{n['days_inspection_end_to_feedback']} days from inspection end to feedback")
    if n["days_feedback_to_publish"] is not None:
        lags.append(f"{n['days_feedback_to_publish']} days from feedback to this notice")
    approx = " (approximate: a date is vague)" if n["lags_approximate"] else ""
    meta = (f"{_e(n['inspection_kind'])} by {_e(n['inspecting_body'])} · on site {_date(n['inspection_start'])} – "
            f"{_date(n['inspection_end'])} · feedback {_date(n['feedback_date'])} · published "
            f"{_date(n['publish_date'])} · {_e(n['report_stage'])}")
    return f"""
<section class="notice" id="{_anchor(n)}">
  <h2>{_e(n['organization'])}</h2>
  <p class="sub">{meta}<br>{_e('; '.join(lags) + approx) if lags else 'lags unknown: a date is missing'}
  · <span class="note">{_e(n['source_name'])}</span></p>
  <div class="grid">
    <div>
      <h3>Completion by status</h3>
      {_completion(n, statuses, claims)}
      <h3>Problems by topic</h3>
      {_bar_chart([(t, c) for t, c in topics.select('topic', 'problems').iter_rows()], 'problems by topic')}
    </div>
    <div>
      <h3>Headline figures</h3>
      {_headline_table(headlines)}
    </div>
  </div>
  <h3>Claims beside parsed counts</h3>
  {_claims(claims)}
</section>"""


def _completion(n: dict, statuses: dict[str, int], claims: pl.DataFrame) -> str:
    total = sum(statuses.values())
    segments = [(label, statuses.get(group, 0), colour) for group, label, colour in STATUS_GROUPS]
    stated = ""
    if n["completion_rate_stated"] is not None:
        if n["claimed_issues"] is not None:
            denominator = f"{n['claimed_issues']} claimed in total"
        else:  # mart_notice then divides by the sum of the per-status claims
            by_status = claims.filter((pl.col("subject") == "issues") & (pl.col("status") != "total"))
            denominator = f"{by_status['claimed_count'].sum()} counted by status"
        stated = (f"<p>The notice claims <b>{n['claimed_completed']}</b> completed of {denominator}: "
                  f"<b>{_pct(n['completion_rate_stated'])}</b> stated.</p>")
    elif n["claimed_completed"] is not None:
        stated = f"<p>The notice claims <b>{n['claimed_completed']}</b> completed, without a total.</p>"
    computed = (f"<p>Parsed statuses: <b>{_pct(n['completion_rate_computed'])}</b> of {total} problems completed.</p>"
                if n["completion_rate_computed"] is not None
                else f"<p>The notice states no status for its {total} problems.</p>")
    claimed_chart = ""
    claimed = _claimed_by_group(claims)
    claimed_total = n["claimed_issues"]
    if claimed_total is not None and claimed and claimed_total > sum(claimed.values()):
        claimed["unknown"] = claimed_total - sum(claimed.values())  # claimed in total, no status claimed
    # Same rule as mart_notice's stated rate: a lone per-status claim without a total says nothing of the whole.
    if claimed and (claimed_total is not None or len(claimed) >= 2):
        claimed_segments = [(label, claimed.get(group, 0), colour) for group, label, colour in STATUS_GROUPS]
        claimed_chart = ('<p class="note">As the notice claims (its per-status totals):</p>'
                         + _stacked_bar(claimed_segments, "claimed problems by status"))
    return ('<p class="note">Parsed from the problems listed:</p>' + _stacked_bar(segments, "problems by status")
            + computed + claimed_chart + stated)


def _claimed_by_group(claims: pl.DataFrame) -> dict[str, int]:
    """The notice's per-status claims about its problems, summed by the status groups of the chart."""
    group_of = {"completed": "completed", "completed_long_term": "completed", "basically_completed": "basically_completed",
                "in_progress": "open", "long_term": "open", "not_feasible": "not_feasible"}
    counts: dict[str, int] = {}
    for claim in claims.filter(pl.col("subject") == "issues").iter_rows(named=True):
        group = group_of.get(claim["status"])
        if group is not None:
            counts[group] = counts.get(group, 0) + claim["claimed_count"]
    return counts


def _headline_table(headlines: pl.DataFrame) -> str:
    if headlines.is_empty():
        return '<p class="note">No headline figure found.</p>'
    rows = "".join(
        f"<tr><td>{_e(h['label_zh'])}<br><span class='note'>{_e(h['label_en'])}</span></td>"
        f"<td class='num'>{_amount(h['total'], h['base_unit'])}</td><td class='num'>{h['mentions']}</td>"
        f"<td class='num'>{_amount(h['largest'], h['base_unit'])}</td></tr>"
        for h in headlines.iter_rows(named=True))
    return ("<table><tr><th>figure</th><th class='num'>sum</th><th class='num'>mentions</th>"
            f"<th class='num'>largest</th></tr>{rows}</table>"
            '<p class="note">Sums of every mention that is not a change (增长/下降); a figure quoted twice '
            "counts twice.</p>")


def _claims(claims: pl.DataFrame) -> str:
    if claims.is_empty():
        return '<p class="note">The notice claims no totals.</p>'
    comparable = [(f"{c['subject']} · {c['status']}", c["claimed_count"], c["parsed_count"])
                  for c in claims.iter_rows(named=True) if c["parsed_count"] is not None]
    rows = "".join(
        f"<tr><td>{_e(c['subject'])}</td><td>{_e(c['status'])}</td><td class='num'>{c['claimed_count']:,}</td>"
        f"<td class='num'>{'' if c['parsed_count'] is None else format(c['parsed_count'], ',')}</td>"
        f"<td class='num'>{'' if c['gap'] is None else format(c['gap'], '+,')}</td>"
        f"<td class='{c['verdict']}'>{c['verdict']}</td><td>{_e(c['quote'])}</td></tr>"
        for c in claims.iter_rows(named=True))
    chart = _paired_bars(comparable) if comparable else ""
    return (chart + "<table><tr><th>subject</th><th>status</th><th class='num'>claimed</th>"
            "<th class='num'>parsed</th><th class='num'>gap</th><th>verdict</th><th>quote</th></tr>"
            f"{rows}</table>")


# --- charts (inline SVG) ----------------------------------------------------------------------------------

def _stacked_bar(segments: list[tuple[str, int, str]], title: str, width: int = 520) -> str:
    total = sum(value for _, value, _ in segments)
    bar_height, legend_row = 26, 18
    shown = [s for s in segments if s[1] > 0]
    height = bar_height + 10 + legend_row * max(len(shown), 1)
    parts = [f'<svg role="img" aria-label="{_e(title)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>']
    if total == 0:
        parts.append(f'<rect x="0" y="0" width="{width}" height="{bar_height}" fill="#eef1f4"/>'
                     f'<text x="8" y="17" font-size="12" fill="#5b6876">no problems parsed</text>')
    x = 0.0
    for label, value, colour in shown:
        share = value / total
        w = share * width
        parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{bar_height}" fill="{colour}">'
                     f'<title>{_e(label)}: {value}</title></rect>')
        if w > 28:
            parts.append(f'<text x="{x + w / 2:.1f}" y="17" font-size="12" text-anchor="middle" '
                         f'fill="{_text_on(colour)}">{value}</text>')
        x += w
    for i, (label, value, colour) in enumerate(shown):
        y = bar_height + 10 + i * legend_row
        parts.append(f'<rect x="0" y="{y}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="18" y="{y + 10}" font-size="12" fill="#1d2733">{_e(label)}: {value} '
                     f'({value / total:.0%})</text>')
    parts.append("</svg>")
    return "".join(parts)


def _bar_chart(rows: list[tuple[str, int]], title: str, width: int = 520) -> str:
    if not rows:
        return '<p class="note">No problems parsed.</p>'
    label_width, row_height = 170, 22
    top = max(value for _, value in rows)
    height = row_height * len(rows) + 4
    parts = [f'<svg role="img" aria-label="{_e(title)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>']
    for i, (label, value) in enumerate(rows):
        y = i * row_height
        w = (width - label_width - 40) * value / top if top else 0
        parts.append(f'<text x="{label_width - 6}" y="{y + 15}" font-size="12" text-anchor="end" '
                     f'fill="#1d2733">{_e(_short(label, 14))}</text>'
                     f'<rect x="{label_width}" y="{y + 3}" width="{w:.1f}" height="{row_height - 6}" fill="{BAR_COLOUR}"/>'
                     f'<text x="{label_width + w + 4:.1f}" y="{y + 15}" font-size="12" fill="#1d2733">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _paired_bars(rows: list[tuple[str, int, int]], width: int = 760) -> str:
    """Claimed (grey) over parsed (blue) for each claim the hierarchy can check."""
    label_width, pair_height = 220, 30
    top = max(max(c, p) for _, c, p in rows) or 1
    height = pair_height * len(rows) + 24
    span = width - label_width - 60
    parts = [f'<svg role="img" aria-label="claimed and parsed counts" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"><title>claimed and parsed counts</title>',
             f'<rect x="{label_width}" y="2" width="10" height="10" fill="{CLAIMED_COLOUR}"/>'
             f'<text x="{label_width + 14}" y="11" font-size="11" fill="#1d2733">claimed</text>'
             f'<rect x="{label_width + 80}" y="2" width="10" height="10" fill="{PARSED_COLOUR}"/>'
             f'<text x="{label_width + 94}" y="11" font-size="11" fill="#1d2733">parsed</text>']
    for i, (label, claimed, parsed) in enumerate(rows):
        y = 20 + i * pair_height
        parts.append(f'<text x="{label_width - 6}" y="{y + 15}" font-size="12" text-anchor="end" '
                     f'fill="#1d2733">{_e(label)}</text>')
        for offset, value, colour in ((0, claimed, CLAIMED_COLOUR), (12, parsed, PARSED_COLOUR)):
            w = span * value / top
            parts.append(f'<rect x="{label_width}" y="{y + offset + 2}" width="{w:.1f}" height="10" fill="{colour}"/>'
                         f'<text x="{label_width + w + 4:.1f}" y="{y + offset + 11}" font-size="10" '
                         f'fill="#1d2733">{value:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- formatting -------------------------------------------------------------------------------------------

def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _anchor(notice: dict) -> str:
    return f"notice-{notice['notice_key']}"


def _date(value) -> str:
    return "?" if value is None else value.isoformat()


def _pct(value) -> str:
    return "—" if value is None else f"{value:.1%}"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _amount(value: float | None, base_unit: str) -> str:
    """Yuan in 亿元 / 万元 as Chinese notices write them; counts as integers."""
    if value is None:
        return ""
    if base_unit == "CNY":
        if abs(value) >= 1e8:
            return f"{value / 1e8:,.2f} 亿元"
        if abs(value) >= 1e4:
            return f"{value / 1e4:,.2f} 万元"
        return f"{value:,.0f} 元"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _text_on(colour: str) -> str:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#1d2733" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "#ffffff"
