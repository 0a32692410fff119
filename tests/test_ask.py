"""``hipback ask`` through the command line: answers files, JSON, saving, errors."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CARRY_ON, CTRL_C, ENTER, START, Keystrokes
from prompt_toolkit.input import PipeInput
from rich.console import Console
from typer.testing import CliRunner

import hipback.interview.ask
from hipback import assess
from hipback.answers import answers_as_data, parse_answers
from hipback.bank.loader import default_bank_path, load_bank
from hipback.bank.model import Bank
from hipback.cli import app
from hipback.formats.terminal import (
    HEADLINES,
    SAVE_EXAMPLE,
    most_telling_questions,
    red_flag_panel,
    short_prompt,
)
from hipback.interview.prompts import questions_to_ask

VIGNETTES = Path(__file__).parent / "data" / "public_vignettes.csv"
QUESTION_IDS = [q.id for q in load_bank().questions]


def vignette_rows() -> list[dict[str, str]]:
    with VIGNETTES.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def answers_of(row: dict[str, str]) -> dict[str, str | None]:
    """A vignette's answers; the questions it predates are left blank (null), as on
    purpose, so that they are not asked."""
    given: dict[str, str | None] = {k: v for k, v in row.items() if k in QUESTION_IDS}
    return {q: given.get(q) for q in QUESTION_IDS}


P01 = answers_of(vignette_rows()[0])


def write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data) if path.suffix == ".yaml" else json.dumps(data))
    return path


def ask(*args: str | Path) -> Any:
    return CliRunner().invoke(app, ["ask", *map(str, args)])


def flat(text: str) -> str:
    """Text with line breaks, frames and runs of spaces made single spaces."""
    return " ".join(re.sub(r"[┏┓┗┛┃━]", " ", text).split())


def plain(renderable: Any) -> str:
    console = Console(file=io.StringIO(), width=80, no_color=True, color_system=None)
    console.print(renderable)
    return str(console.file.getvalue())  # type: ignore[attr-defined]


def titled_sections(bank: Bank) -> list[Any]:
    """The sections after the warning-sign section (asked first, with no number)."""
    return [s for s in bank.sections if any(q not in bank.first_questions for q in s.questions)]


def headings(bank: Bank) -> list[str]:
    titled = titled_sections(bank)
    return [f"{n} of {len(titled)} · {s.title}" for n, s in enumerate(titled, start=1)]


def heading_of(bank: Bank, question_id: str) -> str:
    titled = titled_sections(bank)
    number = next(n for n, s in enumerate(titled) if question_id in [q.id for q in s.questions])
    return headings(bank)[number]


@pytest.fixture
def at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Standard input counts as a terminal; the keys come from the pipe fixture."""
    monkeypatch.setattr(hipback.interview.ask, "stdin_is_terminal", lambda: True)


@pytest.mark.parametrize("row", vignette_rows(), ids=lambda row: row["case_id"])
def test_answers_and_json_give_the_classifier_result_for_every_public_vignette(
    ask_bank: Bank, tmp_path: Path, row: dict[str, str]
) -> None:
    answers = answers_of(row)
    result = ask("--answers", write(tmp_path / "answers.json", answers), "--json")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert json.loads(result.stdout) == assess(ask_bank, answers).as_dict()


def test_a_yaml_answers_file_with_lists_and_booleans(ask_bank: Bank, tmp_path: Path) -> None:
    data: dict[str, Any] = {
        "red_flags": ["none"],
        "age": 67,
        "sides": "one_side",
        "worst_site": "GROIN",
        "pain_areas": ["groin", "front_thigh"],
        "c_sign": True,
        "quality": "dull_ache;stiffness",
        "tingling_numbness": False,
        "worse_with": ["walking", "stairs"],
        "eased_by": ["rest"],
        "rotation_pain": "y",
        "morning_stiffness": "under_1h",
        "limp": "yes",
    }
    data |= {q: None for q in QUESTION_IDS if q not in data}  # left blank
    result = ask("--answers", write(tmp_path / "answers.yaml", data), "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == assess(ask_bank, data).as_dict()


def test_without_json_the_report_is_printed(tmp_path: Path) -> None:
    result = ask("--answers", write(tmp_path / "a.json", P01))

    assert result.exit_code == 0, result.output
    assert "Your answers point to your hip joint rather than to your lower back." in result.stdout
    assert "it does not diagnose" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "age: [oops",
            "the answers file {path} is not valid YAML or JSON (line 1):"
            " expected ',' or ']', but got '<stream end>'",
        ),
        (
            "- age\n- 54\n",
            "the answers file {path} must hold a mapping of question ids to answers,"
            " like 'age: 54'; it holds a list",
        ),
        (
            "age: 200\nlimp: maybe\n",
            "the answers file {path}: age: '200' is not allowed; expected a whole number"
            " from 18 to 120; limp: 'maybe' is not allowed; expected yes or no"
            " (y/n, true/false, 1/0)",
        ),
        (
            "height: 180\n",
            "the answers file {path}: height: '180' is not allowed;"
            " that is not a question id; see 'hipback questions'",
        ),
    ],
    ids=["malformed", "not-a-mapping", "bad-values", "unknown-question"],
)
def test_a_bad_answers_file_is_a_usage_error_with_a_clear_message(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(content)

    result = ask("--answers", path, "--json")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"hipback: {message.format(path=path)}\n"


def test_a_missing_answers_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    result = ask("--answers", path)

    assert result.exit_code == 2
    assert result.stderr == (
        f"hipback: cannot read the answers file {path}: No such file or directory\n"
    )


def test_questions_left_and_no_terminal_points_to_answers(tmp_path: Path) -> None:
    partial = {k: v for k, v in P01.items() if k not in ("limp", "age")}
    result = ask("--answers", write(tmp_path / "a.json", partial), "--json")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "hipback: 2 questions are not answered (age, limp) and standard input is not a"
        " terminal to ask on; give the answers with --answers FILE (YAML or JSON, the codes"
        " 'hipback questions' lists)\n"
    )


def test_answers_from_standard_input(ask_bank: Bank, tmp_path: Path) -> None:
    from_a_file = ask("--answers", write(tmp_path / "a.json", P01), "--json")
    for text in (json.dumps(P01), yaml.safe_dump(P01)):
        result = CliRunner().invoke(app, ["ask", "--answers", "-", "--json"], input=text)

        assert result.exit_code == 0, result.output
        assert result.stdout == from_a_file.stdout
        assert json.loads(result.stdout) == assess(ask_bank, P01).as_dict()


def test_answers_from_standard_input_can_be_saved(tmp_path: Path) -> None:
    saved = tmp_path / "result.json"
    result = CliRunner().invoke(
        app, ["ask", "--answers", "-", "--save", str(saved)], input=json.dumps(P01)
    )

    assert result.exit_code == 0, result.output
    assert json.loads(saved.read_text())["answers"]["age"] == 67


def test_a_bad_answer_on_standard_input_is_named_as_such() -> None:
    result = CliRunner().invoke(app, ["ask", "--answers", "-"], input="age: old\n")

    assert result.exit_code == 2
    assert result.stderr.startswith("hipback: the answers on standard input: age: 'old'")


@pytest.mark.usefixtures("at_a_terminal")
def test_questions_left_after_answers_on_standard_input_cannot_be_asked() -> None:
    partial = {k: v for k, v in P01.items() if k not in ("limp", "age")}
    result = CliRunner().invoke(app, ["ask", "--answers", "-"], input=json.dumps(partial))

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "hipback: 2 questions are not answered (age, limp): standard input gave the answers,"
        " so none can be asked; give every answer there (YAML or JSON, the codes"
        " 'hipback questions' lists), or give the answers with --answers FILE to be asked"
        " the rest\n"
    )


def test_one_question_left_is_named(tmp_path: Path) -> None:
    given = {k: v for k, v in P01.items() if k != "sides"}
    result = ask("--answers", write(tmp_path / "a.json", given), "--json")

    assert result.exit_code == 2
    assert result.stderr.startswith("hipback: 1 question is not answered (sides) and standard")


def test_many_questions_left_are_named_up_to_eight(ask_bank: Bank) -> None:
    left = questions_to_ask(ask_bank, {})
    assert len(left) > 8
    message = hipback.interview.ask.not_answered_message(left)
    named = ", ".join(q.id for q in left[:8])
    assert message.startswith(
        f"{len(left)} questions are not answered ({named} and {len(left) - 8} more) and"
    )


@pytest.mark.slow
def test_no_answers_and_no_terminal_in_a_real_process(ask_bank: Bank) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hipback", "ask"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    count = len(questions_to_ask(ask_bank, {}))
    assert done.stderr.startswith(
        f"hipback: {count} questions are not answered (red_flags, risk_factors, age,"
    )
    assert "--answers FILE" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_question_left_blank_in_the_file_is_not_asked(ask_bank: Bank, tmp_path: Path) -> None:
    data = P01 | {"limp": "", "c_sign": None}
    result = ask("--answers", write(tmp_path / "a.json", data), "--json")

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body == assess(ask_bank, data).as_dict()
    assert body["answered"] == len([v for k, v in P01.items() if v]) - 2


def test_save_writes_answers_and_result_readable_by_the_owner_only(
    ask_bank: Bank, tmp_path: Path
) -> None:
    saved = tmp_path / "result.json"
    result = ask("--answers", write(tmp_path / "a.json", P01), "--save", saved)

    assert result.exit_code == 0, result.output
    assert f"Savedyouranswersandtheresultto{saved}" in "".join(result.stdout.split())
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    body = json.loads(saved.read_text())
    assert body["answers"]["pain_areas"] == ["groin", "front_thigh"]
    assert body["answers"]["age"] == 67
    assert body["result"] == assess(ask_bank, P01).as_dict()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "result.json"]


@pytest.mark.parametrize(
    ("flags", "mode", "who"),
    [((), 0o600, "you only"), (("--shared",), 0o640, "you and your group")],
)
def test_save_and_report_are_group_readable_when_asked(
    tmp_path: Path, flags: tuple[str, ...], mode: int, who: str
) -> None:
    saved, page = tmp_path / "result.json", tmp_path / "report.html"
    before = os.umask(0o077)  # would take the group's read bit away
    try:
        result = ask("--answers", write(tmp_path / "a.json", P01), "--save", saved, *flags)
        reported = ask("--answers", tmp_path / "a.json", "--report", page, *flags)
    finally:
        os.umask(before)

    assert result.exit_code == reported.exit_code == 0, result.output + reported.output
    assert stat.S_IMODE(saved.stat().st_mode) == mode
    assert stat.S_IMODE(page.stat().st_mode) == mode
    assert f"(readable by {who})" in " ".join(result.stdout.split())
    assert f"(readable by {who})" in " ".join(reported.output.split())


def test_a_saved_file_can_be_given_back_as_answers(tmp_path: Path) -> None:
    saved = tmp_path / "result.json"
    assert ask("--answers", write(tmp_path / "a.json", P01), "--save", saved).exit_code == 0

    again = ask("--answers", saved, "--json")

    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == json.loads(saved.read_text())["result"]


def test_save_into_a_missing_folder_fails_before_anything_is_asked(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "out.json"
    result = ask("--save", target)

    assert result.exit_code == 2
    assert result.stderr == (
        f"hipback: cannot save to {target}: the folder {target.parent} does not exist\n"
    )


def test_another_bank(ask_bank: Bank, tmp_path: Path) -> None:
    result = ask(
        "--answers", write(tmp_path / "a.json", P01), "--json", "--bank", default_bank_path()
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == assess(ask_bank, P01).as_dict()

    missing = ask("--answers", tmp_path / "a.json", "--bank", tmp_path / "nobank")
    assert missing.exit_code != 0
    assert missing.stderr.startswith("hipback: ")
    assert "Traceback" not in missing.output


def test_interactive_json_keeps_stdout_pure(
    ask_bank: Bank,
    tmp_path: Path,
    pipe_input: PipeInput,
    keys: Keystrokes,
    at_a_terminal: None,
) -> None:
    partial = {k: v for k, v in P01.items() if k != "limp"}
    pipe_input.send_text(START + "y" + ENTER + ENTER)  # limp: yes, then see the result
    pipe_input.close()

    result = ask("--answers", write(tmp_path / "a.json", partial), "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == assess(ask_bank, P01).as_dict()
    assert heading_of(ask_bank, "limp") in result.stderr
    assert "Your answers" in result.stderr


def test_interactive_report_from_scratch(
    ask_bank: Bank, tmp_path: Path, pipe_input: PipeInput, keys: Keystrokes, at_a_terminal: None
) -> None:
    pipe_input.send_text(START + keys.interview(P01) + ENTER)
    pipe_input.close()
    saved = tmp_path / "saved.json"

    result = ask("--save", saved)

    assert result.exit_code == 0, result.output
    assert "Your answers point to your hip joint rather than to your lower back." in result.stdout
    spine = min(99, max(1, round(assess(ask_bank, P01).spine_probability * 100)))
    assert f"Lower back {spine:>2}% " in result.stdout
    body = json.loads(saved.read_text())
    given = answers_as_data(ask_bank, keys.recorded(P01))
    asked = {q.id for q in keys.asked(P01)}
    # what was skipped is saved as null: given back, it is not asked again
    assert body["answers"] == {q: given.get(q) for q in QUESTION_IDS if q in given or q in asked}
    assert None in body["answers"].values()
    assert body["result"] == assess(ask_bank, P01).as_dict()
    assert flat(result.stdout).endswith(
        f"Saved your answers and the result to {saved} (readable by you only)."
    )


def test_when_standard_output_is_not_a_terminal_it_gets_the_report_only(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes, at_a_terminal: None
) -> None:
    """``hipback ask > report.txt``: the questions on the terminal, the report in the file."""
    pipe_input.send_text(START + keys.interview(P01) + ENTER)
    pipe_input.close()

    result = ask()

    assert result.exit_code == 0, result.output
    assert "Your answers point to your hip joint" in result.stdout
    assert "\x1b" not in result.stdout
    for shown_to_the_person in [
        "It informs; it does not diagnose.",
        "Is everything right?",
        "First, some warning signs",
    ]:
        assert shown_to_the_person in result.stderr
        assert shown_to_the_person not in result.stdout
    for heading in headings(ask_bank):
        assert heading not in result.stdout
    assert "Your answers point to" not in result.stderr
    assert "The report was written to standard output." in result.stderr
    assert flat(result.stdout).endswith(f"for example: {SAVE_EXAMPLE}")


def test_stopping_after_a_red_flag_still_reports_it(
    tmp_path: Path, pipe_input: PipeInput, keys: Keystrokes, at_a_terminal: None
) -> None:
    pipe_input.send_text(
        START + keys.interview(P01 | {"red_flags": "bladder_bowel"}, carry_on=False)
    )
    pipe_input.close()

    result = ask("--json")

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["urgent"], body["urgency"], body["answered"]) == ("yes", "emergency", 1)
    assert "URGENT: go to an emergency department now" in result.stderr
    assert "Nothing was saved" in result.stderr


@pytest.mark.parametrize("saving", [False, True])
def test_stopping_after_a_red_flag_says_what_is_kept_and_ends_with_the_advice(
    ask_bank: Bank,
    tmp_path: Path,
    pipe_input: PipeInput,
    keys: Keystrokes,
    at_a_terminal: None,
    saving: bool,
) -> None:
    answers = P01 | {"red_flags": "saddle_numbness;night_pain"}
    pipe_input.send_text(START + keys.interview(answers, carry_on=False))
    pipe_input.close()
    saved = tmp_path / "visit.json"

    result = ask(*(["--save", saved] if saving else []))

    assert result.exit_code == 0, result.output
    flags = assess(ask_bank, {"red_flags": answers["red_flags"]}).red_flag_advice
    assert flat(result.stdout).endswith(flat(plain(red_flag_panel(flags))))
    assert "does not say where your pain comes from" in flat(result.stdout)
    if saving:
        assert f"saved to {saved}" in flat(result.stdout)
        assert "Nothing was saved" not in result.stdout
        body = json.loads(saved.read_text())
        # the panel comes at once, right after the warning signs
        assert body["answers"] == {"red_flags": ["saddle_numbness", "night_pain"]}
    else:
        assert "Nothing was saved: your answers are not kept." in flat(result.stdout)
        assert list(tmp_path.iterdir()) == []


def test_the_report_ends_with_the_urgent_advice_after_the_save_offer(
    ask_bank: Bank, tmp_path: Path
) -> None:
    answers = P01 | {"red_flags": "fever"}
    result = ask("--answers", write(tmp_path / "a.json", answers))

    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    panel = flat(plain(red_flag_panel(assess(ask_bank, answers).red_flag_advice)))
    assert text.startswith("Important: see a doctor today.")
    assert text.endswith(panel)
    assert text.index(SAVE_EXAMPLE) < text.index(panel)


def test_ctrl_c_says_goodbye_exits_130_and_leaves_no_file(
    tmp_path: Path, pipe_input: PipeInput, keys: Keystrokes, at_a_terminal: None
) -> None:
    pipe_input.send_text(START + keys.interview(P01)[:3] + CTRL_C)
    pipe_input.close()
    saved = tmp_path / "out.json"

    result = ask("--save", saved)

    assert result.exit_code == 130
    assert result.stderr.endswith("\nhipback: stopped; nothing was saved.\n")
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_end_of_input_is_a_goodbye_too(
    tmp_path: Path, pipe_input: PipeInput, at_a_terminal: None
) -> None:
    pipe_input.close()
    result = ask("--save", tmp_path / "out.json")

    assert result.exit_code == 130
    assert result.stderr.endswith("\nhipback: stopped; nothing was saved.\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_version_does_not_import_the_prompt_library() -> None:
    code = (
        "import sys\n"
        "from hipback.cli import main\n"
        "sys.argv = ['hipback', '--version']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('questionary', 'prompt_toolkit', 'hipback.interview.ask') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.stdout.splitlines()[-1] == "[]"


def _all_blank_but(tmp_path: Path, **given: str) -> Path:
    """An answers file that answers ``given`` and leaves every other question blank."""
    path = tmp_path / "answers.yaml"
    ids = [q.id for q in hipback.interview.ask.load_bank().questions]
    path.write_text("".join(f"{q}: {given.get(q, '')}\n" for q in ids), encoding="utf-8")
    return path


def test_unanswered_warning_signs_are_listed_before_the_result(tmp_path: Path) -> None:
    answers = _all_blank_but(tmp_path, worst_site="groin")
    result = CliRunner().invoke(app, ["ask", "--answers", str(answers)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)  # the longer labels now wrap inside the frame
    verdict = assess(hipback.interview.ask.load_bank(), {"worst_site": "groin"}).verdict
    assert "Warning signs not checked" in text
    assert "You did not answer the question about warning signs" in text
    assert text.index("Warning signs not checked") < text.index(HEADLINES[verdict])
    flags = hipback.interview.ask.load_bank().question("red_flags")
    assert f"Emergency: {' '.join(flags.choice('bladder_bowel').label.split())}" in text


def test_answered_warning_signs_are_not_listed_again(tmp_path: Path) -> None:
    answers = _all_blank_but(tmp_path, red_flags="none")
    result = CliRunner().invoke(app, ["ask", "--answers", str(answers)])
    assert result.exit_code == 0, result.output
    assert "Warning signs not checked" not in result.stdout


def test_none_beside_a_sign_counts_the_sign_and_says_so(ask_bank: Bank, tmp_path: Path) -> None:
    data = P01 | {"red_flags": "none;fever"}
    result = ask("--answers", write(tmp_path / "a.yaml", data), "--json")

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body == assess(ask_bank, data).as_dict()
    assert (body["urgent"], body["urgency"], body["red_flags_present"]) == (
        "yes",
        "same_day",
        ["fever"],
    )
    assert any("None of these" in note and "counted" in note for note in body["notes"])


def test_other_causes_are_in_the_json_and_the_report(ask_bank: Bank, tmp_path: Path) -> None:
    data = P01 | {"previous_surgery": "hip_replacement"}
    answers = write(tmp_path / "a.json", data)

    body = json.loads(ask("--answers", answers, "--json").stdout)
    printed = ask("--answers", answers)

    assert body["also_consider"] == ["hip_implant"]
    assert printed.exit_code == 0, printed.output
    meaning = ask_bank.settings.considerations["hip_implant"].meaning
    assert "Other causes to check" in printed.stdout
    assert flat(meaning) in flat(printed.stdout)


def test_too_few_answers_ask_for_the_questions_that_would_tell_most(
    ask_bank: Bank, tmp_path: Path
) -> None:
    data: dict[str, Any] = {q: None for q in QUESTION_IDS}
    data |= {"red_flags": "none", "worst_site": "groin", "sides": "one_side"}
    result = ask("--answers", write(tmp_path / "a.json", data))

    assert result.exit_code == 0, result.output
    assert assess(ask_bank, data).verdict == "too_few_answers"
    text = flat(result.stdout)
    assert "There are too few answers to tell" in text
    assert "Most likely" not in text
    listed = text[text.index("The questions that would tell most") :]
    for question in ("worst_site", "sides"):  # answered: not asked for again
        assert flat(ask_bank.question(question).prompt.split("?")[0]) not in listed
    telling = most_telling_questions(ask_bank, parse_answers(ask_bank, data))
    assert telling
    for question in telling:
        assert flat(short_prompt(question.prompt)) in listed


def test_stopping_at_a_warning_sign_with_report_writes_the_page_with_the_warning_first(
    ask_bank: Bank, tmp_path: Path, pipe_input: PipeInput, keys: Keystrokes, at_a_terminal: None
) -> None:
    answers = P01 | {"red_flags": "saddle_numbness"}
    pipe_input.send_text(START + keys.interview(answers, carry_on=False))
    pipe_input.close()
    page = tmp_path / "visit.html"

    result = ask("--report", page)

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    html = page.read_text(encoding="utf-8")
    urgent = html.index("URGENT: go to an emergency department now")
    assert urgent < html.index(
        HEADLINES[assess(ask_bank, {"red_flags": "saddle_numbness"}).verdict]
    )
    shown = flat(result.stdout + result.stderr)
    assert f"Wrote the printable report to {page}" in shown
    assert f"are in the printable report {page}; they were not saved as a file" in shown
    assert "Nothing was saved" not in shown
    assert "No report was written" not in shown
    flags = assess(ask_bank, {"red_flags": "saddle_numbness"}).red_flag_advice
    assert flat(result.stdout).endswith(flat(plain(red_flag_panel(flags))))


def test_a_report_without_save_says_the_answers_are_in_it_not_in_a_file(tmp_path: Path) -> None:
    page = tmp_path / "visit.html"
    result = ask("--answers", write(tmp_path / "a.json", P01), "--report", page)

    assert result.exit_code == 0, result.output
    text = flat(result.stdout + result.stderr)  # the person's lines go to standard error here
    assert f"Wrote the printable report to {page}" in text
    assert "Your answers are in the report only; they were not saved as a file" in text
    assert "Your answers were not saved. To keep them" not in text

    saved = tmp_path / "visit.json"
    both = ask("--answers", tmp_path / "a.json", "--report", page, "--save", saved)
    assert both.exit_code == 0, both.output
    assert "not saved as a file" not in flat(both.stdout + both.stderr)
    assert f"Saved your answers and the result to {saved}" in flat(both.stdout)


def test_ctrl_c_after_carrying_on_past_a_sign_ends_with_the_advice(
    ask_bank: Bank, tmp_path: Path, pipe_input: PipeInput, keys: Keystrokes, at_a_terminal: None
) -> None:
    answers = P01 | {"red_flags": "fever"}
    typed = keys.interview(answers)
    carried = typed.index(CARRY_ON) + len(CARRY_ON)
    pipe_input.send_text(START + typed[:carried] + CTRL_C)  # at the question after the panel
    pipe_input.close()
    saved = tmp_path / "out.json"

    result = ask("--save", saved)

    assert result.exit_code == 130
    flags = assess(ask_bank, {"red_flags": "fever"}).red_flag_advice
    shown = flat(result.stderr)
    assert shown.endswith(flat(plain(red_flag_panel(flags))))
    assert shown.count("hipback: stopped; nothing was saved.") == 1
    assert shown.rindex("hipback: stopped") > shown.rindex(REVIEW_OR_QUESTION_MARK)
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


#: Every prompt's line starts with this mark: the goodbye comes after the last prompt.
REVIEW_OR_QUESTION_MARK = "? "
