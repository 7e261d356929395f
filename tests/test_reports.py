"""Field reports: content, escaping, the village list order, the CLI, and a real render in headless Chromium."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from serving.reports import safe_file_name
from serving.reports import render_household_report, render_village_report, trend
from tests.explain_support import documents, train_tiny_model

EVIL = "<script>alert(1)</script>"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def tiny():
    docs = documents(500, seed=5)
    return docs, train_tiny_model(docs, seed=5)


def _riskiest(docs, model) -> dict:
    risk = model.score_households(docs)["risk"].to_numpy()
    doc = copy.deepcopy(docs[int(np.argmax(risk))])
    doc["events"] = [{"member_id": "m0", "event_date": "2024-08-15", "event_type": "serious_illness", "amount": 9000.0}]
    doc["as_of"] = "2024-09-30"
    return doc


def test_household_report_has_what_a_cadre_needs(tiny):
    docs, model = tiny
    doc = _riskiest(docs, model)
    html = render_household_report(model, doc)
    scored = model.score_households([doc]).iloc[0]
    assert doc["record"]["household_id"] in html and "test-1" in html and "2024-09-30" in html
    assert f"{scored['risk'] * 100:.1f}%" in html
    assert {"high": "高", "medium": "中", "low": "低"}[scored["tier"]] in html
    assert "不替代驻村工作队和村干部" in html
    assert "户主" in html and "合规自付医疗支出" in html and "重大疾病" in html
    assert html.count("<svg") == 4
    assert not re.search(r"""(src|href)=["']?(https?:|//)|<link|<script""", html), "no external assets or scripts"
    en = render_household_report(model, doc, lang="en")
    assert "do not replace the judgement" in en and "head" in en and "serious illness" in en
    with pytest.raises(ValueError, match="lang"):
        render_household_report(model, doc, lang="fr")


def test_trend_scores_each_round_as_known_then(tiny):
    docs, model = tiny
    doc = _riskiest(docs, model)
    points = trend(model, doc)
    assert [p["label"] for p in points] == ["2023", "2024", "2024-09-30"]
    first = {"record": doc["history"][0]["record"], "members": doc["history"][0]["members"], "events": [],
             "as_of": doc["history"][0]["record"]["survey_date"]}
    assert points[0]["risk"] == pytest.approx(model.score_households([first])["risk"][0])


def test_text_from_data_is_escaped(tiny):
    docs, model = tiny
    doc = copy.deepcopy(docs[0])
    doc["record"] = {**doc["record"], "village": EVIL, "township": EVIL, "household_id": "H<b>1</b>"}
    for h in doc["history"]:
        h["record"] = {**h["record"], "village": EVIL, "household_id": "H<b>1</b>"}
    for html in (render_household_report(model, doc), render_household_report(model, doc, lang="en"),
                 render_village_report(model, [doc], links={"H<b>1</b>": 'x.html" onclick="alert(1)'})):
        assert EVIL not in html and "<b>1</b>" not in html and 'onclick="alert' not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "H&lt;b&gt;1&lt;/b&gt;" in html


def test_village_page_is_the_worklist_with_links(tiny):
    docs, model = tiny
    part = docs[:40]
    links = {d["record"]["household_id"]: safe_file_name(d["record"]["household_id"]) for d in part}
    html = render_village_report(model, part, links=links)
    for heading in ("已低于监测标准", "预警条件触发", "模型预警", "核实结论", "入户核实期限"):
        assert heading in html, heading
    model_section = html.split('id="model"')[1].split("</section>")[0]
    order = re.findall(r'<td class="nowrap">(H\d{5})</td>', model_section)
    risk = model.score_households(part).set_index("household_id")["risk"]
    assert 1 <= len(order) <= 4 and list(risk.loc[order]) == sorted(risk.loc[order], reverse=True)
    assert all(f'href="{links[h]}"' in html for h in order)


def test_safe_file_names():
    assert safe_file_name("H00001") == "H00001.html"
    odd = [safe_file_name(x) for x in ("../etc/passwd", "a/b", "a_b", "户1")]
    assert all("/" not in f and not f.startswith(".") for f in odd)
    assert len(set(odd)) == len(odd)


# ---- the command, on the session's simulated county and champion

def _invoke(args):
    from typer.testing import CliRunner

    from commands.app import app

    return CliRunner().invoke(app, args)


def test_report_command_household_and_village(trained_warehouse, tmp_path):
    from features.data.warehouse import Warehouse

    wh = Warehouse(trained_warehouse)
    hh = wh.households(columns=["household_id", "village", "survey_date"])
    latest = hh.sort_values(["household_id", "survey_date"]).groupby("household_id").tail(1)
    village = latest["village"].value_counts().index[-1]  # the smallest village keeps the test fast
    hid = latest["household_id"].iloc[0]
    as_of = str(hh["survey_date"].max().date())
    out = tmp_path / "one.html"
    r = _invoke(["report", "--household", hid, "--as-of", as_of, "--out", str(out), "--warehouse", str(trained_warehouse)])
    assert r.exit_code == 0, r.output
    assert hid in out.read_text(encoding="utf-8")
    folder = tmp_path / "village"
    r = _invoke(["report", "--village", village, "--as-of", as_of, "--out", str(folder), "--lang", "en",
                 "--warehouse", str(trained_warehouse)])
    assert r.exit_code == 0, r.output
    ids = set(latest.loc[latest["village"] == village, "household_id"])
    pages = {p.stem for p in folder.glob("*.html")} - {"index"}
    assert pages == {safe_file_name(h)[:-5] for h in ids}
    assert "village visit list" in (folder / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("args, message", [
    (["--household", "NO-SUCH-HOUSEHOLD"], "NO-SUCH-HOUSEHOLD"),
    (["--village", "No Such Village"], "No Such Village"),
    ([], "exactly one"),
    (["--household", "x", "--village", "y"], "exactly one"),
])
def test_report_command_errors(trained_warehouse, tmp_path, args, message):
    r = _invoke(["report", *args, "--out", str(tmp_path / "x.html"), "--warehouse", str(trained_warehouse)])
    assert r.exit_code == 2
    assert message in r.output


# ---- real browser

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium is not installed: run `make system-deps` (installs chromium and fonts-noto-cjk)")
    return exe


def _screenshot(html: str, name: str, tmp_path: Path) -> np.ndarray:
    from PIL import Image

    page = tmp_path / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    png = ARTIFACTS / f"{name}.png"
    png.unlink(missing_ok=True)
    cmd = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
           "--window-size=1240,1754", page.as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert png.is_file(), f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"
    return np.asarray(Image.open(png).convert("L"), dtype=float)


@pytest.mark.browser
def test_household_report_renders_in_chromium_with_chinese_text(tiny, tmp_path):
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip()
    assert fonts, "no Chinese font found by fontconfig: run `make system-deps` (installs fonts-noto-cjk)"
    docs, model = tiny
    img = _screenshot(render_household_report(model, _riskiest(docs, model)), "household-report", tmp_path)
    assert img.shape[:2] == (1754, 1240)
    assert img.std() > 20, "the screenshot is blank"
    assert (img < 100).mean() > 0.005, "almost no dark (text) pixels on the page"

    # Shaped CJK: two different characters must draw different glyphs (missing-glyph boxes look alike).
    glyphs = ('<html><body style="margin:0;background:#fff">'
              '<div style="position:absolute;left:40px;top:40px;font-size:300px;line-height:1">防</div>'
              '<div style="position:absolute;left:440px;top:40px;font-size:300px;line-height:1">贫</div>'
              '</body></html>')
    g = _screenshot(glyphs, "cjk-glyphs", tmp_path)
    a, b = g[40:340, 40:340], g[40:340, 440:740]
    assert (a < 128).mean() > 0.03 and (b < 128).mean() > 0.03, "Chinese characters drew no ink"
    assert np.abs((a < 128).astype(float) - (b < 128)).mean() > 0.05, \
        "防 and 贫 rendered identically: the CJK font is missing (run `make system-deps`)"


def _waterfall_bars(html: str) -> list[tuple[str, str]]:
    """(label, shown value) of each step of the waterfall chart: texts alternate label lines and values."""
    svg = next(s for s in re.findall(r"<svg.*?</svg>", html, flags=re.S) if "每步为百分点变化" in s)
    texts = [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text[^>]*>.*?</text>", svg, flags=re.S)]
    return [(texts[i - 1], t) for i, t in enumerate(texts) if re.fullmatch(r"[+-]\d+\.\d", t)]


@pytest.mark.parametrize("kind", ["lightgbm", "rule"])
def test_waterfall_shows_no_bar_that_does_not_move_the_risk(tiny, kind):
    """A rule uses two indicators: the other ninety must not each take a "+0.0" line of the chart."""
    from dataclasses import replace

    from models.scorers import fit_rule

    docs, model = tiny
    if kind == "rule":
        X = model.indicators(docs)[model.feature_names].astype("float64")
        rule = fit_rule(X, ratio_column="hardship_ratio", rigid_share_columns=["medical_share_of_income"],
                        line_multiple=1.5, rigid_share=0.5)
        model = replace(model, scorer=rule)
    html = render_household_report(model, _riskiest(docs, model))
    bars = _waterfall_bars(html)
    assert bars, "the chart has steps"
    assert all(value not in ("+0.0", "-0.0") for label, value in bars if "其他" not in label), bars
