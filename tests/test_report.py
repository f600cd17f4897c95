"""`zhenggai report`: a self-contained HTML page, checked as text and as rendered by headless Chromium."""

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from warehouse.report import STATUS_GROUPS

runner = CliRunner()
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
WIDTH, HEIGHT = 1280, 2000


@pytest.fixture(scope="module")
def report(published, tmp_path_factory):
    output = tmp_path_factory.mktemp("report") / "report.html"
    result = runner.invoke(app, ["report", "--warehouse", str(published), "--output", str(output)])
    assert result.exit_code == 0, result.output
    return output


def test_report_has_a_section_per_notice_with_status_topics_figures_and_claim_gaps(report, published):
    page = report.read_text(encoding="utf-8")
    assert len(re.findall(r'<section class="notice" id="notice-[0-9a-f]{16}">', page)) == 5
    for heading in ("Completion by status", "Problems by topic", "Headline figures", "Claims beside parsed counts"):
        assert page.count(heading) == 5, heading
    # 000: 15 of 25 completed by parsed status; 001 claims 153 measures where 143 are listed.
    assert "<b>60.0%</b> of 25 problems completed" in page
    assert re.search(r"<td>measures</td><td>total</td><td class='num'>153</td><td class='num'>143</td>"
                     r"<td class='num'>\+10</td><td class='differs'>differs</td>", page)
    assert "153条有针对性的整改措施" in page
    assert page.count("<svg") >= 5 * 3  # status bar, topic bars, claim bars per notice
    # A second status bar from the notice's own per-status claims, where they say something of the whole
    # (a total, or at least two statuses): 000, 002 and 004, not 003 with its lone "10项问题完成整改".
    with duckdb.connect(str(published), read_only=True) as con:
        (expected,) = con.execute("""SELECT count(*) FROM mart_notice WHERE notice_key IN (
            SELECT notice_key FROM fact_claim WHERE subject = 'issues' AND status IS NOT NULL)
            AND completion_rate_stated IS NOT NULL""").fetchone()
    assert page.count("As the notice claims") == expected == 3


def test_report_fetches_nothing(report):
    page = report.read_text(encoding="utf-8")
    for external in ("<script", "<link", "<img", "@import", "url(", "src=", 'href="http', "href='http"):
        assert external not in page, external


def test_report_of_a_missing_warehouse_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["report", "--warehouse", str(tmp_path / "none.duckdb"), "--output", str(tmp_path / "r.html")])
    assert result.exit_code == 3
    assert "run `zhenggai refresh`" in " ".join(result.output.split())
    assert not (tmp_path / "r.html").exists()


def decode_png(data: bytes) -> np.ndarray:
    """A small PNG decoder (8-bit RGB/RGBA, not interlaced: what Chromium writes) → array (height, width, channels)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat = 8, []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind, body = data[position + 4:position + 8], data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
        elif kind == b"IDAT":
            idat.append(body)
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:]
        if kind == 0:
            row = line.copy()
        elif kind == 1:  # Sub: a running sum per channel
            row = (np.cumsum(line.reshape(-1, bpp).astype(np.uint32), axis=0) % 256).astype(np.uint8).reshape(-1)
        elif kind == 2:  # Up
            row = line + previous
        else:  # Average or Paeth depend on the reconstructed left byte: done byte by byte
            row = bytearray(stride)
            up = previous.tolist()
            for i, value in enumerate(line.tolist()):
                left = row[i - bpp] if i >= bpp else 0
                if kind == 3:
                    row[i] = (value + ((left + up[i]) >> 1)) & 0xFF
                else:
                    upper_left = up[i - bpp] if i >= bpp else 0
                    p = left + up[i] - upper_left
                    pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - upper_left)
                    predictor = left if pa <= pb and pa <= pc else up[i] if pb <= pc else upper_left
                    row[i] = (value + predictor) & 0xFF
            row = np.frombuffer(bytes(row), dtype=np.uint8)
        out[y] = row
        previous = row
    return out.reshape(height, width, bpp)[:, :, :3]


def colour_pixels(image: np.ndarray, hex_colour: str) -> int:
    rgb = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    return int(np.all(image == rgb, axis=2).sum())


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run installs it)")
def test_report_renders_in_headless_chromium(report, tmp_path):
    screenshot = tmp_path / "report.png"
    completed = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={screenshot}", f"--window-size={WIDTH},{HEIGHT}",
         report.resolve().as_uri()],
        capture_output=True, text=True, timeout=180,
    )
    assert screenshot.exists(), completed.stderr[-2000:]
    assert screenshot.stat().st_size > 20_000  # a blank 1280x2000 page compresses to a few kB
    image = decode_png(screenshot.read_bytes())
    assert image.shape == (HEIGHT, WIDTH, 3)
    # Text and charts drawn: many colours, a real share of non-white pixels, but not a solid block.
    non_white = float(np.any(image < 245, axis=2).mean())
    assert 0.03 < non_white < 0.6, non_white
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 100
    # The inline SVG charts rendered in their colours: the completed segment of 000's status bar, the
    # in-progress segment, and the topic bars.
    completed_colour = dict((group, colour) for group, _, colour in STATUS_GROUPS)
    assert colour_pixels(image, completed_colour["completed"]) > 2_000
    assert colour_pixels(image, completed_colour["open"]) > 1_000
    assert colour_pixels(image, "#3b6ea8") > 2_000


def test_headline_figures_count_each_figure_once(published):
    """A headline fed by several metrics (meetings and trainings) must not multiply its figures."""
    from warehouse.report import load_report_data

    shown = load_report_data(published).headlines.select("notice_key", "headline", "mentions", "total").sort("notice_key", "headline")
    with duckdb.connect(str(published), read_only=True) as con:
        direct = con.sql("""SELECT notice_key, headline, count(*) AS mentions, sum(value_base) AS total
                            FROM mart_indicator WHERE headline IS NOT NULL GROUP BY ALL ORDER BY ALL""").pl()
    assert shown.height == direct.height > 0
    assert shown["mentions"].to_list() == direct["mentions"].to_list()
    assert shown["total"].to_list() == direct["total"].to_list()
