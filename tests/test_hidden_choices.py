"""A choice that earlier answers contradict is not offered (``hide_when``).

"Walking and standing do not hurt" is not offered to someone who ticked
walking or standing among what makes the pain worse. Only asking changes: an
answers file or a batch row that gives the hidden choice anyway is read as
before, with no error.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from pathlib import Path

from conftest import DOWN, ENTER, START
from prompt_toolkit.input import PipeInput
from rich.console import Console
from typer.testing import CliRunner

from hipback import assess, load_bank, parse_answers, validate_bank
from hipback.bank.model import Bank
from hipback.cli import app
from hipback.errors import EXIT_OK
from hipback.interview.prompts import offered, questions_to_ask, run_interview

BANK = load_bank()
CONTRADICTION = {"worse_with": "walking;stairs", "walking_onset": "no_walking_pain"}

TEMPLATE = """\
settings:
  prior_spine: 0.5
  verdict_bands:
    spine_at_least: 0.8
    leaning_spine_at_least: 0.6
    leaning_hip_at_most: 0.4
    hip_at_most: 0.2
  mixed_pattern_min_lr: 6
sections:
  - id: site
    title: Where it hurts
    questions:
      - id: worse_with
        type: multi
        prompt: What makes it worse?
        choices:
          - code: walking
            label: Walking
          - code: sitting
            label: Sitting
      - id: limp
        type: yesno
        prompt: Do you limp?
      - id: walking_onset
        type: single
        prompt: When does walking hurt?
        choices:
          - code: at_once
            label: At once
          - code: never
            label: Walking does not hurt
            hide_when:
              worse_with: [walking]
"""


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "bank.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    bank, problems = validate_bank(path)
    assert bank is None
    return [f"{p.line}: {p.message}" for p in problems]


def _line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_the_template_reads_the_condition(tmp_path: Path) -> None:
    path = tmp_path / "bank.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    question = load_bank(path).question("walking_onset")
    assert question.choice("at_once").hide_when is None
    condition = question.choice("never").hide_when
    assert condition is not None
    assert condition.describe() == "worse_with is walking"


def test_the_packaged_walking_question_hides_does_not_hurt_after_walking_or_standing() -> None:
    question = BANK.question("walking_onset")
    condition = question.choice("no_walking_pain").hide_when
    assert condition is not None
    assert condition.describe() == "worse_with is standing or walking"
    assert [c.code for c in question.choices if c.hide_when is not None] == ["no_walking_pain"]


def test_offered_leaves_out_a_contradicted_choice() -> None:
    question = BANK.question("walking_onset")
    walking = parse_answers(BANK, {"worse_with": "walking;stairs"})
    standing = parse_answers(BANK, {"worse_with": "standing"})
    stairs = parse_answers(BANK, {"worse_with": "stairs"})
    assert offered(question, walking).codes == ("at_once", "after_a_distance")
    assert offered(question, standing).codes == ("at_once", "after_a_distance")
    assert offered(question, stairs).codes == question.codes
    assert offered(question, {}).codes == question.codes  # not known: everything offered
    # An answer already given stays on offer, so it can be seen and kept.
    given = parse_answers(BANK, CONTRADICTION)
    assert offered(question, given).codes == question.codes


def _interview(bank: Bank, pipe: PipeInput, given: dict[str, object]) -> dict[str, object]:
    """Every question left is skipped, except walking_onset, where Down is pressed
    three times: "Walking and standing do not hurt" when offered, else "skip"."""
    answers = parse_answers(bank, given)
    typed = "".join(
        DOWN * 3 + ENTER if q.id == "walking_onset" else ENTER
        for q in questions_to_ask(bank, answers)
    )
    pipe.send_text(START + typed + ENTER)  # the opening, then "See the result" at the review
    pipe.close()
    result = run_interview(bank, answers, Console(file=io.StringIO(), width=80))
    return dict(result.answers)


def test_the_interview_does_not_offer_it_after_walking_was_ticked(
    ask_bank: Bank, pipe_input: PipeInput
) -> None:
    given = {"red_flags": "none", "risk_factors": "none", "worse_with": "walking"}
    answers = _interview(ask_bank, pipe_input, given)
    assert "walking_onset" not in answers  # the third entry down was "skip"


def test_the_interview_offers_it_when_nothing_says_walking_hurts(
    ask_bank: Bank, pipe_input: PipeInput
) -> None:
    given = {"red_flags": "none", "risk_factors": "none"}
    answers = _interview(ask_bank, pipe_input, given)
    assert answers["walking_onset"] == "no_walking_pain"


def test_an_answer_giving_the_hidden_choice_is_read_as_before() -> None:
    answers = parse_answers(BANK, CONTRADICTION)
    assert answers["walking_onset"] == "no_walking_pain"
    assert (
        assess(BANK, CONTRADICTION).spine_probability
        == assess(BANK, {"worse_with": "walking;stairs"}).spine_probability
    )


def test_a_batch_row_giving_the_hidden_choice_has_no_error(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "red_flags,worse_with,walking_onset,worst_site\nnone,walking;stairs,no_walking_pain,groin\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["batch", str(source), "-o", str(out)])
    assert result.exit_code == EXIT_OK, result.output
    (row,) = csv.DictReader(out.read_text(encoding="utf-8").splitlines())
    assert row["error"] == ""
    assert row["walking_onset"] == "no_walking_pain"
    assert (
        float(row["spine_probability"])
        == assess(BANK, CONTRADICTION | {"worst_site": "groin"}).spine_probability
    )


def test_an_answers_file_giving_the_hidden_choice_has_no_error(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    lines = "".join(f"{q.id}: \n" for q in BANK.questions)
    for question_id, value in {**CONTRADICTION, "red_flags": "none"}.items():
        lines = lines.replace(f"{question_id}: \n", f"{question_id}: {value}\n")
    answers.write_text(lines, encoding="utf-8")
    saved = tmp_path / "visit.json"
    result = CliRunner().invoke(app, ["ask", "--answers", str(answers), "--save", str(saved)])
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads(saved.read_text(encoding="utf-8"))["answers"]["walking_onset"] == (
        "no_walking_pain"
    )


def test_hide_when_on_a_yes_no_question_is_reported(tmp_path: Path) -> None:
    text = TEMPLATE.replace(
        "        prompt: Do you limp?\n",
        "        prompt: Do you limp?\n        choices:\n          - code: 'no'\n"
        "            hide_when:\n              worse_with: [walking]\n",
    )
    assert _problems(tmp_path, text) == [
        f"{_line_of(text, 'hide_when')}: hide_when is for single and multiple choices;"
        " 'limp' is yesno"
    ]


def test_hide_when_naming_a_later_question_is_reported(tmp_path: Path) -> None:
    text = TEMPLATE.replace("worse_with: [walking]\n", "limp: ['yes']\n").replace(
        "      - id: limp\n        type: yesno\n        prompt: Do you limp?\n", ""
    )
    text += "      - id: limp\n        type: yesno\n        prompt: Do you limp?\n"
    assert _problems(tmp_path, text) == [
        f"{_line_of(text, 'limp: ')}: hide_when of walking_onset=never names 'limp',"
        " which is not asked before this question"
    ]


def test_hide_when_with_an_unknown_code_or_question_is_reported(tmp_path: Path) -> None:
    text = TEMPLATE.replace("worse_with: [walking]", "worse_with: [walkng]\n              aeg: [x]")
    assert _problems(tmp_path, text) == [
        f"{_line_of(text, '[walkng]')}: hide_when of walking_onset=never: 'walkng'"
        " is not a code of 'worse_with'",
        f"{_line_of(text, 'aeg:')}: hide_when of walking_onset=never names unknown question 'aeg'",
    ]
