"""Promises about hostile answers files and question banks (issue 11), one test each.

A file may be careless, broken or built to do harm; whatever it holds, hipback
gives a clear message with the right exit code, never changes a value or a
warning sign silently, never overwrites the input, keeps its memory bounded and
never lets the file write escape sequences to the terminal.

The memory bombs run ``hipback`` in a child process limited to 1 GiB of address
space, so that a regression fails the test instead of exhausting the machine.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hipback import BankError, HipbackError, assess, load_bank, validate_bank
from hipback.bank.loader import BANK_FILE_MAX_BYTES, BANK_MAX_BYTES, BANK_MAX_DEPTH
from hipback.cli import app
from hipback.formats.answers_file import ANSWERS_FILE_MAX_BYTES, read_answers_file

MEMORY_LIMIT = 1 << 30
BANK = load_bank()

#: 356 bytes that expand to 10**9 items when aliases are followed.
ALIAS_BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{n}: &{n} [{','.join(['*' + p] * 9)}]"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    + ["red_flags: *i", ""]
)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def hipback_limited(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``hipback ARGS`` in a child process with at most 1 GiB of address space."""
    return subprocess.run(
        [sys.executable, "-m", "hipback", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        preexec_fn=_limit_memory,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "100"},
    )


def ask(*args: str | Path) -> object:
    return CliRunner().invoke(app, ["ask", *map(str, args)])


def answers_file(tmp_path: Path, text: str, name: str = "answers.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def all_blank_but(tmp_path: Path, **given: str) -> Path:
    """An answers file that answers ``given`` and leaves every other question blank."""
    lines = "".join(f"{q.id}: {given.get(q.id, '')}\n" for q in BANK.questions)
    return answers_file(tmp_path, lines)


def _bank_folder(tmp_path: Path) -> Path:
    """A bank folder holding a copy of the packaged bank's wording; the test writes
    its structure as one file, ``bank.yaml`` (see :func:`_bank_text`)."""
    from hipback.bank.loader import default_bank_path

    folder = tmp_path / "bank"
    (folder / "wording").mkdir(parents=True)
    wording = (default_bank_path() / "wording" / "en.yaml").read_bytes()
    (folder / "wording" / "en.yaml").write_bytes(wording)
    return folder


def _bank_text() -> str:
    """The packaged bank's structure as one YAML text (settings, every section and
    every rule); its texts are in its wording (:func:`_bank_folder`)."""
    from hipback.bank.loader import default_bank_path

    files = sorted(default_bank_path().glob("*.yaml"))
    settings = [f.read_text(encoding="utf-8") for f in files if "settings:" in f.read_text()]
    sections, rules = [], []
    for file in files:
        text = file.read_text(encoding="utf-8")
        text, _, rule_text = text.partition("\nrules:")
        if rule_text:
            rules.append(rule_text)
        if "sections:" in text:
            sections.append(text[text.index("sections:") + len("sections:") :])
    return (
        settings[0].rstrip("\n")
        + "\nsections:"
        + "".join(s.rstrip("\n") + "\n" for s in sections).rstrip("\n")
        + "\nrules:"
        + "".join(r.rstrip("\n") + "\n" for r in rules)
    )


# --- A warning sign or a value never changes silently ------------------------------


def test_a_repeated_red_flags_key_is_refused_not_resolved_to_the_last(tmp_path: Path) -> None:
    path = answers_file(tmp_path, "red_flags: bladder_bowel\nage: 54\nred_flags: none\n")
    result = ask("--answers", path, "--json")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert result.stdout == ""  # type: ignore[attr-defined]
    assert "gives 'red_flags' twice (lines 1 and 3)" in result.stderr  # type: ignore[attr-defined]


def test_a_repeated_key_in_a_json_answers_file_is_refused(tmp_path: Path) -> None:
    path = answers_file(
        tmp_path, '{\n  "red_flags": "bladder_bowel",\n  "red_flags": "none"\n}\n', "a.json"
    )
    result = ask("--answers", path, "--json")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "gives 'red_flags' twice (lines 2 and 3)" in result.stderr  # type: ignore[attr-defined]


def test_an_answers_mapping_never_hides_answers_at_the_top_level(tmp_path: Path) -> None:
    path = answers_file(tmp_path, "red_flags: bladder_bowel\nanswers:\n  red_flags: none\n")
    result = ask("--answers", path, "--json")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "put every answer in one place" in result.stderr  # type: ignore[attr-defined]


@pytest.mark.parametrize("written", ["054", "070", "0054", "+54"])
def test_a_zero_padded_age_means_what_the_csv_cell_means(tmp_path: Path, written: str) -> None:
    result = ask("--answers", all_blank_but(tmp_path, age=written, red_flags="none"), "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    as_csv = assess(BANK, {"age": written, "red_flags": "none"}).as_dict()
    assert json.loads(result.stdout) == as_csv  # type: ignore[attr-defined]
    assert read_answers_file(BANK, tmp_path / "answers.yaml")[0]["age"] == int(written, 10)


def test_a_time_like_value_is_not_turned_into_a_number(tmp_path: Path) -> None:
    result = ask("--answers", all_blank_but(tmp_path, age="1:30"), "--json")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "age: '1:30' is not allowed" in result.stderr  # type: ignore[attr-defined]


# --- Memory stays bounded whatever the file -----------------------------------------


@pytest.mark.slow
def test_an_alias_bomb_answers_file_is_refused_within_1_gib(tmp_path: Path) -> None:
    assert len(ALIAS_BOMB.encode()) < 400
    done = hipback_limited("ask", "--answers", answers_file(tmp_path, ALIAS_BOMB), "--json")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "anchors and aliases (&a) are not allowed" in done.stderr
    assert len(done.stderr) < 1000
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("depth", [500, 200_000])
@pytest.mark.slow
def test_a_deeply_nested_answers_file_is_refused_within_1_gib(tmp_path: Path, depth: int) -> None:
    path = answers_file(tmp_path, "red_flags: " + "[" * depth + "]" * depth + "\n")
    done = hipback_limited("ask", "--answers", path, "--json")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "lists and mappings nested more than 16 deep" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_dev_zero_as_answers_stops_at_the_size_cap_within_1_gib() -> None:
    done = hipback_limited("ask", "--answers", "/dev/zero", "--json")
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr == (
        "hipback: the answers file /dev/zero is too large: an answers file may hold 1 MiB at most\n"
    )


def test_an_answers_file_one_byte_over_the_cap_is_refused(tmp_path: Path) -> None:
    path = answers_file(tmp_path, "age: 54\n" + "#" * (ANSWERS_FILE_MAX_BYTES - 8) + "\n")
    assert path.stat().st_size == ANSWERS_FILE_MAX_BYTES + 1
    result = ask("--answers", path, "--json")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "is too large: an answers file may hold 1 MiB at most" in result.stderr  # type: ignore[attr-defined]


@pytest.mark.slow
def test_an_alias_bomb_bank_is_refused_within_1_gib(tmp_path: Path) -> None:
    bomb = tmp_path / "bank.yaml"
    bomb.write_text(ALIAS_BOMB.replace("red_flags: *i", "settings: *i"), encoding="utf-8")
    done = hipback_limited("validate", bomb)
    assert done.returncode == 1, done.stderr[-2000:]
    assert f"{bomb}:1: malformed YAML: anchors and aliases (&a) are not allowed" in done.stdout
    assert "Traceback" not in done.stderr


def _nested_bank(tmp_path: Path, depth: int) -> Path:
    """A bank file whose settings are lists nested ``depth`` deep (plus the top level)."""
    bank = tmp_path / "bank.yaml"
    bank.write_text("settings: " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
    return bank


def test_a_bank_nested_up_to_the_limit_is_read_as_far_as_its_meaning(tmp_path: Path) -> None:
    problems = validate_bank(_nested_bank(tmp_path, BANK_MAX_DEPTH - 1))[1]
    assert "settings must be a mapping of keys to values" in [p.message for p in problems]


@pytest.mark.parametrize("depth", [BANK_MAX_DEPTH, 500, 200_000])
@pytest.mark.slow
def test_a_deeply_nested_bank_is_refused_within_1_gib(tmp_path: Path, depth: int) -> None:
    done = hipback_limited("validate", _nested_bank(tmp_path, depth))
    assert done.returncode == 1, done.stderr[-2000:]
    assert ":1: malformed YAML: lists and mappings nested" in done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["validate", "ask"])
@pytest.mark.slow
def test_dev_zero_as_a_bank_stops_at_the_size_cap_within_1_gib(command: str) -> None:
    args = ["validate", "/dev/zero"] if command == "validate" else ["ask", "--bank", "/dev/zero"]
    done = hipback_limited(*args)
    assert done.returncode == BankError.exit_code, done.stderr[-2000:]
    assert "/dev/zero:1: too large: a bank file may hold 1 MiB at most" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_a_bank_file_one_byte_over_the_cap_is_refused(tmp_path: Path) -> None:
    bank = _bank_folder(tmp_path) / "bank.yaml"
    text = _bank_text()
    bank.write_text(text + "#" * (BANK_FILE_MAX_BYTES - len(text.encode())) + "\n")
    assert bank.stat().st_size == BANK_FILE_MAX_BYTES + 1
    assert [p.message for p in validate_bank(bank.parent)[1]] == [
        "too large: a bank file may hold 1 MiB at most"
    ]


def test_a_bank_file_at_the_cap_is_read(tmp_path: Path) -> None:
    bank = _bank_folder(tmp_path) / "bank.yaml"
    text = _bank_text()
    bank.write_text(text + "#" * (BANK_FILE_MAX_BYTES - len(text.encode()) - 1) + "\n")
    assert bank.stat().st_size == BANK_FILE_MAX_BYTES
    assert load_bank(bank.parent).questions == BANK.questions


def test_a_number_of_5000_digits_in_a_bank_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    bank = _bank_folder(tmp_path) / "bank.yaml"
    text = _bank_text()
    bank.write_text(text.replace("prior_spine: ", "prior_spine: " + "1" * 5000 + " #", 1))
    messages = [p.message for p in validate_bank(bank.parent)[1]]
    assert messages == [f"prior_spine must be a number, not '{'1' * 59}…(+4941 characters)'"]


@pytest.mark.parametrize("command", ["validate", "batch"])
def test_a_401_digit_likelihood_ratio_is_a_bank_problem_with_its_line(
    tmp_path: Path, command: str
) -> None:
    text = _bank_text()
    start = text.index(" lr: ") + len(" lr: ")
    end = text.index("\n", start)
    bank = _bank_folder(tmp_path) / "bank.yaml"
    bank.write_text(text[:start] + "9" * 401 + text[end:], encoding="utf-8")
    line = text.count("\n", 0, start) + 1
    problems = validate_bank(bank.parent)[1]
    assert [p.line for p in problems] == [line]
    assert f"lr is too large a number: '{'9' * 59}…(+342 characters)'" in problems[0].message
    if command == "validate":
        result = CliRunner().invoke(app, ["validate", str(bank.parent)])
    else:
        source = tmp_path / "in.csv"
        source.write_text("age,red_flags\n54,none\n", encoding="utf-8")
        out = tmp_path / "out.csv"
        result = CliRunner().invoke(
            app, ["batch", "--bank", str(bank.parent), str(source), "-o", str(out)]
        )
        assert not out.exists()
    assert result.exit_code == BankError.exit_code, result.output
    assert f"{bank}:{line}:" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


# --- No escape sequences from a file reach the terminal -----------------------------


@pytest.mark.parametrize(
    "text",
    [
        'age: "\\e]0;owned\\a\\e[8m"\n',
        '"\\e[2J\\e[31m": 54\n',
        'red_flags: ["\\e[31mfever"]\n',
    ],
    ids=["value", "key", "code"],
)
def test_an_answers_file_cannot_send_escape_sequences(tmp_path: Path, text: str) -> None:
    result = ask("--answers", answers_file(tmp_path, text), "--json")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "\\x1b" in result.stderr  # type: ignore[attr-defined]
    assert "\x1b" not in result.stderr  # type: ignore[attr-defined]
    assert "\x07" not in result.stderr  # type: ignore[attr-defined]


def test_a_bank_cannot_send_escape_sequences_through_validate(tmp_path: Path) -> None:
    bank = tmp_path / "bank.yaml"
    bank.write_text(textwrap.dedent('settings:\n  "\\e]0;owned\\a": 1\n'), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(bank)])
    assert result.exit_code == 1
    assert "unknown key '\\x1b]0;owned\\x07' in settings" in result.stdout
    assert "\x1b" not in result.output


def test_a_huge_value_is_quoted_short(tmp_path: Path) -> None:
    result = ask("--answers", answers_file(tmp_path, f"limp: {'x' * 500_000}\n"), "--json")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert len(result.stderr) < 1000  # type: ignore[attr-defined]


# --- Never overwrite the input -------------------------------------------------------


def test_save_onto_the_answers_file_is_refused_before_asking(tmp_path: Path) -> None:
    path = all_blank_but(tmp_path, red_flags="none")
    before = path.read_bytes()
    link, hard_link = tmp_path / "link.yaml", tmp_path / "hard.yaml"
    link.symlink_to(path)
    os.link(path, hard_link)
    for target in (path, link, hard_link):
        result = ask("--answers", path, "--save", target)
        assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
        assert f"--save {target} is the answers file" in result.stderr  # type: ignore[attr-defined]
        assert path.read_bytes() == before


# --- A bank that validates writes only finite numbers -------------------------------


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN"])
@pytest.mark.parametrize("field", ["lr", "prior_spine", "mixed_pattern_min_lr", "spine_at_least"])
def test_a_non_finite_number_in_a_bank_is_refused(tmp_path: Path, field: str, value: str) -> None:
    text = _bank_text()
    start = text.index(f" {field}: ") + len(f" {field}: ")
    end = text.index("\n", start)
    bank = _bank_folder(tmp_path) / "bank.yaml"
    bank.write_text(text[:start] + value + text[end:], encoding="utf-8")
    line = text.count("\n", 0, start) + 1
    problems = validate_bank(bank.parent)[1]
    assert any(
        p.line == line
        and f"must be a finite number, not {float(value.replace('.', ''))}" in p.message
        for p in problems
    ), problems


def test_a_bank_folder_stops_reading_at_its_total_cap(tmp_path: Path) -> None:
    filler = "#" * (BANK_FILE_MAX_BYTES - 1) + "\n"
    for index in range(BANK_MAX_BYTES // BANK_FILE_MAX_BYTES + 1):
        (tmp_path / f"{index:02}.yaml").write_text(filler)
    problems = validate_bank(tmp_path)[1]
    assert [p.message for p in problems if "too large" in p.message] == [
        "too large: a bank may hold 8 MiB at most"
    ]


def test_a_bank_file_name_cannot_send_escape_sequences(tmp_path: Path) -> None:
    (tmp_path / "\x1b[2J.yaml").write_text("settings: 1\n")
    result = CliRunner().invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "\\x1b[2J.yaml:1: settings must be a mapping" in result.stdout
    assert "\x1b" not in result.output


# --- Whatever the text, a message and never a traceback -----------------------------

YAMLISH = st.text(
    alphabet=st.sampled_from(list("age:limp red_flags054[]{}\"'-\n\t#&*!~?,|>%@`;._\\\x1b²")),
    max_size=120,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.one_of(YAMLISH, st.text(max_size=120)))
@pytest.mark.slow  # many generated examples
def test_any_answers_file_gives_answers_or_a_message(tmp_path: Path, text: str) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        read_answers_file(BANK, path)
    except HipbackError as error:
        assert error.exit_code == 2
        assert "\x1b" not in str(error)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.one_of(YAMLISH, st.text(max_size=120)))
def test_any_bank_file_gives_a_bank_or_problems(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bank.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    bank, problems = validate_bank(path)
    assert (bank is None) == bool(problems)
    assert not any("\x1b" in p.message for p in problems)


def test_reports_never_replace_the_output_file_written_into_their_folder(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    source = tmp_path / "in.csv"
    source.write_text("id,worst_site,red_flags\nP01,groin,none\nP02,low_back,fever\n")
    output = folder / "P01.html"  # not there yet: named like the first row's report
    result = CliRunner().invoke(
        app,
        [
            "batch",
            str(source),
            "-o",
            str(output),
            "--format",
            "csv",
            "-q",
            "--reports",
            str(folder),
        ],
    )
    assert result.exit_code == 0, result.output
    assert output.read_text(encoding="utf-8").startswith("id,worst_site,red_flags,")
    reports = sorted(p.name for p in folder.iterdir() if p != output)
    assert len(reports) == 2 and all(name.endswith(".html") for name in reports)
