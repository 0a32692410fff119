"""``hipback ask`` in a real pseudo-terminal, answered by keystrokes.

What the person sees is checked on an emulated screen (pyte): text that is
cut at the right edge, or broken in the middle of a word, is not found whole.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pexpect
import pytest
from conftest import CARRY_ON, CTRL_C, DOWN, ENTER, START, STOP, Keystrokes, answers_only

from hipback import assess
from hipback.answers import parse_answer
from hipback.bank.loader import load_bank
from hipback.bank.model import Bank, Question
from hipback.formats.terminal import HEADLINES, NOT_A_DIAGNOSIS, short_prompt
from hipback.interview.prompts import (
    AFTER_FLAGS_QUESTION,
    REVIEW_QUESTION,
    SKIP_LABEL,
    START_PROMPT,
    asking_order,
    questions_to_ask,
)

VIGNETTES = Path(__file__).parent / "data" / "public_vignettes.csv"
with VIGNETTES.open(newline="", encoding="utf-8") as _handle:
    #: The public vignette P01 (classic hip osteoarthritis), in answer codes only.
    P01 = answers_only(
        load_bank(), next(r for r in csv.DictReader(_handle) if r["case_id"] == "P01")
    )
#: P01 as an answers file: the questions it predates are left blank (not asked).
P01_FILE: dict[str, str | None] = {q.id: P01.get(q.id) for q in load_bank().questions}

#: Real processes, terminals or a browser: left out by `pytest -m "not slow"`.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal"),
]

ENV = {**os.environ, "NO_COLOR": "1", "TERM": "xterm"}
ENV.pop("PROMPT_TOOLKIT_NO_CPR", None)
CURSOR_POSITION_REQUEST = "\x1b[6n"
NOT_A_DIAGNOSIS_SHORT = "It informs; it does not diagnose."


#: A line of the review: the pointer's room, the question's number, the rest.
REVIEW_ROW = re.compile(r"^ [» ] +(\d+)\. (.*)$")
ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|[()][A-Z0-9]|[=>])")


def flat(text: str) -> str:
    """Text with line breaks, frames and runs of spaces made single spaces."""
    for frame in "│╭╮╰╯─┃┏┓┗┛━":
        text = text.replace(frame, " ")
    return " ".join(text.split())


class Terminal:
    """A pseudo-terminal running hipback, and the screen a person would see."""

    def __init__(
        self, args: list[str], cwd: Path, rows: int = 40, columns: int = 80, shell: bool = False
    ) -> None:
        import pyte  # the screen emulator: a test dependency

        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.Stream(self.screen)
        command, argv = (
            ("/bin/sh", ["-c", " ".join(args)])
            if shell
            else (sys.executable, ["-m", "hipback", "ask", *args])
        )
        self.child = pexpect.spawn(
            command,
            argv,
            cwd=str(cwd),
            env=ENV,
            dimensions=(rows, columns),
            encoding="utf-8",
            timeout=60,
        )
        self.child.logfile_read = self
        self.transcript = ""

    # pexpect hands everything it reads to ``logfile_read``: feed it to the screen,
    # and answer prompt_toolkit's cursor-position requests as a terminal does.
    def write(self, data: str) -> None:
        self.transcript += data
        parts = data.split(CURSOR_POSITION_REQUEST)
        for number, part in enumerate(parts):
            self.stream.feed(part)
            if number < len(parts) - 1:
                cursor = self.screen.cursor
                self.child.send(f"\x1b[{cursor.y + 1};{cursor.x + 1}R")

    def said(self, text: str) -> bool:
        """Whether ``text`` was printed at some point (it may have scrolled away since)."""
        return flat(text) in flat(ANSI.sub("", self.transcript))

    def flush(self) -> None:
        pass

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def shows(self, *texts: str) -> bool:
        seen = flat(self.text())
        return all(flat(text) in seen for text in texts)

    def wait_for(self, *texts: str, timeout: float = 60) -> None:
        """Wait until every text is on the screen, whole."""
        deadline = time.monotonic() + timeout
        ended = False
        while not self.shows(*texts):
            if ended or time.monotonic() > deadline:
                missing = [t for t in texts if flat(t) not in flat(self.text())]
                raise AssertionError(f"not on the screen: {missing}\n{self.text()}")
            # read what has come; at the end, everything left is read first
            ended = self.child.expect([pexpect.TIMEOUT, pexpect.EOF], timeout=0.05) == 1

    def start(self) -> None:
        """Press Enter once the opening is shown, whole."""
        self.wait_for(NOT_A_DIAGNOSIS_SHORT, START_PROMPT)
        self.child.send(START)

    def answer(self, question: Question, keys: str) -> None:
        self.wait_for(question.prompt)
        self.child.send(keys)

    def review_rows(self) -> dict[int, str]:
        """The review's lines on the screen, by the number of their question."""
        rows = {}
        for line in self.screen.display:
            found = REVIEW_ROW.match(line.rstrip())
            if found:
                rows[int(found.group(1))] = found.group(2)
        return rows

    def wait_for_rows(self, numbers: range, timeout: float = 60) -> dict[int, str]:
        """Wait until the review shows exactly the rows ``numbers`` (a page of them)."""
        deadline = time.monotonic() + timeout
        ended = False
        while sorted(self.review_rows()) != list(numbers):
            if ended or time.monotonic() > deadline:
                shown = sorted(self.review_rows())
                raise AssertionError(f"review rows {shown}, wanted {list(numbers)}\n{self.text()}")
            ended = self.child.expect([pexpect.TIMEOUT, pexpect.EOF], timeout=0.05) == 1
        return self.review_rows()

    def ticked(self, label: str) -> bool | None:
        """Whether the box before ``label`` is ticked on the screen (None: not shown)."""
        start = " ".join(label.split()[:5])
        for line in self.screen.display:
            if start in " ".join(line.split()):
                return "●" in line
        return None

    def wait_until_ticked(self, wanted: dict[str, bool], timeout: float = 20) -> None:
        """Wait until each label's box is ticked or not as ``wanted``."""
        deadline = time.monotonic() + timeout
        ended = False
        while {label: self.ticked(label) for label in wanted} != wanted:
            if ended or time.monotonic() > deadline:
                seen = {label: self.ticked(label) for label in wanted}
                raise AssertionError(f"ticks {seen}, wanted {wanted}\n{self.text()}")
            ended = self.child.expect([pexpect.TIMEOUT, pexpect.EOF], timeout=0.05) == 1

    def finish(self) -> int:
        self.child.expect(pexpect.EOF)
        self.child.close()
        assert "Traceback" not in self.text()
        status = self.child.exitstatus
        assert isinstance(status, int)
        return status


def labels(question: Question) -> list[str]:
    found = [c.label for c in question.choices]
    if question.type == "yesno":
        found = ["Yes", "No"]
    if question.type in ("single", "yesno"):
        found.append(SKIP_LABEL)
    return found


def write_answers(path: Path, answers: dict[str, Any]) -> Path:
    path.write_text(json.dumps(answers), encoding="utf-8")
    return path


def test_a_whole_interview_in_a_terminal(ask_bank: Bank, keys: Keystrokes, tmp_path: Path) -> None:
    term = Terminal(["--save", "saved.json"], tmp_path)
    term.start()
    term.answer(
        ask_bank.question("red_flags"),
        keys.fresh(ask_bank.question("red_flags"), frozenset({"none"})),
    )
    # the health background comes right after the warning signs: skipped
    term.answer(ask_bank.question("risk_factors"), ENTER)
    # an age that does not fit is refused with a clear message, then corrected
    term.answer(ask_bank.question("age"), "abc" + ENTER)
    term.wait_for("Please type a whole number from 18 to 120")
    term.child.send("\x7f" * 3 + "67" + ENTER)
    assert [q.id for q in keys.asked(P01)[:3]] == ["red_flags", "risk_factors", "age"]
    for later in keys.asked(P01)[3:]:
        term.answer(later, keys.fresh(later, parse_answer(later, P01.get(later.id))))
    term.wait_for(REVIEW_QUESTION)
    term.child.send(ENTER)
    term.wait_for("Saved your answers and the result to saved.json")

    assert term.finish() == 0
    assert term.said(HEADLINES["hip"])
    saved = json.loads((tmp_path / "saved.json").read_text())
    assert saved["result"] == assess(ask_bank, P01).as_dict()


def test_enter_on_every_question_records_nothing(ask_bank: Bank, tmp_path: Path) -> None:
    flags = ask_bank.question("red_flags")
    term = Terminal(["--save", "saved.json"], tmp_path)
    term.start()
    # Enter alone at the warning signs is refused: they must be answered
    term.answer(flags, ENTER)
    term.wait_for("Please choose at least one")
    term.child.send(DOWN * flags.codes.index("none") + " " + ENTER)
    rest = questions_to_ask(ask_bank, {"red_flags": frozenset({"none"})})
    for question in rest:
        term.answer(question, ENTER)
    term.wait_for(REVIEW_QUESTION)
    term.child.send(ENTER)
    term.wait_for("Based on 1 answer.")

    assert term.finish() == 0
    saved = json.loads((tmp_path / "saved.json").read_text())
    assert saved["answers"] == {"red_flags": ["none"]} | {q.id: None for q in rest}
    assert saved["result"]["answered"] == 1


def test_after_urgent_advice_enter_stops_and_the_advice_is_on_the_last_screen(
    ask_bank: Bank, tmp_path: Path
) -> None:
    flags = ask_bank.question("red_flags")
    term = Terminal([], tmp_path, rows=24, columns=80)
    term.start()
    term.answer(flags, DOWN * flags.codes.index("saddle_numbness") + " " + ENTER)
    term.wait_for(AFTER_FLAGS_QUESTION)  # at once, before any other question
    term.child.send(STOP)

    assert term.finish() == 0
    advice = assess(ask_bank, {"red_flags": "saddle_numbness"}).red_flag_advice
    last_screen = term.text()
    assert flat("URGENT: go to an emergency department now") in flat(last_screen)
    assert flat(advice[0].advice) in flat(last_screen)
    assert "Nothing was saved: your answers are not kept." in flat(last_screen)
    assert flat(last_screen).endswith(flat(advice[0].advice))
    assert list(tmp_path.iterdir()) == []


def test_after_carrying_on_the_report_ends_with_the_advice_at_80_by_24(
    ask_bank: Bank, tmp_path: Path
) -> None:
    given = {k: v for k, v in P01_FILE.items() if k != "limp"} | {"red_flags": "fever"}
    write_answers(tmp_path / "given.json", given)
    term = Terminal(["--answers", "given.json"], tmp_path, rows=24, columns=80)
    term.start()
    term.wait_for(AFTER_FLAGS_QUESTION)
    term.child.send(CARRY_ON)
    term.answer(ask_bank.question("limp"), "y" + ENTER)
    term.wait_for(REVIEW_QUESTION)
    term.child.send(ENTER)

    assert term.finish() == 0
    advice = assess(ask_bank, given).red_flag_advice
    assert flat("Important: see a doctor today") in flat(term.text())
    assert flat(term.text()).endswith(flat(advice[0].advice))


def test_ask_into_a_file_at_a_terminal(ask_bank: Bank, tmp_path: Path) -> None:
    """``hipback ask > report.txt``: the questions on the screen, the report in the file."""
    given = {k: v for k, v in P01_FILE.items() if k != "limp"} | {"red_flags": "fever"}
    write_answers(tmp_path / "given.json", given)
    command = [sys.executable, "-m", "hipback", "ask", "--answers", "given.json", "> report.txt"]
    term = Terminal(command, tmp_path, rows=24, columns=80, shell=True)
    term.start()
    term.wait_for(AFTER_FLAGS_QUESTION)
    term.child.send(CARRY_ON)
    term.answer(ask_bank.question("limp"), "y" + ENTER)
    term.wait_for(REVIEW_QUESTION)
    term.child.send(ENTER)

    assert term.finish() == 0
    report = (tmp_path / "report.txt").read_text(encoding="utf-8")
    result = assess(ask_bank, given | {"limp": "yes"})
    assert HEADLINES[result.verdict] in flat(report)
    assert NOT_A_DIAGNOSIS in flat(report)
    assert "\x1b" not in report
    assert REVIEW_QUESTION not in report
    assert "Do you walk with a limp" not in report
    # the screen: the questions, then the urgent advice again, last
    screen = flat(term.text())
    assert "The report was written to standard output." in screen
    assert HEADLINES[result.verdict] not in screen
    assert screen.endswith(flat(result.red_flag_advice[0].advice))


@pytest.mark.parametrize("columns", [40, 60])
def test_questions_choices_and_the_review_wrap_at_word_boundaries(
    ask_bank: Bank, tmp_path: Path, columns: int
) -> None:
    flags = ask_bank.question("red_flags")
    term = Terminal(["--save", "saved.json"], tmp_path, rows=90, columns=columns)
    term.start()
    term.wait_for(flags.prompt, *labels(flags))
    term.child.send(DOWN * flags.codes.index("none") + " " + ENTER)
    rest = questions_to_ask(ask_bank, {"red_flags": frozenset({"none"})})
    for question in rest:
        term.wait_for(question.prompt, *labels(question))
        term.child.send(ENTER)
    shown = [q for q in asking_order(ask_bank) if q.id == "red_flags" or q in rest]
    term.wait_for(REVIEW_QUESTION, "See the result")
    rows = term.wait_for_rows(range(1, len(shown) + 1))  # one page at 90 lines
    for number, question in enumerate(shown, start=1):
        _row_shows(rows[number], question, "None of these" if number == 1 else "(not answered)")
    term.child.send(ENTER)
    term.wait_for(NOT_A_DIAGNOSIS)

    assert term.finish() == 0


def test_the_urgent_advice_reads_in_full_at_20_columns(ask_bank: Bank, tmp_path: Path) -> None:
    given = {k: v for k, v in P01_FILE.items() if k != "limp"} | {
        "red_flags": "saddle_numbness;fever"
    }
    write_answers(tmp_path / "given.json", given)
    term = Terminal(["--answers", "given.json"], tmp_path, rows=120, columns=20)
    term.start()
    advice = [flag.advice for flag in assess(ask_bank, given).red_flag_advice]
    term.wait_for(AFTER_FLAGS_QUESTION, *advice)
    term.child.send(STOP)

    assert term.finish() == 0
    assert flat(term.text()).endswith(flat(advice[-1]))
    for text in advice:
        assert term.text().count(text.split()[0]) >= 2  # in the panel, then again at the end


def test_ctrl_c_in_a_terminal_says_goodbye(tmp_path: Path) -> None:
    term = Terminal(["--save", "saved.json"], tmp_path)
    term.start()
    term.wait_for("any of these")
    term.child.send(DOWN)
    term.child.send(CTRL_C)
    term.wait_for("hipback: stopped; nothing was saved.")

    assert term.finish() == 130
    assert list(tmp_path.iterdir()) == []


def test_json_from_a_terminal_keeps_standard_output_pure(ask_bank: Bank, tmp_path: Path) -> None:
    given = {k: v for k, v in P01_FILE.items() if k != "limp"}
    write_answers(tmp_path / "given.json", given)
    command = [sys.executable, "-m", "hipback", "ask", "--answers given.json --json > result.json"]
    term = Terminal(command, tmp_path, shell=True)
    term.start()
    term.answer(ask_bank.question("limp"), "y" + ENTER)
    term.wait_for(REVIEW_QUESTION)
    term.child.send(ENTER)

    assert term.finish() == 0
    result = json.loads((tmp_path / "result.json").read_text())
    assert result == assess(ask_bank, given | {"limp": "yes"}).as_dict()


def test_the_grouped_warning_signs_fit_80_by_24_and_none_of_these_stands_alone(
    ask_bank: Bank, tmp_path: Path
) -> None:
    flags = ask_bank.question("red_flags")
    none = flags.choice("none").label
    fever = flags.choice("fever").label
    first = flags.choices[0].label
    headings = [f"-- {c.heading} --" for c in flags.choices if c.heading]
    term = Terminal([], tmp_path, rows=24, columns=80)
    term.start()
    # the question, every heading and every sign whole on one 80 x 24 screen
    term.wait_for(flags.prompt, *headings, *(c.label for c in flags.choices))
    screen = flat(term.text())
    places = [screen.index(flat(text)) for text in (headings[0], first, headings[1], fever)]
    assert places == sorted(places), "each heading stands over its group"

    codes = flags.codes
    term.child.send(DOWN * codes.index("fever") + " ")
    term.wait_until_ticked({fever: True, none: False})
    term.child.send(DOWN * (codes.index("none") - codes.index("fever")) + " ")
    term.wait_until_ticked({fever: False, none: True})  # "None of these" unticks the sign
    term.child.send(DOWN + " ")  # Down from the last entry wraps round to the first
    term.wait_until_ticked({first: True, fever: False, none: False})  # and a sign unticks it
    term.child.send(ENTER)
    # the urgent panel at once, before the health background
    term.wait_for(AFTER_FLAGS_QUESTION, "URGENT: go to an emergency department now")
    term.child.send(STOP)

    assert term.finish() == 0


def _row_shows(row: str, question: Question, answer: str) -> None:
    """A review line: the start of the question, and its answer (maybe cut) beside it."""
    asked, _, given = row.rpartition("  ")
    assert flat(short_prompt(question.prompt)).startswith(flat(asked).rstrip("…")), row
    assert answer.startswith(given.strip().rstrip("…")) and given.strip(), row


@pytest.mark.parametrize(("rows", "columns"), [(24, 80), (20, 60)])
def test_the_opening_fits_the_screen_and_waits_for_enter(
    ask_bank: Bank, tmp_path: Path, rows: int, columns: int
) -> None:
    term = Terminal([], tmp_path, rows=rows, columns=columns)
    term.wait_for(START_PROMPT)
    # the whole opening on one screen: what it does, that it does not diagnose, the keys
    term.wait_for(
        "hipback asks about the pain around your hip",
        NOT_A_DIAGNOSIS_SHORT,
        "press Enter to skip it.",
        "Press Ctrl-C at any time to stop; nothing is kept.",
        START_PROMPT,
    )
    assert not term.shows(ask_bank.question("red_flags").prompt)  # it waits for Enter
    term.child.send(ENTER)
    term.wait_for(ask_bank.question("red_flags").prompt)
    term.child.send(CTRL_C)
    term.wait_for("hipback: stopped; nothing was saved.")
    assert term.finish() == 130


@pytest.mark.parametrize(("rows", "columns"), [(24, 80), (20, 60)])
def test_the_review_fits_the_screen_a_page_at_a_time(
    ask_bank: Bank, keys: Keystrokes, tmp_path: Path, rows: int, columns: int
) -> None:
    flags = ask_bank.question("red_flags")
    term = Terminal(["--save", "saved.json"], tmp_path, rows=rows, columns=columns)
    term.start()
    term.answer(flags, DOWN * flags.codes.index("none") + " " + ENTER)
    rest = questions_to_ask(ask_bank, {"red_flags": frozenset({"none"})})
    quality = ask_bank.question("quality")
    chosen: dict[str, str] = {}
    for number, question in enumerate(rest):
        if question.id == "limp":
            # "yes" typed whole, then Enter: Yes, and the next question is not skipped
            term.answer(question, "yes" + ENTER)
            nxt = rest[number + 1]
            term.answer(nxt, DOWN + ENTER)  # its first choice, chosen here
            chosen[nxt.id] = nxt.codes[0]
        elif question.id in chosen:  # answered above
            continue
        elif question is quality:
            term.answer(question, " " + DOWN + " " + ENTER)
        else:
            term.answer(question, ENTER)
    # the checkbox's line shows the ticked choices' words
    assert term.said(f"{quality.choices[0].label}; {quality.choices[1].label}"[:20])

    term.wait_for(REVIEW_QUESTION, "See the result", "Next page")
    screen = term.text()
    first = term.review_rows()
    assert sorted(first) == list(range(1, len(first) + 1)) and len(first) >= 8
    heading = f"Your answers 1 to {len(first)} of"
    assert heading in screen, screen  # the heading, the question and every row: one screen
    term.child.send(DOWN * (len(first) + 1) + ENTER)  # "Next page", after the rows
    shown = [q for q in asking_order(ask_bank) if q.id == "red_flags" or q in rest]
    later = term.wait_for_rows(range(len(first) + 1, len(shown) + 1))
    limp = shown.index(ask_bank.question("limp")) + 1
    assert limp in later and later[limp].rstrip().endswith("Yes")
    term.wait_for("Previous page")
    term.child.send(ENTER)  # "See the result"
    term.wait_for("Saved your answers and the result")

    assert term.finish() == 0
    saved = json.loads((tmp_path / "saved.json").read_text())
    assert saved["answers"]["limp"] == "yes"
    for question_id, code in chosen.items():
        assert saved["answers"][question_id] == code, question_id
    assert saved["answers"]["quality"] == list(quality.codes[:2])


@pytest.mark.parametrize(
    ("rows", "columns", "stop"),
    [(24, 80, "ctrl-c"), (20, 60, "ctrl-c"), (24, 80, "SIGTERM")],
)
def test_a_stop_after_carrying_on_past_a_sign_ends_with_the_advice(
    ask_bank: Bank, tmp_path: Path, rows: int, columns: int, stop: str
) -> None:
    given = {k: v for k, v in P01_FILE.items() if k != "limp"} | {"red_flags": "fever"}
    write_answers(tmp_path / "given.json", given)
    term = Terminal(["--answers", "given.json", "--save", "saved.json"], tmp_path, rows, columns)
    term.start()
    term.wait_for(AFTER_FLAGS_QUESTION)
    term.child.send(CARRY_ON)
    term.wait_for(ask_bank.question("limp").prompt)
    if stop == "ctrl-c":
        term.child.send(CTRL_C)
    else:
        term.child.kill(signal.SIGTERM)

    assert term.finish() == (130 if stop == "ctrl-c" else 128 + signal.SIGTERM)
    advice = assess(ask_bank, given).red_flag_advice
    screen = flat(term.text())
    assert "hipback: stopped; nothing was saved." in screen
    assert screen.index("hipback: stopped") < screen.rindex(flat("Important: see a doctor today"))
    assert screen.endswith(flat(advice[0].advice))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["given.json"]
