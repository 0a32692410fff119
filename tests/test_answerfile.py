"""Reading ``ask --answers`` files: YAML and JSON mean what a CSV cell means."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hipback import HipbackError, load_bank
from hipback.answers import parse_answers
from hipback.formats.answers_file import ANSWERS_MAX_DEPTH, read_answers_file

BANK = load_bank()


def read(
    tmp_path: Path, text: str, name: str = "answers.yaml"
) -> tuple[dict[str, object], set[str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    answers, left_blank = read_answers_file(BANK, path)
    return dict(answers), set(left_blank)


def refusal(tmp_path: Path, text: str | bytes, name: str = "answers.yaml") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(HipbackError) as caught:
        read_answers_file(BANK, path)
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert message.startswith(f"the answers file {path}")
    return message[len(f"the answers file {path}") :]


# Plain YAML scalars that YAML 1.1 would turn into something else than their text.
TRICKY = [
    ("age", "054"),
    ("age", "070"),
    ("age", "0x36"),
    ("age", "0o66"),
    ("age", "1_000"),
    ("age", "1:30"),
    ("age", "+54"),
    ("age", "54.0"),
    ("age", "5.4e1"),
    ("age", ".inf"),
    ("limp", "yes"),
    ("limp", "No"),
    ("limp", "TRUE"),
    ("limp", "on"),
    ("limp", "off"),
    ("limp", "y"),
    ("limp", "1"),
    ("limp", "0"),
    ("sides", "one_side"),
    ("red_flags", "none"),
    ("red_flags", "yes"),
    ("red_flags", "fever;trauma"),
    ("onset", "2024-01-01"),
]


@pytest.mark.parametrize(("qid", "text"), TRICKY, ids=[f"{q}={t}" for q, t in TRICKY])
def test_a_plain_yaml_value_means_what_the_same_csv_cell_means(
    tmp_path: Path, qid: str, text: str
) -> None:
    try:
        from_csv: object = parse_answers(BANK, {qid: text})
    except HipbackError as error:
        from_csv = error
    path = tmp_path / "answers.yaml"
    path.write_text(f"{qid}: {text}\n", encoding="utf-8")
    if isinstance(from_csv, HipbackError):
        with pytest.raises(HipbackError) as caught:
            read_answers_file(BANK, path)
        # The same problem as in a CSV cell; an unreadable warning-sign answer then
        # adds the urgent advice on a line of its own (never hidden by the mistake).
        assert str(caught.value).split("\n")[0] == f"the answers file {path}: {from_csv}"
    else:
        assert read_answers_file(BANK, path)[0] == from_csv


def test_a_zero_padded_age_is_decimal_not_octal(tmp_path: Path) -> None:
    assert read(tmp_path, "age: 054\n")[0] == {"age": 54}


def test_a_time_like_age_is_refused_not_read_as_minutes(tmp_path: Path) -> None:
    assert "age: '1:30' is not allowed" in refusal(tmp_path, "age: 1:30\n")


def test_yes_no_words_in_yaml_are_the_csv_words(tmp_path: Path) -> None:
    answers, _ = read(tmp_path, "limp: yes\nc_sign: FALSE\nrotation_pain: y\n")
    assert answers == {"c_sign": "no", "rotation_pain": "yes", "limp": "yes"}
    assert "limp: 'on' is not allowed" in refusal(tmp_path, "limp: on\n")


def test_json_with_numbers_booleans_lists_and_tab_indentation(tmp_path: Path) -> None:
    data = {"age": 54, "limp": True, "c_sign": False, "pain_areas": ["groin", "buttock"]}
    answers, left_blank = read(
        tmp_path, json.dumps(data | {"sides": None}, indent="\t"), "answers.json"
    )
    assert answers == parse_answers(BANK, data)
    assert left_blank == {"sides"}


def test_a_blank_or_null_value_leaves_the_question_blank(tmp_path: Path) -> None:
    answers, left_blank = read(tmp_path, "age:\nlimp: ~\nsides: null\nonset: ''\nc_sign: yes\n")
    assert answers == {"c_sign": "yes"}
    assert left_blank == {"age", "limp", "sides", "onset"}


def test_quoted_null_is_text_not_a_blank(tmp_path: Path) -> None:
    assert "limp: 'null' is not allowed" in refusal(tmp_path, "limp: 'null'\n")


def test_a_saved_file_is_read_through_its_answers_mapping(tmp_path: Path) -> None:
    text = "hipback: 1.0\nanswers:\n  age: 054\n  limp: yes\nresult:\n  verdict: hip\n"
    assert read(tmp_path, text)[0] == {"age": 54, "limp": "yes"}


def test_a_repeated_key_names_the_key_and_both_lines(tmp_path: Path) -> None:
    message = refusal(tmp_path, "red_flags: bladder_bowel\nage: 54\nred_flags: none\n")
    assert message == (
        " gives 'red_flags' twice (lines 1 and 3): keep the one you mean and delete the other"
    )


def test_a_repeated_key_inside_the_saved_answers_mapping_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, "answers:\n  limp: yes\n  limp: no\n")
    assert message.startswith(" gives 'limp' twice (lines 2 and 3)")


def test_a_repeated_key_in_json_on_one_line_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, '{"limp": "yes", "limp": "no"}', "answers.json")
    assert message.startswith(" gives 'limp' twice (both on line 1)")


def test_an_answers_mapping_beside_top_level_answers_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, "answers:\n  red_flags: bladder_bowel\nred_flags: none\n")
    assert message == (
        " has an 'answers:' mapping (line 1) and answers outside it ('red_flags', line 3):"
        " put every answer in one place"
    )


def test_explicit_tags_are_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, "age: !!int 054\n")
    assert "(line 1): tags such as 'tag:yaml.org,2002:int' are not allowed" in message


def test_a_second_document_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, "age: 54\n---\nlimp: yes\n")
    assert (
        message
        == " is not valid YAML or JSON (line 2): a second document (after '---'): the file must hold one"
    )


def test_an_unclosed_quote_is_reported_where_it_opens(tmp_path: Path) -> None:
    message = refusal(tmp_path, "age: 54\nlimp: 'yes\nsides: one_side\nonset: sudden\n")
    assert (
        message
        == " is not valid YAML or JSON (line 2): a quote opened on this line is never closed"
    )


def test_a_tab_in_the_indentation_says_tab(tmp_path: Path) -> None:
    message = refusal(tmp_path, "answers:\n\tage: 54\n")
    assert (
        message
        == " is not valid YAML or JSON (line 2): a tab: YAML indents with spaces only, never with tabs"
    )


def test_a_key_that_is_not_text_is_refused(tmp_path: Path) -> None:
    assert "a key must be text, not a list" in refusal(tmp_path, "[age]: 54\n")


def test_nesting_up_to_the_limit_is_read_and_beyond_it_refused(tmp_path: Path) -> None:
    # The top-level mapping is one level; the list holds the rest.
    inside = "[" * (ANSWERS_MAX_DEPTH - 1) + "]" * (ANSWERS_MAX_DEPTH - 1)
    assert "red_flags:" in refusal(
        tmp_path, f"red_flags: {inside}\n"
    )  # read, then refused as a value
    deeper = "[" * ANSWERS_MAX_DEPTH + "]" * ANSWERS_MAX_DEPTH
    message = refusal(tmp_path, f"red_flags: {deeper}\n")
    assert message.endswith(f"lists and mappings nested more than {ANSWERS_MAX_DEPTH} deep")


def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    assert refusal(tmp_path, b"age: \xff\n") == " is not UTF-8 text"


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_bytes("\ufeffage: 54\n".encode())
    assert read_answers_file(BANK, path)[0] == {"age": 54}


def test_a_folder_given_as_the_answers_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(HipbackError) as caught:
        read_answers_file(BANK, tmp_path)
    assert str(caught.value) == f"cannot read the answers file {tmp_path}: Is a directory"


@pytest.mark.parametrize(
    ("text", "urgency", "advice_of"),
    [
        ('red_flags: "fever;xyz"\nworst_site: groin\n', "check_by_hand", "fever"),
        ("red_flags: saddle_numbness\nage: old\n", "emergency", "saddle_numbness"),
    ],
)
def test_a_file_that_cannot_be_used_still_says_its_warning_signs(
    tmp_path: Path, text: str, urgency: str, advice_of: str
) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(text, encoding="utf-8")
    bank = load_bank()
    with pytest.raises(HipbackError) as caught:
        read_answers_file(bank, path)
    message = str(caught.value)
    assert f"URGENT ({urgency})" in message
    assert bank.question("red_flags").choice(advice_of).red_flag.advice in message  # type: ignore[union-attr]


def test_a_file_without_warning_signs_says_nothing_urgent(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text("red_flags: none\nage: old\n", encoding="utf-8")
    with pytest.raises(HipbackError) as caught:
        read_answers_file(load_bank(), path)
    assert "URGENT" not in str(caught.value)
