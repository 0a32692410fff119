"""Reading FHIR responses never loses a warning sign, never drops a row, never crashes.

The reader's part is to hand every answer a response holds, as text, to the
one answer parser: what it cannot read (a coding of another system, an
answer of the wrong shape, a key given twice, a linkId with a look-alike
letter) is kept as a text of that question's answer, beside what it could
read, so that the parser reports it and still sees every warning sign.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hipback import load_bank
from hipback.cli import app
from hipback.errors import EXIT_INVALID_ENTRIES, EXIT_OK, EXIT_USAGE
from hipback.formats.fhir import MAX_ITEM_DEPTH, link_key, parse_json, response_answers

BANK = load_bank()
runner = CliRunner()
SNOMED = "http://snomed.info/sct"


def coding(code: Any, **more: Any) -> dict[str, Any]:
    return {"valueCoding": {"code": code, **more}}


def response(*items: dict[str, Any], resource_id: str = "r1") -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "id": resource_id,
        "status": "completed",
        "item": [{"linkId": "section/any", "item": list(items)}],
    }


def item(link: Any, *answers: Any) -> dict[str, Any]:
    return {"linkId": link, "answer": list(answers)}


def fullwidth(text: str) -> str:
    """``text`` in fullwidth forms (as typed with an East Asian input method)."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def codes(raw: dict[str, str], question: str) -> list[str]:
    return raw[question].split(";")


def batch_rows(tmp_path: Path, text: str, suffix: str = "ndjson") -> tuple[Any, list[Any]]:
    source = tmp_path / f"in.{suffix}"
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "-q"])
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    return result, rows


def ndjson(*resources: Any) -> str:
    return "".join(json.dumps(r) + "\n" for r in resources)


def bundle(*resources: Any, indent: int | None = None) -> str:
    entries = [{"resource": r} for r in resources]
    return json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": entries}, indent=indent
    )


# --- 1. a key given twice --------------------------------------------------------------


def test_an_answer_given_twice_keeps_both_and_names_the_repetition() -> None:
    text = (
        '{"resourceType": "QuestionnaireResponse", "item": [{"linkId": "red_flags",'
        ' "answer": [{"valueCoding": {"code": "saddle_numbness"}}],'
        ' "answer": [{"valueCoding": {"code": "none"}}]}]}'
    )
    assert json.loads(text)["item"][0]["answer"] == [{"valueCoding": {"code": "none"}}]
    found = codes(response_answers(BANK, parse_json(text)), "red_flags")
    assert found[:2] == ["saddle_numbness", "none"]
    assert any("'answer' given twice" in text for text in found[2:])


def test_a_link_id_given_twice_gives_the_answers_to_both_questions_with_the_problem() -> None:
    text = (
        '{"resourceType": "QuestionnaireResponse", "item": [{"linkId": "red_flags",'
        ' "linkId": "pain_areas", "answer": [{"valueCoding": {"code": "fever"}}]}]}'
    )
    raw = response_answers(BANK, parse_json(text))
    for question in ("red_flags", "pain_areas"):
        assert codes(raw, question)[0] == "fever"
        assert "'linkId' given twice" in raw[question]


@pytest.mark.parametrize(
    "text",
    [
        '{"code": "saddle_numbness", "code": "none"}',
        '{"code": "saddle_numbness", "system": "x", "system": "y"}',
    ],
)
def test_a_coding_giving_a_key_twice_is_reported_with_its_codes(text: str) -> None:
    raw = response_answers(
        BANK,
        parse_json(
            '{"resourceType": "QuestionnaireResponse", "item": [{"linkId": "red_flags",'
            f' "answer": [{{"valueCoding": {text}}}]}}]}}'
        ),
    )
    assert "given twice" in raw["red_flags"]
    assert "saddle_numbness" in raw["red_flags"]


def test_batch_makes_a_response_with_a_key_twice_an_error_row(tmp_path: Path) -> None:
    good = response(item("red_flags", coding("none")), resource_id="good")
    twice = '{"resourceType": "QuestionnaireResponse", "id": "twice", "id": "again", "item": []}'
    result, rows = batch_rows(tmp_path, ndjson(good) + twice + "\n" + ndjson(good))
    assert result.exit_code == EXIT_INVALID_ENTRIES, result.output
    assert [r["error"] is None for r in rows] == [True, False, True]
    assert "'id' given twice" in rows[1]["error"]


def test_a_bundle_giving_entry_twice_is_refused_in_one_line(tmp_path: Path) -> None:
    one = json.dumps({"resource": response(item("red_flags", coding("none")))})
    text = f'{{"resourceType": "Bundle",\n"entry": [{one}],\n"entry": [{one}]}}\n'
    result, rows = batch_rows(tmp_path, text, "json")
    assert result.exit_code == EXIT_USAGE
    assert "'entry' twice" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert rows == []
    # On one line, the document is read as an NDJSON line: an error row.
    result, rows = batch_rows(tmp_path, text.replace("\n", " ") + "\n", "json")
    assert result.exit_code == EXIT_INVALID_ENTRIES
    assert len(rows) == 1
    assert "a Bundle that gives 'entry' twice" in rows[0]["error"]


def test_an_entry_giving_resource_twice_is_an_error_row(tmp_path: Path) -> None:
    one = json.dumps(response(item("red_flags", coding("none"))))
    text = (
        f'{{"resourceType": "Bundle", "entry": [{{"resource": {one}}},'
        f' {{"resource": {one}, "resource": {one}}}]}}'
    )
    result, rows = batch_rows(tmp_path, text, "json")
    assert result.exit_code == EXIT_INVALID_ENTRIES
    assert len(rows) == 2
    assert "entry 2 of the Bundle gives 'resource' twice" in rows[1]["error"]


# --- 2. linkIds matched as leniently as CSV headers ---------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "Red_Flags",
        "red-flags",
        " red_flags ",
        "RED FLAGS",
        fullwidth("red_flags"),
        fullwidth("Red-Flags"),
    ],
)
def test_link_ids_are_matched_like_csv_headers(tmp_path: Path, link: str) -> None:
    assert link_key(link) == "red_flags"
    resource = response(item(link, coding("saddle_numbness")))
    assert response_answers(BANK, resource) == {"red_flags": "saddle_numbness"}
    result, rows = batch_rows(tmp_path, ndjson(resource))
    assert result.exit_code == EXIT_OK, result.output
    assert rows[0]["urgency"] == "emergency"


@pytest.mark.parametrize(
    ("link", "question", "letter"),
    [
        ("r\u0435d_flags", "red_flags", "\\u0435"),  # Cyrillic e
        ("RED_FLAG\u0405", "red_flags", "\\u0405"),  # Cyrillic capital dze
        ("p\u03b1in_areas", "pain_areas", "\\u03b1"),  # Greek alpha, not in messages' table
        ("red_fl\u03b1gs", "red_flags", "\\u03b1"),
    ],
)
def test_a_look_alike_letter_in_a_link_id_is_never_ignored(
    tmp_path: Path, link: str, question: str, letter: str
) -> None:
    resource = response(item(link, coding("fever")))
    raw = response_answers(BANK, resource)
    found = codes(raw, question)
    assert found[0] == "fever"
    assert any(letter in text and "another script" in text for text in found[1:])
    result, rows = batch_rows(tmp_path, ndjson(resource))
    assert result.exit_code == EXIT_INVALID_ENTRIES
    assert letter in rows[0]["error"]


def test_an_unknown_link_id_with_foreign_letters_is_still_ignored() -> None:
    resource = response(item("\u0434\u0440\u0443\u0433\u043e\u0435", {"valueString": "x"}))
    assert response_answers(BANK, resource) == {}


# --- 3. what cannot be read stays beside what can ------------------------------------------


@pytest.mark.parametrize(
    "broken",
    [
        {"linkId": "pain_areas", "answer": {"valueCoding": {"code": "groin"}}},
        {"linkId": "pain_areas", "answer": [{"valueCoding": [{"code": "groin"}]}]},
        {"linkId": "pain_areas", "answer": [{"valueCoding": {"code": {"nested": 1}}}]},
        {"linkId": "pain_areas", "answer": [["groin"]]},
        {"linkId": "pain_areas", "answer": [None]},
        {"linkId": "pain_areas", "answer": [{"valueString": None}]},
        {"linkId": "pain_areas", "answer": [{}]},
        {"linkId": "pain_areas", "answer": [{"valueQuantity": {"value": 3}}]},
        {"linkId": "pain_areas", "answer": [{"valueString": " "}]},
    ],
)
def test_a_malformed_item_is_a_problem_of_its_question_only(broken: dict[str, Any]) -> None:
    resource = response(item("red_flags", coding("saddle_numbness")), broken)
    raw = response_answers(BANK, resource)
    assert raw["red_flags"] == "saddle_numbness"
    assert raw["pain_areas"]  # something the parser refuses, never "not answered"
    with pytest.raises(Exception, match="pain_areas"):
        from hipback.answers import parse_answers

        parse_answers(BANK, raw)


@pytest.mark.parametrize(
    "stray",
    [
        "an item that is text",
        ["a", "list"],
        {"answer": [{"valueCoding": {"code": "groin"}}]},
        {"linkId": 7, "answer": [{"valueCoding": {"code": "groin"}}]},
        {"linkId": "group", "item": 5},
        {"linkId": "group", "item": {"linkId": "limp", "answer": [{"valueBoolean": True}]}},
    ],
)
def test_damage_that_belongs_to_no_question_goes_with_the_warning_signs(stray: Any) -> None:
    resource = response(
        item("red_flags", coding("saddle_numbness")), item("age", {"valueInteger": 54})
    )
    resource["item"][0]["item"].append(stray)
    raw = response_answers(BANK, resource)
    assert raw["age"] == "54"
    found = codes(raw, "red_flags")
    assert found[0] == "saddle_numbness"
    assert len(found) > 1
    assert all(text.startswith("the response has ") for text in found[1:])


def test_snomed_and_empty_codings_beside_an_emergency_code_all_reach_the_parser() -> None:
    resource = response(
        item(
            "red_flags",
            coding("saddle_numbness"),
            {"valueCoding": {"system": SNOMED, "code": 123}},
            {"valueCoding": {}},
            {"valueCoding": {"code": ""}},
            {"valueCoding": {"system": SNOMED}},
        )
    )
    found = codes(response_answers(BANK, resource), "red_flags")
    assert found[0] == "saddle_numbness"
    assert found[1] == f"{SNOMED}|123"
    assert len(found) == 5 and all(text.strip() for text in found)


def test_a_readable_answer_in_a_broken_item_is_still_read() -> None:
    resource = response(
        {"linkId": "red_flags", "answer": {"valueCoding": {"code": "bladder_bowel"}}},
        {"linkId": "sides", "answer": [{"valueCoding": "both_sides"}]},
    )
    raw = response_answers(BANK, resource)
    assert codes(raw, "red_flags")[0] == "bladder_bowel"
    assert codes(raw, "sides")[0] == "both_sides"


def test_items_nested_too_deep_are_reported_not_skipped() -> None:
    nested: dict[str, Any] = item("red_flags", coding("fever"))
    for _ in range(MAX_ITEM_DEPTH + 5):
        nested = {"linkId": "group", "item": [nested]}
    raw = response_answers(BANK, {"resourceType": "QuestionnaireResponse", "item": [nested]})
    assert "nested more than" in raw["red_flags"]


def test_batch_keeps_the_row_and_names_the_unreadable_coding(tmp_path: Path) -> None:
    resource = response(
        item(
            "red_flags", coding("saddle_numbness"), {"valueCoding": {"system": SNOMED, "code": 123}}
        ),
        {"linkId": "pain_areas", "answer": {"valueCoding": {"code": "groin"}}},
    )
    result, rows = batch_rows(tmp_path, ndjson(resource))
    assert result.exit_code == EXIT_INVALID_ENTRIES
    assert len(rows) == 1
    assert f"{SNOMED}|123" in rows[0]["error"]
    assert "pain_areas" in rows[0]["error"]
    assert rows[0]["fields"]["red_flags"].startswith("saddle_numbness;")
    # The emergency read beside the unreadable coding still grades the row.
    assert (rows[0]["urgent"], rows[0]["urgency"]) == ("yes", "emergency")
    assert rows[0]["red_flags_present"] == ["saddle_numbness"]


@pytest.mark.parametrize(
    ("answers", "urgency", "present"),
    [
        ((coding("fever"), {"valueCoding": {}}), "check_by_hand", ["fever"]),
        (
            (coding("none"), {"valueCoding": {"system": SNOMED, "code": 404684003}}),
            "check_by_hand",
            [],
        ),
        ((coding("none"), coding("fever")), "same_day", ["fever"]),
        ((coding("Saddle numbness"),), "emergency", ["saddle_numbness"]),
    ],
)
def test_a_response_never_hides_a_warning_sign_in_batch(
    tmp_path: Path, answers: tuple[Any, ...], urgency: str, present: list[str]
) -> None:
    result, rows = batch_rows(tmp_path, ndjson(response(item("red_flags", *answers))))
    assert len(rows) == 1
    assert (rows[0]["urgent"], rows[0]["urgency"]) == ("yes", urgency), result.output
    assert rows[0]["red_flags_present"] == present


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["linkId", "answer", "item", "valueCoding", "code", "valueString", "x"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(stray=_json_values)
def test_anything_beside_a_warning_sign_never_hides_it(stray: Any) -> None:
    resource = response(item("red_flags", coding("bladder_bowel")), stray)
    raw = response_answers(BANK, resource)
    assert codes(raw, "red_flags")[0] == "bladder_bowel"
    for text in raw.values():
        assert all(part.strip() for part in text.split(";")) or text == ""


# --- 4. "none" beside a sign ----------------------------------------------------------------


def test_none_ticked_beside_a_sign_hands_both_codes_to_the_parser() -> None:
    resource = response(item("red_flags", coding("none"), coding("fever")))
    assert response_answers(BANK, resource) == {"red_flags": "none;fever"}


# --- 5. hostile documents -----------------------------------------------------------------


def test_a_bundle_nested_100000_deep_is_refused_in_one_line(tmp_path: Path) -> None:
    deep = 100_000
    text = '{"resourceType": "Bundle", "entry": ' + "[" * deep + "]" * deep + "}"
    result, rows = batch_rows(tmp_path, text, "json")
    assert result.exit_code == EXIT_USAGE, result.output
    assert "nested too deeply" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert rows == []


def test_an_ndjson_line_nested_100000_deep_is_an_error_row(tmp_path: Path) -> None:
    good = response(item("red_flags", coding("none")))
    deep = (
        '{"resourceType": "QuestionnaireResponse", "item": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    result, rows = batch_rows(tmp_path, ndjson(good) + deep + "\n" + ndjson(good))
    assert result.exit_code == EXIT_INVALID_ENTRIES, result.output
    assert len(rows) == 3
    assert "line 2: JSON nested too deeply" in rows[1]["error"]


def test_deep_but_parsable_values_inside_an_answer_do_not_crash_the_reader() -> None:
    value: Any = "groin"
    for _ in range(400):
        value = [value]
    resource = response(
        item("red_flags", coding("fever")), item("pain_areas", {"valueCoding": value})
    )
    raw = response_answers(BANK, parse_json(json.dumps(resource)))
    assert raw["red_flags"] == "fever"
    assert raw["pain_areas"] == "a valueCoding that is a list"


# --- 6. one row per line or entry -----------------------------------------------------------


def _entries_of_every_kind() -> list[Any]:
    good = response(item("red_flags", coding("none")), resource_id="good")
    return [
        {"resource": good},
        {"resource": {"resourceType": "Patient", "id": "p1"}},
        {"fullUrl": "urn:uuid:no-resource"},
        "an entry that is text",
        {"resource": {"resourceType": "Bundle", "entry": []}},
        {"resource": {"resourceType": "Bundle", "entry": [{"resource": good}]}},
        {"resource": response(item("red_flags", coding("fever")), resource_id="last")},
    ]


@pytest.mark.parametrize("indent", [None, 2])
def test_every_entry_of_a_bundle_gives_one_row_in_order(tmp_path: Path, indent: int | None) -> None:
    entries = _entries_of_every_kind()
    text = json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": entries}, indent=indent
    )
    result, rows = batch_rows(tmp_path, text, "json")
    assert result.exit_code == EXIT_INVALID_ENTRIES, result.output
    assert len(rows) == len(entries)
    assert [r["error"] is None for r in rows] == [True, False, False, False, False, True, True]
    assert [r["fields"]["id"] for r in rows] == ["good", "", "", "", "", "good", "last"]
    assert "entry 2 of the Bundle is not a QuestionnaireResponse" in rows[1]["error"]
    assert "entry 5 of the Bundle is a Bundle without entries" in rows[4]["error"]
    assert rows[6]["urgency"] == "same_day"
    if indent is not None:  # each error names the line its entry starts on
        lines = text.splitlines()
        number = int(rows[3]["error"].split(":")[0].removeprefix("line "))
        assert "an entry that is text" in lines[number - 1]


def test_a_bundle_with_entry_before_resource_type_is_read_too(tmp_path: Path) -> None:
    entries = _entries_of_every_kind()
    text = json.dumps({"entry": entries, "resourceType": "Bundle"})
    result, rows = batch_rows(tmp_path, text, "json")
    assert result.exit_code == EXIT_INVALID_ENTRIES
    assert len(rows) == len(entries)


def test_every_ndjson_line_gives_one_row(tmp_path: Path) -> None:
    lines = [
        json.dumps(response(item("red_flags", coding("none")))),
        "{not json",
        "[1, 2]",
        '"text"',
        json.dumps({"resourceType": "Bundle", "entry": []}),
        json.dumps({"resourceType": "Bundle", "entry": "x"}),
        json.dumps(
            {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}}]}
        ),
        json.dumps(response(item("red_flags", coding("fever")))),
    ]
    result, rows = batch_rows(tmp_path, "\n".join(lines) + "\n")
    assert result.exit_code == EXIT_INVALID_ENTRIES
    assert len(rows) == len(lines)
    assert [r["error"] is None for r in rows] == [True, *[False] * 6, True]
    for number, row in enumerate(rows[1:-1], 2):
        assert row["error"].startswith(f"line {number}:")


def test_a_broken_bundle_is_refused_before_any_row_is_written(tmp_path: Path) -> None:
    text = bundle(*[response(item("red_flags", coding("none")))] * 3)[:-2]  # cut short
    result, rows = batch_rows(tmp_path, text, "json")
    assert result.exit_code == EXIT_USAGE
    assert "neither NDJSON" in result.stderr
    assert rows == []


def test_a_bundle_and_ndjson_of_the_same_responses_give_the_same_rows(tmp_path: Path) -> None:
    resources = [
        response(item("red_flags", coding(code)), item("age", {"valueInteger": 40 + n}))
        for n, code in enumerate(["none", "fever", "saddle_numbness", "trauma"])
    ]
    _, from_bundle = batch_rows(tmp_path, bundle(*resources, indent=1), "json")
    _, from_lines = batch_rows(tmp_path, ndjson(*resources))
    strip = [{k: v for k, v in r.items() if k != "row"} for r in from_bundle]
    assert strip == [{k: v for k, v in r.items() if k != "row"} for r in from_lines]


# --- ask --answers reads a response through the same reader -------------------------------


def test_ask_refuses_a_response_giving_a_key_twice(tmp_path: Path) -> None:
    path = tmp_path / "response.json"
    path.write_text(
        '{"resourceType": "QuestionnaireResponse", "item": [{"linkId": "red_flags",\n'
        ' "answer": [{"valueCoding": {"code": "saddle_numbness"}}],\n'
        ' "answer": [{"valueCoding": {"code": "none"}}]}]}\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["ask", "--answers", str(path), "--json"])
    assert result.exit_code == EXIT_USAGE
    assert "'answer' twice" in result.stderr


def test_ask_matches_link_ids_leniently(tmp_path: Path) -> None:
    path = tmp_path / "response.json"
    blanks = [{"linkId": q.id} for q in BANK.questions if q.id != "red_flags"]
    resource = response(item("Red-Flags", coding("saddle_numbness")), *blanks)
    path.write_text(json.dumps(resource), encoding="utf-8")
    result = runner.invoke(app, ["ask", "--answers", str(path), "--json"])
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads(result.stdout)["urgency"] == "emergency"
