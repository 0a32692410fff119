"""The wording of a bank kept apart from its structure: wording/<language>.yaml.

Each mistake in the wording is reported with its file and line, all at once,
as the structure's are.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from hipback import BankError, assess, default_bank_path, load_bank, validate_bank
from hipback.cli import app

STRUCTURE = """\
settings:
  prior_spine: 0.5
  verdict_bands:
    spine_at_least: 0.8
    leaning_spine_at_least: 0.6
    leaning_hip_at_most: 0.4
    hip_at_most: 0.2
  mixed_pattern_min_lr: 6
  domains: [site, walking]
sections:
  - id: site
    questions:
      - id: red_flags
        type: multi
        choices:
          - code: fever
            urgency: same_day
            source: NICE NG59
          - code: none
            exclusive: true
      - id: worst_site
        type: single
        choices:
          - code: groin
            evidence:
              - toward: hip
                lr: 3
                domain: site
                source: Khan 2004
              - toward: hip
                lr: 2
                group: other
                domain: site
                source: Khan 2004
          - code: low_back
      - id: limp
        type: yesno
        ask_when:
          worst_site: [groin]
        choices:
          - code: yes
            evidence:
              toward: hip
              lr: 2
              domain: walking
              source: Brown 2004
rules:
  - id: fever_and_limp
    when:
      - red_flags: [fever]
      - limp: ["yes"]
    urgency: same_day
    source: expert judgement
"""

WORDING = """\
sections:
  site:
    title: Where it hurts
questions:
  red_flags:
    prompt: Any of these?
    help: Choose all that apply.
    choices:
      fever: Fever
      none: None of these
    headings:
      fever: Infection
    advice:
      fever: See a doctor today.
  worst_site:
    prompt: Where is it worst?
    choices:
      groin: Groin
      low_back: Lower back
    notes:
      low_back: Lower back pain noted.
    reasons:
      groin:
        - Groin pain points to the hip.
        - Groin pain again.
  limp:
    prompt: Do you limp?
    reasons:
      yes: A limp points to the hip.
rules:
  fever_and_limp:
    advice: A fever with a limp needs a doctor today.
domains:
  site: where the pain is felt
  walking: how you walk
sources:
  hip_joint:
    name: the hip joint
    meaning: the joint itself hurts.
    checks:
      - Hip rotation.
next_checks:
  mixed:
    - Examine both.
"""


def _worded(
    tmp_path: Path, structure: str = STRUCTURE, wording: str = WORDING, language: str = "en"
) -> Path:
    folder = tmp_path / "bank"
    (folder / "wording").mkdir(parents=True)
    (folder / "bank.yaml").write_text(textwrap.dedent(structure), encoding="utf-8")
    (folder / "wording" / f"{language}.yaml").write_text(wording, encoding="utf-8")
    return folder


def _problems(folder: Path) -> list[str]:
    """Each problem as ``file:line: message``, the file named from the bank folder."""
    bank, problems = validate_bank(folder)
    assert bank is None
    assert problems, "expected at least one problem"
    return [f"{Path(p.file).relative_to(folder)}:{p.line}: {p.message}" for p in problems]


def _line_of(text: str, fragment: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


def test_a_worded_bank_has_its_texts_where_the_structure_needs_them(tmp_path: Path) -> None:
    bank = load_bank(_worded(tmp_path))
    assert bank.sections[0].title == "Where it hurts"
    red_flags, worst_site, limp = bank.questions
    assert (red_flags.prompt, red_flags.help) == ("Any of these?", "Choose all that apply.")
    assert [c.label for c in red_flags.choices] == ["Fever", "None of these"]
    assert red_flags.choice("fever").heading == "Infection"
    assert red_flags.choice("fever").red_flag is not None
    assert red_flags.choice("fever").red_flag.advice == "See a doctor today."
    assert [f.reason for f in worst_site.choice("groin").findings] == [
        "Groin pain points to the hip.",
        "Groin pain again.",
    ]
    assert worst_site.choice("low_back").note == "Lower back pain noted."
    assert [c.label for c in limp.choices] == ["Yes", "No"]
    assert limp.choice("yes").findings[0].reason == "A limp points to the hip."
    assert bank.rules[0].advice == "A fever with a limp needs a doctor today."
    assert bank.settings.domains["walking"].title == "how you walk"
    assert bank.settings.sources["hip_joint"].checks == ("Hip rotation.",)
    assert bank.settings.next_checks == {"mixed": ("Examine both.",)}
    result = assess(bank, {"red_flags": "fever", "worst_site": "groin", "limp": "yes"})
    assert "See a doctor today." in [flag.advice for flag in result.red_flag_advice]


def test_the_packaged_bank_keeps_every_text_in_its_wording() -> None:
    folder = default_bank_path()
    assert (folder / "wording" / "en.yaml").is_file()
    text_keys = {"prompt", "help", "label", "heading", "note", "advice", "reason", "title"}
    found = []

    def walk(value: object, where: str) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                if key in text_keys:
                    found.append(f"{where}: {key}")
                walk(child, where)
        elif isinstance(value, list):
            for child in value:
                walk(child, where)

    for file in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        walk(data, file.name)
        settings = data.get("settings", {})
        found += [
            f"{file.name}: settings.{k}"
            for k in ("sources", "considerations", "next_checks")
            if k in settings
        ]
        if not isinstance(settings.get("domains", []), list):
            found.append(f"{file.name}: settings.domains titles")
    assert found == []
    assert load_bank().questions[0].prompt  # and the loaded bank has its texts


def test_a_missing_prompt_is_reported_at_the_question(tmp_path: Path) -> None:
    wording = WORDING.replace("    prompt: Do you limp?\n", "")
    line = _line_of(STRUCTURE, "- id: limp")
    assert _problems(_worded(tmp_path, wording=wording)) == [
        f"bank.yaml:{line}: no text for the prompt of question 'limp':"
        " wording/en.yaml has no 'questions.limp.prompt'"
    ]


def test_a_missing_label_is_reported_at_the_choice(tmp_path: Path) -> None:
    wording = WORDING.replace("      low_back: Lower back\n", "")
    line = _line_of(STRUCTURE, "- code: low_back")
    assert _problems(_worded(tmp_path, wording=wording)) == [
        f"bank.yaml:{line}: no text for the label of worst_site=low_back:"
        " wording/en.yaml has no 'questions.worst_site.choices.low_back'"
    ]


def test_a_question_missing_from_the_wording_is_one_problem(tmp_path: Path) -> None:
    start = WORDING.index("  limp:\n")
    wording = WORDING[:start] + WORDING[WORDING.index("rules:") :]
    line = _line_of(STRUCTURE, "- id: limp")
    assert _problems(_worded(tmp_path, wording=wording)) == [
        f"bank.yaml:{line}: no text for the prompt of question 'limp':"
        " wording/en.yaml has no 'questions.limp'"
    ]


@pytest.mark.parametrize(
    ("typo", "message"),
    [
        (
            "      groin: Groin\n",
            "'questions.worst_site.choices.grion' matches nothing in the bank"
            " (did you mean groin?)",
        ),
        (
            "    prompt: Where is it worst?\n",
            "'questions.worst_site.promt' matches nothing in the bank (did you mean prompt?)",
        ),
        ("  limp:\n", "'questions.lmp' matches nothing in the bank (did you mean limp?)"),
        ("  site:\n    title", "'sections.stie' matches nothing in the bank (did you mean site?)"),
    ],
)
def test_a_wording_key_that_matches_nothing_is_reported_with_its_line(
    tmp_path: Path, typo: str, message: str
) -> None:
    misspelt = {
        "      groin: Groin\n": "      grion: Groin\n",
        "    prompt: Where is it worst?\n": "    promt: Where is it worst?\n",
        "  limp:\n": "  lmp:\n",
        "  site:\n    title": "  stie:\n    title",
    }[typo]
    wording = WORDING.replace(typo, misspelt, 1)
    line = _line_of(wording, misspelt.strip().split("\n")[0])
    problems = _problems(_worded(tmp_path, wording=wording))
    assert f"wording/en.yaml:{line}: {message}" in problems
    # The misspelt key also leaves its text missing, reported where it is needed.
    assert any(p.startswith("bank.yaml:") and "no text for" in p for p in problems)


def test_a_text_of_the_wrong_kind_is_reported_with_its_line(tmp_path: Path) -> None:
    wording = WORDING.replace("    help: Choose all that apply.\n", "    help:\n      - Choose.\n")
    wording = wording.replace("      none: None of these\n", "      none: {a: b}\n")
    assert _problems(_worded(tmp_path, wording=wording)) == [
        f"wording/en.yaml:{_line_of(wording, 'help:')}: 'questions.red_flags.help'"
        " must be non-empty text, not a list",
        f"wording/en.yaml:{_line_of(wording, 'none: {a: b}')}:"
        " 'questions.red_flags.choices.none' must be non-empty text, not a mapping",
    ]


def test_a_mapping_given_as_text_is_reported_once(tmp_path: Path) -> None:
    start = WORDING.index("  limp:\n")
    end = WORDING.index("rules:")
    wording = WORDING[:start] + "  limp: Do you limp?\n" + WORDING[end:]
    assert _problems(_worded(tmp_path, wording=wording)) == [
        f"wording/en.yaml:{_line_of(wording, 'limp: Do you limp?')}: 'questions.limp' must be"
        " a mapping of keys to texts, not text"
    ]


def test_reasons_must_match_the_evidence_one_for_each(tmp_path: Path) -> None:
    wording = WORDING.replace("        - Groin pain again.\n", "")
    assert _problems(_worded(tmp_path, wording=wording)) == [
        f"wording/en.yaml:{_line_of(wording, '- Groin pain points') - 1}:"
        " 'questions.worst_site.reasons.groin' has 1 text: it needs 2, one for each piece of"
        " evidence"
    ]


def test_a_text_left_inline_in_a_worded_bank_is_reported(tmp_path: Path) -> None:
    structure = STRUCTURE.replace(
        "      - id: limp\n", "      - id: limp\n        prompt: Do you limp?\n"
    )
    line = _line_of(structure, "prompt: Do you limp?")
    assert _problems(_worded(tmp_path, structure=structure)) == [
        f"bank.yaml:{line}: the prompt of question 'limp' belongs in wording/en.yaml,"
        " as 'questions.limp.prompt'"
    ]


def test_a_domain_without_its_title_is_reported_at_the_domain_list(tmp_path: Path) -> None:
    wording = WORDING.replace("  walking: how you walk\n", "")
    assert _problems(_worded(tmp_path, wording=wording)) == [
        f"bank.yaml:{_line_of(STRUCTURE, 'domains:')}: no text for domain 'walking':"
        " wording/en.yaml has no 'domains.walking'"
    ]


def test_every_wording_problem_is_reported_at_once(tmp_path: Path) -> None:
    wording = (
        WORDING.replace("    prompt: Do you limp?\n", "")
        .replace("      groin: Groin\n", "      grion: Groin\n")
        .replace("    title: Where it hurts", "    title: ['Where']")
    )
    structure = STRUCTURE.replace("lr: 3", "lr: 0")
    problems = _problems(_worded(tmp_path, structure=structure, wording=wording))
    assert len(problems) == 5, problems
    assert [p.split(":")[0] for p in problems] == ["bank.yaml"] * 3 + ["wording/en.yaml"] * 2


def test_a_language_without_a_wording_file_is_reported(tmp_path: Path) -> None:
    folder = _worded(tmp_path)
    assert validate_bank(folder)[1] == []
    bank, problems = validate_bank(folder, language="fr")
    assert bank is None
    assert [p.message for p in problems] == ["no wording for the language 'fr' (available: en)"]
    french = WORDING.replace("Where is it worst?", "Où est-ce le pire ?")
    (folder / "wording" / "fr.yaml").write_text(french, encoding="utf-8")
    assert load_bank(folder, language="fr").question("worst_site").prompt == "Où est-ce le pire ?"
    assert load_bank(folder).question("worst_site").prompt == "Where is it worst?"


def test_a_bare_yes_is_a_key_of_the_wording(tmp_path: Path) -> None:
    """Every value of a wording file is text: ``yes:`` is the code yes, not true."""
    assert "      yes: A limp" in WORDING
    assert load_bank(_worded(tmp_path)).question("limp").choice("yes").findings


def test_validate_names_the_file_and_line_of_a_wording_problem(tmp_path: Path) -> None:
    folder = _worded(tmp_path, wording=WORDING.replace("  limp:\n", "  lmp:\n"))
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert result.exit_code == BankError.exit_code
    line = _line_of(WORDING, "  limp:")
    assert f"{folder / 'wording' / 'en.yaml'}:{line}: 'questions.lmp' matches nothing" in (
        result.output
    )
    clean = CliRunner().invoke(app, ["validate", str(_worded(tmp_path / "clean"))])
    assert clean.exit_code == 0, clean.output
