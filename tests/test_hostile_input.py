"""Hostile and broken input: the promises hipback keeps on the reading side.

Each test is named for the promise it protects, so this file reads as the
list of them. Memory promises run in a child process under an address-space
limit, so that a regression fails the test instead of exhausting the machine.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hipback import AnswerError, load_bank, parse_answer
from hipback.cli import app
from hipback.errors import EXIT_INVALID_ENTRIES, HipbackError
from hipback.formats.csv import (
    MAX_CELL_CHARS,
    MAX_HEADER_LINES,
    LineSource,
    RowError,
    check_encoding,
    read_header,
    read_rows,
)
from hipback.interview.prompts import problem_with

BANK = load_bank()
KNOWN = set(BANK.questions_by_id)
ODD_AGES = ["5²", "①", "\u0665\u0664", "9" * 4301]
#: Address space a child may use: far above what reading needs, far below a runaway.
MEMORY_LIMIT = 1 << 30
runner = CliRunner()


class Stream(io.RawIOBase):
    """A pipe-like (not seekable) binary stream made from a generator of pieces."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self.pieces = pieces
        self.left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.left:
            piece = next(self.pieces, None)
            if piece is None:
                return 0
            self.left = piece
        size = min(len(buffer), len(self.left))
        buffer[:size] = self.left[:size]
        self.left = self.left[size:]
        return size


def stream(*pieces: bytes) -> io.BufferedReader:
    return io.BufferedReader(Stream(iter(pieces)))


def read_all(binary: Any) -> list[list[str] | RowError]:
    source = LineSource(binary, "standard input")
    lines = iter(source)
    header = read_header(lines, "standard input", KNOWN)
    return list(read_rows(lines, source, "standard input", header.delimiter))


def in_limited_child(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that may use at most MEMORY_LIMIT of address space."""
    prelude = (
        "import resource\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


# --- one odd cell must not sink a batch -----------------------------------------------


@pytest.mark.parametrize("age", ODD_AGES, ids=["superscript", "circled", "arabic-indic", "4301"])
def test_an_odd_age_cell_is_an_error_for_its_row_and_the_batch_goes_on(age: str) -> None:
    text = f"id,age,limp\nA,{age},yes\nB,54,no\n"
    result = runner.invoke(app, ["batch", "-", "--format", "jsonl"], input=text)
    assert result.exit_code == EXIT_INVALID_ENTRIES, result.output
    assert "Traceback" not in result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["fields"]["id"] for r in records] == ["A", "B"]
    assert "age" in records[0]["error"]
    assert "digits 0-9" in records[0]["error"] or "whole number" in records[0]["error"]
    assert not records[1]["error"]


@pytest.mark.parametrize("age", ODD_AGES, ids=["superscript", "circled", "arabic-indic", "4301"])
def test_an_odd_age_in_an_answers_file_gets_a_clear_message(age: str, tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"red_flags": "none", "age": age}), encoding="utf-8")
    result = runner.invoke(app, ["ask", "--answers", str(answers), "--json"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "age" in result.output
    assert len(result.output) < 2000


@pytest.mark.parametrize("age", ODD_AGES, ids=["superscript", "circled", "arabic-indic", "4301"])
def test_an_odd_age_typed_at_the_prompt_gets_a_clear_message(age: str) -> None:
    problem = problem_with(BANK.question("age"), age)
    assert problem is not None
    assert "whole number" in problem


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(BANK.questions), st.text())
def test_any_text_given_to_any_question_is_an_answer_or_an_answer_error(
    question: Any, text: str
) -> None:
    try:
        value = parse_answer(question, text)
    except AnswerError as error:
        assert error.problems[0].question_id == question.id
        return
    assert value is None or parse_answer(question, value) == value


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(BANK.questions),
    st.one_of(
        st.integers(min_value=-(10**5000), max_value=10**5000),
        st.floats(),
        st.booleans(),
        st.lists(st.text(max_size=20), max_size=5),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    ),
)
def test_any_value_an_answers_file_can_hold_is_an_answer_or_an_answer_error(
    question: Any, value: Any
) -> None:
    with contextlib.suppress(AnswerError):
        parse_answer(question, value)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_as_a_csv_body_is_read_without_an_exception_and_in_order(body: str) -> None:
    data = ("age,limp\n" + body).encode("utf-8")
    found = read_all(io.BytesIO(data))
    lines = data.count(b"\n") + 1 + data.count(b"\r")
    assert len(found) <= lines
    starts = [item.line for item in found if isinstance(item, RowError)]
    assert starts == sorted(set(starts))
    assert all(2 <= start <= lines for start in starts)
    assert all(isinstance(item, RowError) or all(type(c) is str for c in item) for item in found)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters='"\r\n\x00')),
        max_size=30,
    )
)
def test_every_line_without_quotes_gives_exactly_one_row_or_error(lines: list[str]) -> None:
    data = ("age,limp\n" + "\n".join(lines) + "\n").encode("utf-8")
    found = read_all(stream(data))
    assert len(found) == sum(1 for line in lines if line)  # blank lines are skipped


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(
            st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")),
            min_size=1,
            max_size=4,
        ),
        max_size=20,
    ),
    st.sampled_from([",", ";", "\t"]),
)
def test_rows_a_csv_writer_wrote_read_back_exactly(rows: list[list[str]], delimiter: str) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(["age", "limp", "worst_site", "note"])
    writer.writerows(rows)
    source = LineSource(io.BytesIO(out.getvalue().encode("utf-8")), "f")
    lines = iter(source)
    header = read_header(lines, "f", KNOWN)
    assert header.delimiter == delimiter
    assert list(read_rows(lines, source, "f", delimiter)) == rows


# --- a structural problem late in a stream costs one row, not the run -------------------


@pytest.mark.parametrize(
    ("broken", "says"),
    [
        (b'5000,"unclosed\n', "never closed"),
        (b"5000,bare\rcarriage\n", "carriage return"),
        (b"5000,caf\xe9\n", "--encoding cp1252"),
        (b'"5000"x,yes\n', "closing quote"),
    ],
    ids=["unclosed-quote", "bare-cr", "invalid-byte", "text-after-quote"],
)
def test_a_broken_line_late_in_a_pipe_is_one_row_error_and_reading_goes_on(
    broken: bytes, says: str
) -> None:
    before = b"".join(b"%d,yes\n" % n for n in range(4998))
    found = read_all(stream(b"age,limp\n", before, broken, b"54,no\n55,yes\n"))
    assert len(found) == 4998 + 3
    error = found[4998]
    assert isinstance(error, RowError)
    assert error.line == 5000
    assert says in error.message
    assert found[-2:] == [["54", "no"], ["55", "yes"]]


# --- long cells and lines ---------------------------------------------------------------


def test_a_cell_over_pythons_128_kib_limit_is_read() -> None:
    note = "long free text " * 20_000
    found = read_all(io.BytesIO(f'age,note\n54,"{note}"\n'.encode()))
    assert found == [["54", note]]


def test_a_cell_over_the_documented_cap_is_an_error_for_its_row_not_the_file() -> None:
    found = read_all(io.BytesIO(b"age,note\n54," + b"x" * (MAX_CELL_CHARS + 1) + b"\n55,ok\n"))
    assert isinstance(found[0], RowError)
    assert found[1] == ["55", "ok"]


@pytest.mark.slow
def test_a_200_mb_line_is_skipped_in_bounded_memory() -> None:
    child = in_limited_child(
        """
        import io
        from hipback.formats.csv import LineSource, read_header, read_rows

        class Stream(io.RawIOBase):
            def __init__(self):
                self.parts = iter([b"age,note\\n54,"] + [b"x" * (1 << 20)] * 200 + [b"\\n55,ok\\n"])
                self.left = b""
            def readable(self):
                return True
            def readinto(self, buffer):
                while not self.left:
                    self.left = next(self.parts, b"")
                    if not self.left:
                        return 0
                size = min(len(buffer), len(self.left))
                buffer[:size] = self.left[:size]
                self.left = self.left[size:]
                return size

        source = LineSource(io.BufferedReader(Stream()), "pipe")
        lines = iter(source)
        header = read_header(lines, "pipe", {"age"})
        for item in read_rows(lines, source, "pipe", header.delimiter):
            print(repr(item)[:200])
        """
    )
    assert child.returncode == 0, child.stderr[-2000:]
    first, second = child.stdout.splitlines()
    assert first.startswith("RowError(line=2,") and "skipped" in first
    assert second == "['55', 'ok']"


@pytest.mark.slow
def test_dev_zero_as_input_ends_with_a_clear_message_in_bounded_memory() -> None:
    child = in_limited_child(
        """
        from hipback.formats.csv import LineSource, read_header
        from hipback.errors import HipbackError

        with open("/dev/zero", "rb") as binary:
            try:
                read_header(iter(LineSource(binary, "/dev/zero")), "/dev/zero", {"age"})
            except HipbackError as error:
                print(error)
        """
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert "binary data" in child.stdout
    assert "/dev/zero" in child.stdout


@pytest.mark.slow
def test_endless_binary_data_after_a_header_ends_with_one_error_row() -> None:
    child = in_limited_child(
        """
        import io
        from hipback.formats.csv import LineSource, read_header, read_rows

        class Zeros(io.RawIOBase):
            sent = False
            def readable(self):
                return True
            def readinto(self, buffer):
                if not self.sent:
                    self.sent = True
                    buffer[:12] = b"age,limp\\n54,"
                    return 12
                buffer[:] = bytes(len(buffer))
                return len(buffer)

        source = LineSource(io.BufferedReader(Zeros()), "pipe")
        lines = iter(source)
        header = read_header(lines, "pipe", {"age"})
        print(list(read_rows(lines, source, "pipe", header.delimiter)))
        """
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.startswith("[RowError(line=2,")
    assert "the rest of the input was not read" in child.stdout


# --- the header ---------------------------------------------------------------------------


def test_a_stray_quote_in_the_header_is_refused_after_a_bounded_read() -> None:
    data = b'age,"limp\n' + b"54,yes\n" * 100_000
    binary = io.BytesIO(data)
    source = LineSource(binary, "clinic.csv")
    with pytest.raises(HipbackError, match=r"clinic\.csv, line 1: a quote in the header row"):
        read_header(iter(source), "clinic.csv", KNOWN)
    assert source.line <= MAX_HEADER_LINES + 1


# --- encodings and line ends ---------------------------------------------------------------


@pytest.mark.parametrize("bom", [b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"])
def test_utf32_files_are_called_utf32(bom: bytes) -> None:
    with pytest.raises(HipbackError, match="UTF-32") as caught:
        read_all(io.BytesIO(bom + "age\n".encode("utf-32-le")))
    assert "UTF-16" not in str(caught.value)


def test_encoding_utf8_sig_is_accepted() -> None:
    assert check_encoding("utf-8-sig") == "utf-8"


def test_a_cr_only_file_is_read_as_rows() -> None:
    assert read_all(io.BytesIO(b"age,limp\r54,yes\r55,no\r")) == [["54", "yes"], ["55", "no"]]


def test_a_semicolon_results_file_with_decimal_commas_reads_back() -> None:
    data = b"id;age;spine_probability;hip_probability\nA;54;0,993;0,007\n"
    assert read_all(io.BytesIO(data)) == [["A", "54", "0,993", "0,007"]]


# --- messages quote input shortened and escaped ------------------------------------------


def test_an_encoding_name_is_quoted_escaped_in_its_message() -> None:
    with pytest.raises(HipbackError) as caught:
        check_encoding("x\x1b]0;owned\x07" + "y" * 500)
    message = str(caught.value)
    assert "\x1b" not in message
    assert len(message) < 300


def test_a_bad_code_is_quoted_escaped_in_its_message() -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(BANK.question("pain_areas"), "groin;\x1b[2J" + "z" * 10_000)
    assert "\x1b" not in caught.value.problems[0].expected
    assert len(caught.value.problems[0].expected) < 400
