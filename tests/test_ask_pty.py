"""``hipback ask`` in a real pseudo-terminal, answered by keystrokes."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import pexpect
import pytest
from conftest import CTRL_C, DOWN, ENTER, Keystrokes

from hipback import assess
from hipback.answers import parse_answer
from hipback.bank import Bank
from hipback.interview import asking_order

VIGNETTES = Path(__file__).parent / "data" / "public_vignettes.csv"
with VIGNETTES.open(newline="", encoding="utf-8") as _handle:
    #: The public vignette P01 (classic hip osteoarthritis), in answer codes only.
    P01 = {
        key: value
        for key, value in next(r for r in csv.DictReader(_handle) if r["case_id"] == "P01").items()
        if key not in ("case_id", "expected", "expect_urgent")
    }

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def spawn(*args: str, cwd: Path) -> pexpect.spawn:
    # pexpect does not answer prompt_toolkit's cursor-position requests as a real
    # terminal does; without this each prompt waits a second for the answer.
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "hipback", "ask", *args],
        cwd=str(cwd),
        env=env,
        dimensions=(40, 80),
        encoding="utf-8",
        timeout=15,
    )


def answer(child: pexpect.spawn, prompt: str, keys: str) -> None:
    child.expect_exact(prompt)
    child.send(keys)


def test_a_whole_interview_in_a_terminal(ask_bank: Bank, keys: Keystrokes, tmp_path: Path) -> None:
    child = spawn("--save", "saved.json", cwd=tmp_path)
    child.expect_exact("It informs; it does not diagnose.")
    answer(child, "any of these", keys.fresh(ask_bank.question("red_flags"), frozenset({"none"})))
    answer(child, "1 of 5 · About you", "")
    # an age that does not fit is refused with a clear message, then corrected
    answer(child, "How old are you", "abc" + ENTER)
    child.expect_exact("Please type a whole number from 18 to 120")
    child.send("\x7f" * 3 + "67" + ENTER)
    for later in asking_order(ask_bank)[2:]:
        answer(child, later.prompt[:25], keys.fresh(later, parse_answer(later, P01[later.id])))
    answer(child, "Is everything right?", ENTER)
    child.expect_exact("Your answers point to your hip joint rather than to your lower back.")
    child.expect_exact("Pointing to the hip joint")
    child.expect_exact("it does not diagnose")
    child.expect_exact("Saved your answers and the result to saved.json")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0
    saved = json.loads((tmp_path / "saved.json").read_text())
    assert saved["result"] == assess(ask_bank, P01).as_dict()


def test_ctrl_c_in_a_terminal_says_goodbye(tmp_path: Path) -> None:
    child = spawn("--save", "saved.json", cwd=tmp_path)
    child.expect_exact("any of these")
    child.send(DOWN)
    child.send(CTRL_C)
    child.expect_exact("hipback: stopped; nothing was saved.")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 130
    assert "Traceback" not in (child.before or "")
    assert list(tmp_path.iterdir()) == []


def test_json_from_a_terminal_keeps_standard_output_pure(
    ask_bank: Bank, keys: Keystrokes, tmp_path: Path
) -> None:
    given = {k: v for k, v in P01.items() if k != "limp"}
    (tmp_path / "given.json").write_text(json.dumps(given))
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    command = f"{sys.executable} -m hipback ask --answers given.json --json > result.json"
    child = pexpect.spawn(
        "/bin/sh", ["-c", command], cwd=str(tmp_path), env=env, encoding="utf-8", timeout=15
    )
    answer(child, "5 of 5 · Walking", "")
    answer(child, "Do you walk with a limp", "y")
    answer(child, "Is everything right?", ENTER)
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0
    result = json.loads((tmp_path / "result.json").read_text())
    assert result == assess(ask_bank, P01).as_dict()
