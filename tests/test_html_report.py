"""The printable HTML report (issue 13): content, order, escaping, files, names.

Expectations are computed with ``assess`` or read from the bank; the two
snapshot tests use a frozen copy of the bank (tests/data/report_bank) so
that re-tuning the live bank does not change them. Update the snapshots with
``pytest tests/test_html_report.py --snapshot-update`` after a deliberate
change to the report, and read the diff.
"""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import os
import re
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hipback import assess, load_bank
from hipback.answers import parse_answers
from hipback.bank.model import SOURCE_WITHHELD_LEVELS
from hipback.batch import assess_rows, plan_columns
from hipback.errors import HipbackError
from hipback.formats.body_map import PAIN_AREAS, REGIONS, WORST_SITE
from hipback.formats.csv import read_rows
from hipback.formats.html import (
    NOT_CHECKED_TITLE,
    URGENT_FIRST_STEP,
    ReportNames,
    ReportsWriter,
    bank_version,
    build_page,
    make_stamp,
    prepare_reports_folder,
    render,
    render_report,
    safe_name,
    short_source,
    write_report,
)
from hipback.formats.terminal import (
    ALSO_CONSIDER_TITLE,
    ALSO_FITS,
    HEADLINES,
    NOT_A_DIAGNOSIS,
    NOT_CERTAIN,
    TELLING_TITLE,
    TOO_FEW_TO_TELL,
    URGENCY_TITLES,
    WARNING_SIGN_FIRST,
    adds_little,
    gist,
    most_telling_questions,
    ratio_text,
    short_prompt,
    shown_percent,
    strength,
)

DATA = Path(__file__).parent / "data"
VIGNETTES = DATA / "public_vignettes.csv"
FROZEN_BANK = DATA / "report_bank"
DAY = datetime.date(2026, 11, 28)

#: Two vignettes for the snapshots, written out so that the public file may change:
#: P01 (a classic hip story) and P05 (an emergency warning sign, nerve-root story).
SNAPSHOT_ANSWERS = {
    "P01": {
        "red_flags": "none",
        "age": "67",
        "sides": "one_side",
        "worst_site": "groin",
        "pain_areas": "groin;front_thigh",
        "c_sign": "yes",
        "quality": "dull_ache;stiffness",
        "tingling_numbness": "no",
        "worse_with": "walking;stairs;socks_shoes;rising_from_chair",
        "eased_by": "rest",
        "rotation_pain": "yes",
        "morning_stiffness": "under_1h",
        "limp": "yes",
    },
    "P05": {
        "red_flags": "saddle_numbness;bladder_bowel",
        "age": "49",
        "sides": "both_sides",
        "worst_site": "buttock",
        "pain_areas": "low_back;buttock;back_thigh;below_knee",
        "c_sign": "no",
        "quality": "shooting",
        "tingling_numbness": "yes",
        "worse_with": "bending_forward;sitting_long",
        "eased_by": "lying_down",
        "rotation_pain": "no",
        "morning_stiffness": "none",
        "limp": "no",
    },
}


@pytest.fixture(scope="module")
def bank():
    return load_bank()


def vignettes(bank):
    ids = set(bank.questions_by_id)
    with open(VIGNETTES, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            yield row["case_id"], {k: v for k, v in row.items() if k in ids and v}


def report_of(bank, raw, **kwargs):
    answers = parse_answers(bank, raw)
    assessment = assess(bank, answers)
    return render_report(bank, answers, assessment, when=DAY, **kwargs), assessment


class Outline(HTMLParser):
    """Headings, visible text, tags and attributes of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._heading: int | None = None
        self._heading_text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading, self._heading_text = int(tag[1]), []
        if tag in ("style", "title"):
            self._skip += 1

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append((self._heading, "".join(self._heading_text).strip()))
            self._heading = None
        if tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, data):
        if self._heading is not None:
            self._heading_text.append(data)
        if not self._skip:
            self.text.append(data)

    @property
    def plain(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text))


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    parser.close()
    return parser


# --- snapshots ---------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(SNAPSHOT_ANSWERS))
def test_html_snapshot(case, snapshot):
    frozen = load_bank(FROZEN_BANK)
    answers = parse_answers(frozen, SNAPSHOT_ANSWERS[case])
    assessment = assess(frozen, answers)
    page = build_page(frozen, answers, assessment, make_stamp(frozen, DAY), [("case_id", case)])
    page.stamp = page.stamp.__class__(DAY.isoformat(), "0.0.test", "frozen", "a frozen test bank")
    assert render(page) == snapshot


# --- content ----------------------------------------------------------------------


def test_every_vignette_has_the_content_in_order(bank):
    for case, raw in vignettes(bank):
        html, assessment = report_of(bank, raw, fields=[("case_id", case)])
        text = outline(html).plain
        headline = HEADLINES[assessment.verdict]
        spine = shown_percent(assessment.spine_probability)
        too_few = assessment.verdict == "too_few_answers"
        if assessment.urgency in SOURCE_WITHHELD_LEVELS:
            source = WARNING_SIGN_FIRST
        elif too_few:
            source = TOO_FEW_TO_TELL
        else:
            source = "Most likely:"
        bar = [] if too_few else [f"Lower back {spine} %, hip joint {100 - spine} %."]
        marks = [
            headline,
            *bar,
            source,
            *([TELLING_TITLE] if too_few else []),
            *([ALSO_CONSIDER_TITLE] if assessment.also_consider else []),
            "Why: the answers that count",
            "What to do next",
            "For the clinician",
            "Every answer given",
            NOT_A_DIAGNOSIS,
            f"Made on {DAY.isoformat()} by hipback",
        ]
        places = [text.find(mark) for mark in marks]
        assert -1 not in places, (case, [m for m, p in zip(marks, places, strict=True) if p < 0])
        assert places == sorted(places), case
        if assessment.urgent:
            top = URGENCY_TITLES[assessment.red_flag_advice[0].urgency]
            assert 0 <= text.find(top) < text.find(headline), case
            assert URGENT_FIRST_STEP in text
            assert "at the end of this report" not in text
            for flag in assessment.red_flag_advice:
                assert flag.advice in text
        if assessment.urgency == "not_checked":
            assert 0 <= text.find(NOT_CHECKED_TITLE) < text.find(headline), case
        if too_few:
            assert "Lower back" not in text.split(TELLING_TITLE)[0], case
        else:
            assert "Most likely:" in text or WARNING_SIGN_FIRST in text, case
        for check in assessment.next_checks:
            assert check in text
        for code in assessment.also_consider:
            consideration = bank.settings.considerations[code]
            assert consideration.meaning in text, (case, code)
            for check in consideration.checks:
                assert check in text.split("For the clinician")[1], (case, code)
        for note in assessment.notes:
            assert note in text
        patient, clinician = text.split("For the clinician")
        for reason in assessment.reasons:
            # the patient's list: the sentence, or one "also fits" line; the clinician's: all
            if adds_little(reason):
                assert reason.text not in patient, (case, reason.text)
                found = gist(reason.text)
                assert found[:1].lower() + found[1:] in patient[patient.index(ALSO_FITS) :]
            else:
                assert f"{reason.text} Strength: {strength(reason)}." in patient
            assert f"{gist(reason.text)}: " in clinician
        assert "counted with" not in patient and "Counted together" not in patient
        assert text.count(NOT_A_DIAGNOSIS) == 1
        assert not re.search(r"\b(0|100) ?%", text.replace(NOT_CERTAIN, "")), case


def test_every_answer_is_shown_in_words(bank):
    raw = SNAPSHOT_ANSWERS["P01"]
    html, _ = report_of(bank, raw)
    text = outline(html).plain
    for qid, value in raw.items():
        question = bank.question(qid)
        if question.type == "integer":
            assert value in text
            continue
        for code in value.split(";"):
            code = {"yes": "yes", "no": "no"}.get(code, code)
            label = question.choice(code).label
            assert label in text, (qid, code)


def test_the_clinician_sees_every_answer_that_counted_with_its_ratio_and_source(bank):
    html, assessment = report_of(bank, SNAPSHOT_ANSWERS["P05"])
    clinician = outline(html).plain.split("For the clinician")[1]
    for reason in assessment.reasons:
        side = "hip" if reason.toward == "hip" else "back"
        assert (
            f"{gist(reason.text)}: {side} {ratio_text(reason)} ({short_source(reason.source)})"
            in (clinician)
        )
    together = [r for r in assessment.reasons if r.counted_with]
    assert together
    for reason in together:  # counted together: in one item with the ones it was counted with
        item = next(
            line
            for line in html.split("<li>")
            if f"{gist(reason.text)}: " in line.split("</li>")[0]
        ).split("</li>")[0]
        assert "Counted together:" in item
        for other in reason.counted_with:
            assert f"{gist(other.reason)}: " in item


def test_not_checked_says_so(bank):
    raw = dict(SNAPSHOT_ANSWERS["P01"])
    del raw["red_flags"]
    html, assessment = report_of(bank, raw)
    assert assessment.urgency == "not_checked"
    text = outline(html).plain
    assert NOT_CHECKED_TITLE in text
    assert "nobody has checked them" in text
    for flag in bank.red_flags:
        assert flag.advice in text


def test_bank_version_is_a_hash_of_the_files(tmp_path):
    copy = tmp_path / "bank"
    copy.mkdir()
    for file in FROZEN_BANK.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    before, kind = bank_version(load_bank(copy))
    assert re.fullmatch(r"[0-9a-f]{12}", before)
    assert "SHA-256" in kind and "no version number" in kind
    settings = copy / "00-settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    after, _ = bank_version(load_bank(copy))
    assert after != before


def test_short_source_keeps_authors_and_years():
    assert (
        short_source(
            "Rainville J et al. Spine J 2019;19:1009-1018 (groin pain LR+ 4.9); Khan AM et al."
            " Ann R Coll Surg Engl 2004;86:119-121; tempered"
        )
        == "Rainville 2019; Khan 2004"
    )
    assert short_source("expert judgement (no published likelihood ratio)") == "expert judgement"
    assert short_source("NICE NG59 (2016, updated 2020)") == "NICE NG59"


def test_too_few_answers_shows_no_bar_and_asks_for_the_telling_questions(bank):
    raw = {"red_flags": "none", "worst_site": "groin"}
    html, assessment = report_of(bank, raw)
    assert assessment.verdict == "too_few_answers"
    text = outline(html).plain
    telling = most_telling_questions(bank, parse_answers(bank, raw))

    assert HEADLINES["too_few_answers"] in text
    assert TOO_FEW_TO_TELL in text
    assert 'class="likelihood"' not in html and "bar-title" not in html
    # the clinician's technical line keeps the figures; the patient's part shows none
    assert not re.search(r"\d %", text.split("For the clinician")[0])
    assert "Most likely" not in text
    assert "Pointing to" not in text
    assert telling
    places = [text.find(short_prompt(q.prompt), text.index(TELLING_TITLE)) for q in telling]
    assert -1 not in places and places == sorted(places)
    assert "verdict: too_few_answers" in text


def test_other_causes_and_a_withheld_source_on_the_page(bank):
    raw = {
        "red_flags": "fever",
        "previous_surgery": "hip_replacement",
        "worst_site": "side_of_hip",
        "pain_areas": "side_of_hip;groin",
        "limp": "yes",
    }
    html, assessment = report_of(bank, raw)
    assert assessment.urgency == "same_day" and len(assessment.also_consider) >= 2
    text = outline(html).plain
    patient, clinician = text.split("For the clinician")

    assert WARNING_SIGN_FIRST in patient
    assert "Most likely" not in text
    meanings = [bank.settings.considerations[c].meaning for c in assessment.also_consider]
    places = [patient.find(meaning, patient.index(ALSO_CONSIDER_TITLE)) for meaning in meanings]
    assert -1 not in places and places == sorted(places)
    for code in assessment.also_consider:
        for check in bank.settings.considerations[code].checks:
            assert check in clinician and check not in patient
    assert "greater trochanteric pain syndrome" not in patient
    assert f"also_consider: {', '.join(assessment.also_consider)}" in clinician
    # the urgent advice is at the top of the page, before the result
    assert text.index(URGENCY_TITLES["same_day"]) < text.index(HEADLINES[assessment.verdict])


def test_a_row_whose_warning_signs_must_be_checked_by_hand(bank):
    from hipback.formats.html import build_error_page
    from hipback.scoring.engine import assess_red_flags

    raw = {"red_flags": "fever;something unreadable", "age": "many"}
    status = assess_red_flags(bank, raw)
    assert status.urgency == "check_by_hand"
    page = build_error_page(bank, raw, "age: not a number", status, make_stamp(bank, DAY))
    text = outline(render(page)).plain

    assert URGENCY_TITLES["check_by_hand"] in text
    assert text.index(URGENCY_TITLES["check_by_hand"]) < text.index("could not be assessed")


# --- self-contained, escaped, accessible ---------------------------------------------


def test_page_is_self_contained(bank):
    for case, raw in vignettes(bank):
        html, _ = report_of(bank, raw, fields=[("case_id", case)])
        tags = outline(html).tags
        names = {tag for tag, _ in tags}
        assert not names & {"script", "link", "img", "iframe", "object", "embed", "base"}, case
        for tag, attrs in tags:
            for key in ("src", "href", "xlink:href", "action", "srcset"):
                assert key not in attrs, (case, tag, key)
        for url in re.findall(r"url\(([^)]*)\)", html):
            assert url.startswith("#"), url
        assert "@import" not in html
        assert "default-src 'none'" in html


def test_pass_through_cells_are_escaped(bank):
    evil = "<script>alert(1)</script>"
    html, _ = report_of(bank, SNAPSHOT_ANSWERS["P01"], fields=[("note", evil), (evil, "x")])
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert evil in outline(html).plain


def test_accessible_structure(bank):
    for case, raw in vignettes(bank):
        html, assessment = report_of(bank, raw)
        parsed = outline(html)
        assert ("html", {"lang": "en"}) in parsed.tags
        levels = [level for level, _ in parsed.headings]
        assert levels[0] == 1 and levels.count(1) == 1, case
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1, (case, levels)
        assert 'name="viewport"' in html
        every = [attrs for tag, attrs in parsed.tags if tag == "svg"]
        assert all(svg.get("role") == "img" and svg.get("aria-labelledby") for svg in every)
        svgs = [svg for svg in every if svg.get("class") == "likelihood"]
        if assessment.verdict == "too_few_answers":  # no bar claims a side
            assert svgs == [], case
        else:
            assert len(svgs) == 1
            title_id = svgs[0]["aria-labelledby"]
            spine = shown_percent(assessment.spine_probability)
            assert re.search(
                rf'<title id="{title_id}">[^<]*Lower back {spine} %, hip joint {100 - spine} %',
                html,
            )
        # No fixed pixel widths that would stop the page reflowing at 200 % zoom.
        assert not re.search(r"(?<![-\w])(width|min-width):\s*\d+px", html)


# --- files -----------------------------------------------------------------------------


def test_written_owner_only_and_atomically(bank, tmp_path):
    html, _ = report_of(bank, SNAPSHOT_ANSWERS["P01"])
    target = tmp_path / "visit.html"
    target.write_text("old")
    os.chmod(target, 0o644)
    write_report(target, html)
    assert target.read_text(encoding="utf-8") == html
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["visit.html"]


def test_write_failure_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "visit.html"
    target.write_text("old")

    def full_disk(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("hipback.files.os.fsync", full_disk)
    with pytest.raises(HipbackError, match="No space left"):
        write_report(target, "<!DOCTYPE html>")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["visit.html"]


def test_report_to_a_missing_folder_is_a_clear_error(bank, tmp_path):
    with pytest.raises(HipbackError, match="does not exist"):
        write_report(tmp_path / "nowhere" / "visit.html", "x")


def test_reports_folder_created_owner_only(tmp_path):
    folder = prepare_reports_folder(tmp_path / "reports")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert prepare_reports_folder(folder) == folder
    (tmp_path / "file").write_text("x")
    with pytest.raises(HipbackError, match="not a folder"):
        prepare_reports_folder(tmp_path / "file")
    with pytest.raises(HipbackError, match="does not exist"):
        prepare_reports_folder(tmp_path / "a" / "b")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("P01", "P01"),
        (" Müller, Anna ", "Müller-Anna"),
        ("../../etc/passwd", "etc-passwd"),
        (".hidden", "hidden"),
        ("-rf", "rf"),
        ("a/b\\c:d*e?f", "a-b-c-d-e-f"),
        ("CON", "CON-"),
        ("x" * 100, "x" * 60),
        ("<script>", "script"),
        ("", ""),
        ("...", ""),
    ],
)
def test_safe_names(cell, expected):
    assert safe_name(cell) == expected


def test_report_names_unique_and_fallback():
    names = ReportNames()
    assert names.name("P01", 1) == "P01.html"
    assert names.name("P01", 2) == "P01-2.html"
    assert names.name("p01", 3) == "p01-3.html"
    assert names.name("", 4) == "row-4.html"
    assert names.name(None, 5) == "row-5.html"
    assert names.name("row-4", 6) == "row-4-2.html"
    assert names.name("///", 7) == "row-7.html"


def batch_rows(bank, text: str):
    lines = io.StringIO(text).read().splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    columns = plan_columns(bank, header, "test.csv")
    rows = read_rows(iter(lines[1:]), None, "test.csv", ",")
    return columns, list(assess_rows(bank, columns, rows))


def test_batch_reports_one_file_per_row_escaped(bank, tmp_path):
    evil = "<script>alert(1)</script>"
    text = (
        "patient,red_flags,worst_site,age,note\n"
        f"P01,none,groin,60,{evil}\n"
        "P01,none,low_back,50,\n"
        f'"{evil}",bladder_bowel,groin,49 years,\n'
        ",,buttock,,\n"
    )
    columns, results = batch_rows(bank, text)
    folder = prepare_reports_folder(tmp_path / "reports")
    writer = ReportsWriter(bank, folder, columns, when=DAY)
    assert list(writer.watch(iter(results))) == results
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["P01-2.html", "P01.html", "row-4.html", "script-alert-1-script.html"]
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        html = path.read_text(encoding="utf-8")
        assert "<script" not in html
    first = outline((folder / "P01.html").read_text(encoding="utf-8")).plain
    assert f"note: {evil}" in first
    assert "patient: P01" in first and "row: 1" in first
    # The error row: a short page with the error and the warning sign at the top.
    broken = outline((folder / "script-alert-1-script.html").read_text(encoding="utf-8"))
    assert "This row could not be assessed" in broken.plain
    assert "49 years" in broken.plain
    assert broken.plain.index(URGENCY_TITLES["emergency"]) < broken.plain.index(
        "This row could not be assessed"
    )
    assert "What your answers suggest" not in broken.plain
    # Answers that could be read are listed in words.
    assert bank.question("worst_site").choice("groin").label in broken.plain
    unchecked = outline((folder / "row-4.html").read_text(encoding="utf-8")).plain
    assert NOT_CHECKED_TITLE in unchecked


def hipback(*args, **kwargs):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "hipback", *args], capture_output=True, text=True, **kwargs
    )


@pytest.mark.slow
def test_ask_report_command(bank, tmp_path):
    import json

    answers = tmp_path / "answers.json"
    raw = dict(SNAPSHOT_ANSWERS["P05"])
    raw.update({q.id: "" for q in bank.questions if q.id not in raw})
    answers.write_text(json.dumps(raw))
    visit = tmp_path / "visit.html"
    done = hipback("ask", "--answers", str(answers), "--report", str(visit))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(visit.stat().st_mode) == 0o600
    text = outline(visit.read_text(encoding="utf-8")).plain
    assert URGENCY_TITLES["emergency"] in text
    refused = hipback("ask", "--answers", str(answers), "--report", str(answers))
    assert refused.returncode == 2 and "answers file" in refused.stderr
    missing = hipback("ask", "--answers", str(answers), "--report", str(tmp_path / "no" / "x.html"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr


@pytest.mark.slow
def test_batch_reports_command(bank, tmp_path):
    results = tmp_path / "results.csv"
    folder = tmp_path / "reports"
    done = hipback("batch", str(VIGNETTES), "-o", str(results), "--reports", str(folder))
    assert done.returncode == 0, done.stderr
    with open(VIGNETTES, newline="", encoding="utf-8") as handle:
        cases = [row["case_id"] for row in csv.DictReader(handle)]
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{c}.html" for c in cases)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert f"reports: {len(cases)} written" in done.stderr
    assert "By verdict:" not in done.stderr  # the picture is for a terminal only
    (tmp_path / "file").write_text("x")
    refused = hipback(
        "batch", str(VIGNETTES), "-o", str(results), "--reports", str(tmp_path / "file")
    )
    assert refused.returncode == 2 and "not a folder" in refused.stderr


# --- the reports folder under attack (issue 20) ---------------------------------------------

_WINDOWS_DEVICES = {"con", "prn", "aux", "nul"} | {
    f"{kind}{n}" for kind in ("com", "lpt") for n in range(10)
}


def assert_safe_everywhere(name: str) -> None:
    """A file name Linux, macOS and Windows all store as it is, and no device's."""
    assert name and name == name.rstrip(". "), name
    assert not any(c in '<>:"/\\|?*' or ord(c) < 32 for c in name), name
    assert name.split(".")[0].rstrip(" ").lower() not in _WINDOWS_DEVICES, name
    assert not name.startswith((".", "-")), name
    assert len(name.encode("utf-8")) <= 255


@pytest.mark.parametrize(
    "cell",
    [
        "nul.txt",
        "NUL.txt-",
        "con",
        "Aux.tar.gz",
        "com1",
        "LPT9.x",
        "COM\u00b9",
        "\uff23\uff2f\uff2e",
        "name. ",
        "name...",
        'a<b>c:d"e|f?g*h',
        "lpt0.html",
        "\u202eevil\u0007.exe",
        "\u00fc" * 200,
        "\U0001f600" * 70,
    ],
)
def test_report_names_are_safe_on_windows_too(cell):
    base = safe_name(cell)
    if base:
        assert_safe_everywhere(base)
    name = ReportNames().name(cell, 1)
    assert_safe_everywhere(name)
    assert_safe_everywhere(name.removesuffix(".html"))


def test_report_names_keep_letters_such_as_umlauts():
    assert safe_name("Jürgen Groß") == "Jürgen-Groß"
    assert safe_name("Zoë/Ødegård") == "Zoë-Ødegård"
    assert ReportNames().name("Müller", 1) == "Müller.html"
    # decomposed (as macOS writes names), other scripts, and still safe on Windows
    assert safe_name("Mu\u0308ller") == "Müller"
    assert safe_name("Ünal Çelik") == "Ünal-Çelik"
    assert safe_name("Дмитрий") == "Дмитрий"
    assert safe_name("Zoë:Ü?") == "Zoë-Ü"
    assert safe_name("CÖN") == "CÖN" and safe_name("con") == "con-"


def test_report_names_avoid_the_given_names_case_blind():
    names = ReportNames(["p01.HTML"])
    assert names.name("P01", 1) == "P01-2.html"


def test_the_reports_folder_name_is_quoted_in_messages(tmp_path):
    with pytest.raises(HipbackError) as caught:
        prepare_reports_folder(tmp_path / "\x1b]0;owned\x07" / "reports")
    assert "\x1b" not in str(caught.value) and "\x07" not in str(caught.value)
    assert "\\x1b]0;owned\\x07" in str(caught.value)


def test_reports_never_go_through_a_symlink_over_a_file_or_into_a_fifo(tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "reports"
    folder.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me", encoding="utf-8")
    (folder / "P01.html").symlink_to(outside)
    source = folder / "P02.html"  # the input: a CSV named like a report, in the folder
    text = (
        "patient,red_flags,worst_site\n"
        "P01,none,groin\nP02,none,groin\nP03,bladder_bowel,groin\nP04,none,buttock\n"
    )
    source.write_text(text, encoding="utf-8")
    results = folder / "P03.html"  # the output, named like a report
    results.write_text("old results", encoding="utf-8")
    os.mkfifo(folder / "P04.html")
    try:
        done = subprocess.run(
            [
                *(sys.executable, "-m", "hipback", "batch", str(source), "-o", str(results)),
                *("--format", "csv", "--reports", str(folder)),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("batch --reports hung for 60 s (a FIFO named like a report was opened?)")
    assert done.returncode == 0, done.stderr
    assert outside.read_text(encoding="utf-8") == "keep me"
    assert (folder / "P01.html").is_symlink()
    assert source.read_text(encoding="utf-8") == text
    assert results.read_text(encoding="utf-8").startswith("patient,red_flags,worst_site,spine")
    assert stat.S_ISFIFO(os.lstat(folder / "P04.html").st_mode)
    written = sorted(p.name for p in folder.iterdir() if p.name.endswith("-2.html"))
    assert written == ["P01-2.html", "P02-2.html", "P03-2.html", "P04-2.html"]
    for name in written:
        status = os.lstat(folder / name)
        assert stat.S_ISREG(status.st_mode) and stat.S_IMODE(status.st_mode) == 0o600
    emergency = outline((folder / "P03-2.html").read_text(encoding="utf-8")).plain
    assert URGENCY_TITLES["emergency"] in emergency
    assert "reports: 4 written" in done.stderr


def test_reports_never_take_the_name_of_an_output_not_yet_written(bank, tmp_path):
    columns, results = batch_rows(bank, "patient,red_flags,worst_site\nresults,none,groin\n")
    folder = prepare_reports_folder(tmp_path / "reports")
    output = folder / "results.html"  # batch -o writes it when the run ends
    writer = ReportsWriter(bank, folder, columns, when=DAY, keep=[output, None, "-"])
    list(writer.watch(iter(results)))
    assert sorted(p.name for p in folder.iterdir()) == ["results-2.html"]


# --- where it hurts: the body map ------------------------------------------------------


def test_every_place_of_the_bank_has_a_region_on_the_body_map(bank):
    for question_id in (PAIN_AREAS, WORST_SITE):
        codes = {choice.code for choice in bank.question(question_id).choices}
        assert codes, question_id
        assert codes <= set(REGIONS), (question_id, codes - set(REGIONS))


def test_the_body_map_shades_each_marked_place_and_the_worst_more(bank):
    every = ";".join(c.code for c in bank.question(PAIN_AREAS).choices)
    raw = dict(SNAPSHOT_ANSWERS["P01"], pain_areas=every, worst_site="knee")
    html, _ = report_of(bank, raw)
    marked = [attrs for tag, attrs in outline(html).tags if "data-area" in attrs]
    assert sorted(a["data-area"] for a in marked) == sorted(every.split(";"))
    worst = [a for a in marked if "worst" in (a.get("class") or "").split()]
    assert [a["data-area"] for a in worst] == ["knee"]
    assert worst[0]["fill"] != marked[-1]["fill"] or marked[-1] is worst[0]
    shades = {a["fill"] for a in marked if a is not worst[0]}
    assert len(shades) == 1 and worst[0]["fill"] not in shades


def test_the_body_map_shows_only_the_places_marked(bank):
    html, _ = report_of(bank, SNAPSHOT_ANSWERS["P01"])
    areas = [attrs["data-area"] for tag, attrs in outline(html).tags if "data-area" in attrs]
    assert areas == ["groin", "front_thigh"]  # the worst first
    assert "Where it hurts: the groin (the worst), the front of the thigh." in outline(html).plain
    html, _ = report_of(bank, {"red_flags": "none", "age": "40", "limp": "yes"})
    assert "data-area" not in html and "map-title" not in html


# --- the top of the page and the answers in words --------------------------------------


def test_the_top_names_the_patient_and_the_date(bank):
    html, _ = report_of(bank, SNAPSHOT_ANSWERS["P01"], fields=[("row", "3"), ("id", "P-7")])
    text = outline(html).plain
    top = text[: text.index("What your answers suggest")]
    assert f"id: P-7 · Date: {DAY.isoformat()}" in top
    assert "row: 3" in top
    html, _ = report_of(bank, SNAPSHOT_ANSWERS["P01"])
    text = outline(html).plain
    assert f"Date: {DAY.isoformat()}" in text[: text.index("What your answers suggest")]


def test_no_question_id_is_shown_on_the_page(bank):
    html, _ = report_of(bank, SNAPSHOT_ANSWERS["P01"])
    text = outline(html).plain
    answers = text[text.index("Every answer given") :]
    missing = answers.split("Not answered:")[1]
    for question in bank.questions:
        assert not re.search(rf"\b{re.escape(question.id)}\b", missing), question.id
        if "_" in question.id:  # "age" is also a word; "walking_onset" is not
            assert question.id not in text, question.id
        if question.id not in SNAPSHOT_ANSWERS["P01"] and question.ask_when is None:
            assert short_prompt(question.prompt) in answers.split("Not answered:")[1]
