"""The bank loader and validator: every kind of mistake, with its file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hipback import BankError, HipbackError, load_bank, validate_bank
from hipback.cli import app

VALID = """\
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
      - id: red_flags
        type: multi
        prompt: Any of these?
        choices:
          - code: fever
            label: Fever
            urgency: same_day
            advice: See a doctor today.
            source: NICE NG59
          - code: none
            label: None of these
            exclusive: true
      - id: worst_site
        type: single
        prompt: Where is it worst?
        choices:
          - code: groin
            label: Groin
            evidence:
              toward: hip
              lr: 3
              reason: Groin pain points to the hip.
              source: Khan 2004
          - code: low_back
            label: Lower back
      - id: limp
        type: yesno
        prompt: Do you limp?
        ask_when:
          worst_site: [groin]
        choices:
          - code: yes
            evidence:
              toward: hip
              lr: 2
              reason: A limp points to the hip.
              source: Brown 2004
"""


def _bank(tmp_path: Path, text: str, name: str = "bank.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = _bank(tmp_path, text)
    bank, problems = validate_bank(path)
    assert bank is None
    assert problems, "expected at least one problem"
    return [f"{p.line}: {p.message}" for p in problems]


def _line_of(text: str, fragment: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


def test_the_template_bank_is_valid(tmp_path: Path) -> None:
    bank = load_bank(_bank(tmp_path, VALID))
    assert [q.id for q in bank.questions] == ["red_flags", "worst_site", "limp"]
    assert bank.question("limp").codes == ("yes", "no")
    assert bank.red_flags[0].urgency == "same_day"


def test_the_packaged_bank_is_valid() -> None:
    bank, problems = validate_bank()
    assert problems == []
    assert bank is not None


def test_malformed_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    broken = VALID.replace("    title: Where it hurts", "    title: [unclosed")
    problems = _problems(tmp_path, broken)
    assert any("malformed YAML" in p for p in problems)
    assert int(problems[0].split(":")[0]) >= _line_of(broken, "[unclosed")


def test_an_unknown_key_is_reported(tmp_path: Path) -> None:
    text = VALID.replace(
        "        prompt: Where is it worst?",
        "        prompt: Where is it worst?\n        colour: red",
    )
    line = _line_of(text, "colour: red")
    assert (
        f"{line}: unknown key 'colour' in a question (allowed: ask_when, choices, help, id, max, min, prompt, type)"
        in _problems(tmp_path, text)
    )


def test_a_missing_key_is_reported(tmp_path: Path) -> None:
    text = VALID.replace("        prompt: Do you limp?\n", "")
    line = _line_of(text, "- id: limp")
    assert f"{line}: a question is missing 'prompt'" in _problems(tmp_path, text)


def test_a_duplicate_question_id_is_reported(tmp_path: Path) -> None:
    text = VALID.replace("- id: limp", "- id: worst_site")
    line = _line_of(text, "type: yesno") - 1
    assert f"{line}: duplicate question id 'worst_site'" in _problems(tmp_path, text)


def test_a_duplicate_code_is_reported(tmp_path: Path) -> None:
    text = VALID.replace("          - code: low_back", "          - code: groin")
    line = _line_of(text, "label: Lower back") - 1
    assert f"{line}: duplicate code 'groin' in 'worst_site'" in _problems(tmp_path, text)


def test_a_duplicate_mapping_key_is_reported(tmp_path: Path) -> None:
    text = VALID.replace(
        "        prompt: Do you limp?", "        prompt: Do you limp?\n        prompt: Again?"
    )
    line = _line_of(text, "prompt: Again?")
    assert f"{line}: duplicate key 'prompt' (first given on line {line - 1})" in _problems(
        tmp_path, text
    )


def test_a_condition_on_an_unknown_question_is_reported(tmp_path: Path) -> None:
    text = VALID.replace("          worst_site: [groin]", "          worst_place: [groin]")
    line = _line_of(text, "worst_place")
    assert f"{line}: ask_when of question 'limp' names unknown question 'worst_place'" in _problems(
        tmp_path, text
    )


def test_a_condition_on_a_later_question_is_reported(tmp_path: Path) -> None:
    text = VALID.replace(
        "        prompt: Where is it worst?",
        "        prompt: Where is it worst?\n        ask_when:\n          limp: [yes]",
    )
    line = _line_of(text, "limp: [yes]")
    assert (
        f"{line}: ask_when of question 'worst_site' names 'limp', which is not asked before this question"
        in _problems(tmp_path, text)
    )


def test_an_unless_condition_on_an_unknown_question_is_reported(tmp_path: Path) -> None:
    text = VALID.replace(
        "              source: Khan 2004",
        "              source: Khan 2004\n              unless:\n                sides: [both]",
    )
    line = _line_of(text, "sides: [both]")
    assert (
        f"{line}: evidence of worst_site=groin: unless names unknown question 'sides'"
        in _problems(tmp_path, text)
    )


def test_a_condition_with_an_unknown_code_is_reported(tmp_path: Path) -> None:
    text = VALID.replace("worst_site: [groin]", "worst_site: [knee]")
    line = _line_of(text, "worst_site: [knee]")
    assert (
        f"{line}: ask_when of question 'limp': 'knee' is not a code of 'worst_site'"
        in _problems(tmp_path, text)
    )


@pytest.mark.parametrize("lr", ["0", "-2"])
def test_a_weight_at_or_below_zero_is_reported(tmp_path: Path, lr: str) -> None:
    text = VALID.replace("              lr: 3", f"              lr: {lr}")
    line = _line_of(text, f"lr: {lr}")
    assert (
        f"{line}: evidence of worst_site=groin: the likelihood ratio must be above 0, not {lr}"
        in _problems(tmp_path, text)
    )


def test_a_likelihood_ratio_below_one_is_reported(tmp_path: Path) -> None:
    text = VALID.replace("              lr: 3", "              lr: 0.5")
    problems = _problems(tmp_path, text)
    assert any(
        "a likelihood ratio below 1 points away from 'hip'; point toward the other side with 2" in p
        for p in problems
    )


def test_evidence_without_a_source_is_reported(tmp_path: Path) -> None:
    text = VALID.replace("              source: Khan 2004\n", "")
    line = _line_of(text, "toward: hip")
    assert f"{line}: evidence of worst_site=groin is missing 'source'" in _problems(tmp_path, text)


def test_an_empty_source_is_reported(tmp_path: Path) -> None:
    text = VALID.replace("source: Khan 2004", "source: ''")
    line = _line_of(text, "source: ''")
    assert f"{line}: evidence of worst_site=groin: source must be non-empty text" in _problems(
        tmp_path, text
    )


def test_an_exclusive_code_on_a_single_choice_question_is_reported(tmp_path: Path) -> None:
    text = VALID.replace(
        "            label: Lower back",
        "            label: Lower back\n            exclusive: true",
    )
    line = _line_of(text, "label: Lower back") + 1
    assert (
        f"{line}: exclusive is for multiple-choice questions; 'worst_site' is single"
        in _problems(tmp_path, text)
    )


def test_an_exclusive_code_carrying_a_red_flag_is_reported(tmp_path: Path) -> None:
    text = VALID.replace(
        "            label: Fever\n",
        "            label: Fever\n            exclusive: true\n",
    )
    line = _line_of(text, "exclusive: true")
    assert (
        f"{line}: red_flags=fever stands alone, so it cannot carry evidence or a red flag"
        in _problems(tmp_path, text)
    )


def test_a_red_flag_without_advice_is_reported(tmp_path: Path) -> None:
    text = VALID.replace("            advice: See a doctor today.\n", "")
    line = _line_of(text, "urgency: same_day")
    assert f"{line}: red flag red_flags=fever needs 'advice'" in _problems(tmp_path, text)


def test_an_unknown_urgency_is_reported(tmp_path: Path) -> None:
    text = VALID.replace("urgency: same_day", "urgency: whenever")
    line = _line_of(text, "urgency: whenever")
    assert (
        f"{line}: urgency of red_flags=fever must be one of emergency, same_day, soon"
        in _problems(tmp_path, text)
    )


def test_an_unknown_question_type_is_reported(tmp_path: Path) -> None:
    text = VALID.replace("type: yesno", "type: boolean")
    line = _line_of(text, "type: boolean")
    assert (
        f"{line}: the type of question 'limp' must be one of single, multi, yesno, integer, not 'boolean'"
        in _problems(tmp_path, text)
    )


def test_an_integer_question_needs_bounds(tmp_path: Path) -> None:
    text = VALID.replace(
        "      - id: limp\n",
        "      - id: age\n        type: integer\n        prompt: Age?\n        min: 30\n      - id: limp\n",
    )
    line = _line_of(text, "- id: age")
    assert f"{line}: question 'age' is missing 'max'" in _problems(tmp_path, text)


def test_a_toward_other_than_spine_or_hip_is_reported(tmp_path: Path) -> None:
    text = VALID.replace(
        "              toward: hip\n              lr: 3",
        "              toward: knee\n              lr: 3",
    )
    line = _line_of(text, "toward: knee")
    assert (
        f"{line}: evidence of worst_site=groin: toward must be spine or hip, not 'knee'"
        in _problems(tmp_path, text)
    )


def test_python_tags_are_refused_not_constructed(tmp_path: Path) -> None:
    text = VALID.replace(
        "title: Where it hurts", "title: !!python/object/apply:os.system ['echo owned']"
    )
    problems = _problems(tmp_path, text)
    assert any("malformed YAML" in p and "python/object" in p for p in problems)


def test_a_bank_without_settings_is_reported(tmp_path: Path) -> None:
    text = VALID[VALID.index("sections:") :]
    assert "0: the bank has no 'settings'" in _problems(tmp_path, text)


def test_settings_bands_must_rise(tmp_path: Path) -> None:
    text = VALID.replace("hip_at_most: 0.2", "hip_at_most: 0.5")
    assert any("verdict_bands must rise" in p for p in _problems(tmp_path, text))


def test_an_empty_file_is_reported(tmp_path: Path) -> None:
    assert _problems(tmp_path, "") == ["1: the file is empty"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        VALID.replace("source: Khan 2004", "source: ''")
        .replace("type: yesno", "type: boolean")
        .replace("worst_site: [groin]", "worst_place: [groin]")
    )
    assert len(_problems(tmp_path, text)) >= 3


def test_a_folder_bank_reports_the_file_of_each_problem(tmp_path: Path) -> None:
    settings_part = VALID[: VALID.index("sections:")]
    sections_part = VALID[VALID.index("sections:") :].replace("source: Brown 2004", "source: ''")
    _bank(tmp_path, settings_part, "00-settings.yaml")
    _bank(tmp_path, sections_part, "01-site.yaml")
    bank, problems = validate_bank(tmp_path)
    assert bank is None
    assert [p.file for p in problems] == [str(tmp_path / "01-site.yaml")]
    assert problems[0].line == _line_of(sections_part, "source: ''")


def test_load_bank_raises_one_error_listing_every_problem(tmp_path: Path) -> None:
    path = _bank(tmp_path, VALID.replace("type: yesno", "type: boolean"))
    with pytest.raises(BankError) as caught:
        load_bank(path)
    assert str(caught.value).startswith("the question bank has 1 problem:\n  ")
    assert f"{path}:" in str(caught.value)


def test_a_missing_bank_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(HipbackError) as caught:
        load_bank(tmp_path / "nowhere")
    assert caught.value.exit_code == 2
    assert "no such file or folder" in str(caught.value)


def test_validate_command_prints_problems_and_exits_1(tmp_path: Path) -> None:
    path = _bank(tmp_path, VALID.replace("type: yesno", "type: boolean"))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    line = _line_of(VALID, "type: yesno")
    assert f"{path}:{line}: the type of question 'limp' must be one of" in result.stdout
    assert "Traceback" not in result.output


def test_validate_command_summarises_a_clean_bank(tmp_path: Path) -> None:
    path = _bank(tmp_path, VALID)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0
    assert result.stdout == f"{path}: OK, 3 questions in 1 sections, 2 findings, 1 red flags\n"


def test_validate_command_on_a_missing_path_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "no such file or folder" in result.stderr


@pytest.mark.parametrize(
    "garbage",
    [
        "- just\n- a list\n",
        "settings: 3\nsections: {}\n",
        "sections:\n  - 3\n  - id: [x]\n",
        "\x00\x01binary",
        "settings:\n  prior_spine: yes\n",
        ": :\n  - ][",
    ],
)
def test_no_bank_however_broken_causes_a_traceback(tmp_path: Path, garbage: str) -> None:
    path = tmp_path / "bank.yaml"
    path.write_text(garbage, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_an_unclosed_quote_is_reported_where_it_opens(tmp_path: Path) -> None:
    text = VALID.replace("title: Where it hurts", 'title: "Where it hurts')
    assert _problems(tmp_path, text) == [
        f"{_line_of(text, 'title:')}: malformed YAML: a quote opened on this line is never closed"
    ]


def test_a_quote_closed_lines_later_by_an_apostrophe_is_reported_where_it_opens(
    tmp_path: Path,
) -> None:
    text = VALID.replace("title: Where it hurts", "title: 'Where it hurts").replace(
        "prompt: Do you limp?", "prompt: Don't you limp?"
    )
    problems = _problems(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].startswith(
        f"{_line_of(text, 'title:')}: malformed YAML: the quote opened on this line runs on to"
        f" line {_line_of(text, 'Don')}: is it closed?"
    )


def test_a_tab_in_the_indentation_says_tab(tmp_path: Path) -> None:
    text = VALID.replace("        prompt: Do you limp?", "\tprompt: Do you limp?")
    assert _problems(tmp_path, text) == [
        f"{_line_of(text, 'Do you limp')}: malformed YAML: a tab: YAML indents with spaces only,"
        " never with tabs"
    ]


@pytest.mark.parametrize(
    ("wrong", "meant", "where"),
    [
        ("promt: Do you limp?", "prompt", "a question"),
        ("lable: Lower back", "label", "a choice of 'worst_site'"),
        ("reasn: Groin pain points to the hip.", "reason", "evidence of worst_site=groin"),
    ],
)
def test_a_misspelt_key_gets_did_you_mean(
    tmp_path: Path, wrong: str, meant: str, where: str
) -> None:
    right = f"{meant}:{wrong.split(':', 1)[1]}"
    text = VALID.replace(right, wrong)
    key = wrong.split(":")[0]
    assert any(
        p.startswith(
            f"{_line_of(text, wrong)}: unknown key '{key}' in {where}: did you mean '{meant}'?"
            " (allowed: "
        )
        for p in _problems(tmp_path, text)
    )


def test_a_misspelt_type_gets_did_you_mean(tmp_path: Path) -> None:
    text = VALID.replace("type: yesno", "type: yes_no")
    assert _problems(tmp_path, text) == [
        f"{_line_of(text, 'yes_no')}: the type of question 'limp' must be one of single, multi,"
        " yesno, integer, not 'yes_no' (did you mean yesno?)"
    ]


EMPTY = "''"


@pytest.mark.parametrize("wrong_type", ["type: boolean", "type: [single]", "typ: single"])
def test_a_wrong_type_does_not_hide_the_other_problems_of_the_question(
    tmp_path: Path, wrong_type: str
) -> None:
    text = (
        VALID.replace("type: single", wrong_type)
        .replace("              lr: 3", "              lr: -3")
        .replace("label: Lower back", "label: ''")
        .replace("        prompt: Where is it worst?", "        prompt: ''")
    )
    problems = "\n".join(_problems(tmp_path, text))
    assert (
        f"{_line_of(text, 'lr: -3')}: evidence of worst_site=groin: the likelihood ratio"
        in problems
    )
    assert (
        f"{_line_of(text, 'label: ' + EMPTY)}: the label of worst_site=low_back must be non-empty"
        in problems
    )
    assert (
        f"{_line_of(text, 'prompt: ' + EMPTY)}: the prompt of question 'worst_site' must be non-empty"
        in problems
    )


def test_a_wrong_type_still_checks_min_and_max(tmp_path: Path) -> None:
    text = VALID.replace(
        "      - id: limp\n",
        "      - id: age\n        type: number\n        prompt: Age?\n        min: ten\n"
        "      - id: limp\n",
    )
    assert (
        f"{_line_of(text, 'min: ten')}: min of question 'age' must be a whole number, not 'ten'"
        in _problems(tmp_path, text)
    )


@pytest.mark.parametrize("value", [".nan", ".inf", "-.Inf"])
def test_validate_refuses_a_likelihood_ratio_that_is_not_finite(tmp_path: Path, value: str) -> None:
    path = _bank(tmp_path, VALID.replace("              lr: 3", f"              lr: {value}"))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    line = _line_of(VALID, "lr: 3")
    shown = str(float(value.replace(".", "")))
    assert (
        f"{path}:{line}: evidence of worst_site=groin: lr must be a finite number, not {shown}"
        in result.stdout
    )


def test_anchors_and_aliases_in_a_bank_are_refused(tmp_path: Path) -> None:
    text = VALID.replace("source: Khan 2004", "source: &khan Khan 2004").replace(
        "source: Brown 2004", "source: *khan"
    )
    assert _problems(tmp_path, text) == [
        f"{_line_of(text, '&khan')}: malformed YAML: anchors and aliases (&khan) are not allowed:"
        " write the value out in full"
    ]


def test_a_second_document_in_a_bank_file_is_reported(tmp_path: Path) -> None:
    text = VALID + "---\nsettings: {}\n"
    assert _problems(tmp_path, text) == [
        f"{_line_of(text, '---')}: malformed YAML: a second document (after '---'): the file"
        " must hold one"
    ]


def test_a_bank_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bank.yaml"
    path.write_bytes(VALID.replace("Groin pain", "Groin p\xe4in").encode("latin-1"))
    bank, problems = validate_bank(path)
    assert bank is None
    assert [(p.line, p.message) for p in problems] == [
        (_line_of(VALID, "Groin pain"), "not UTF-8 text: save the file as UTF-8")
    ]


# --- rules: combinations that grade warning signs and name other causes ------------------

RULES = """\
rules:
  - id: fever_and_limp
    when:
      - red_flags: [fever]
      - limp: [yes]
        worst_site: [groin]
    urgency: same_day
    also_consider: [spinal_infection]
    advice: Fever with a limp can mean an infected hip. See a doctor today.
    source: Coakley 2006
"""


def test_a_rule_is_read_and_applies_when_every_group_holds(tmp_path: Path) -> None:
    from hipback import assess

    bank = load_bank(_bank(tmp_path, VALID + RULES))
    (rule,) = bank.rules
    assert rule.id == "fever_and_limp" and rule.urgency == "same_day"
    assert assess(bank, {"red_flags": "fever", "limp": "yes"}).also_consider == (
        "spinal_infection",
    )
    assert assess(bank, {"red_flags": "fever", "worst_site": "groin"}).red_flag_advice[0].code == (
        "fever_and_limp"
    )
    assert assess(bank, {"red_flags": "none", "limp": "yes"}).also_consider == ()


@pytest.mark.parametrize(
    ("old", "new", "at", "message"),
    [
        (
            "limp: [yes]",
            "knee: [yes]",
            "knee: [yes]",
            "when of rule 'fever_and_limp' names unknown question 'knee'",
        ),
        (
            "red_flags: [fever]",
            "red_flags: [fevre]",
            "fevre",
            "when of rule 'fever_and_limp': 'fevre' is not a code of 'red_flags'",
        ),
        (
            "urgency: same_day",
            "urgency: today",
            "urgency: today",
            "urgency of rule 'fever_and_limp' must be one of emergency, same_day, soon",
        ),
        (
            "also_consider: [spinal_infection]",
            "also_consider: [infection]",
            "also_consider: [infection]",
            "also_consider of rule 'fever_and_limp': unknown 'infection'",
        ),
        (
            "    advice: Fever with a limp can mean an infected hip. See a doctor today.\n",
            "",
            "urgency: same_day",
            "rule 'fever_and_limp' has an urgency: add 'advice'",
        ),
        ("    source: Coakley 2006\n", "", "- id: fever_and_limp", "a rule is missing 'source'"),
        (
            "    urgency: same_day\n",
            "    colour: red\n",
            "colour: red",
            "unknown key 'colour' in a rule",
        ),
    ],
)
def test_a_mistake_in_a_rule_is_reported_with_its_line(
    tmp_path: Path, old: str, new: str, at: str, message: str
) -> None:
    text = VALID + RULES.replace(old, new)
    assert old in RULES
    line = len(VALID.splitlines()) + _line_of(RULES.replace(old, new), at)
    assert any(p.startswith(f"{line}: {message}") for p in _problems(tmp_path, text)), _problems(
        tmp_path, text
    )


def test_a_duplicate_rule_id_is_reported(tmp_path: Path) -> None:
    text = VALID + RULES + RULES.replace("rules:\n", "")
    second = [n for n, line in enumerate(text.splitlines(), 1) if "- id: fever_and_limp" in line][1]
    assert f"{second}: duplicate rule id 'fever_and_limp'" in _problems(tmp_path, text)


def test_a_rule_that_neither_grades_nor_names_a_cause_is_reported(tmp_path: Path) -> None:
    text = VALID + RULES.replace("    urgency: same_day\n", "").replace(
        "    also_consider: [spinal_infection]\n", ""
    ).replace("    advice: Fever with a limp can mean an infected hip. See a doctor today.\n", "")
    line = _line_of(text, "- id: fever_and_limp")
    assert f"{line}: rule 'fever_and_limp' needs 'urgency', 'also_consider' or both" in _problems(
        tmp_path, text
    )
