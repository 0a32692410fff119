"""Reading CSV as spreadsheets export it: encodings, delimiters, line ends, quotes, caps."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from hipback.errors import HipbackError
from hipback.formats import csv as csvio
from hipback.formats.csv import (
    MAX_CELL_CHARS,
    MAX_HEADER_LINES,
    MAX_ROW_BYTES,
    Header,
    LineSource,
    RowError,
    check_decodes,
    check_encoding,
    delimiter_named,
    normalise,
    read_header,
    read_rows,
)

KNOWN = {"age", "limp", "red_flags", "worst_site", "spine_probability"}


def read(data: bytes, encoding: str = "utf-8") -> tuple[Header, list[list[str] | RowError]]:
    source = LineSource(io.BytesIO(data), "clinic.csv", encoding)
    lines = iter(source)
    header = read_header(lines, "clinic.csv", KNOWN)
    return header, list(read_rows(lines, source, "clinic.csv", header.delimiter))


def rows(data: bytes, encoding: str = "utf-8") -> list[list[str] | RowError]:
    return read(data, encoding)[1]


def errors(items: list[list[str] | RowError]) -> list[int]:
    return [item.line for item in items if isinstance(item, RowError)]


@pytest.mark.parametrize(
    ("typed", "matched"),
    [
        ("Red Flags", "red_flags"),
        ("red-flags", "red_flags"),
        ("RED FLAGS", "red_flags"),
        (" worst  site ", "worst_site"),
        ("worst__site", "worst_site"),
        ("\ufeff\ufeffage", "age"),
        ("wor\u200bst\u00a0si\u200dte\u2060", "worst_site"),
        ("\t Limp\u200c", "limp"),
    ],
)
def test_header_names_are_matched_as_people_type_them(typed: str, matched: str) -> None:
    assert normalise(typed) == matched


def test_lookalike_letters_are_not_folded_into_a_question_id() -> None:
    assert normalise("worst_sit\u0435") != "worst_site"  # Cyrillic e


@pytest.mark.parametrize(
    ("data", "delimiter"),
    [
        (b"age,limp\n50,yes\n", ","),
        (b"age;limp\n50;yes\n", ";"),
        (b"age\tlimp\n50\tyes\n", "\t"),
        (b"sep=;\nage,x;limp\n50,1;yes\n", ";"),
        (b"\n\nage;limp\n50;yes\n", ";"),
    ],
)
def test_the_delimiter_is_found_from_the_header(data: bytes, delimiter: str) -> None:
    header, found = read(data)
    assert header.delimiter == delimiter
    assert found[-1][-1] == "yes"


@pytest.mark.parametrize(
    ("name", "delimiter"),
    [(",", ","), (";", ";"), ("\t", "\t"), ("\\t", "\t"), ("tab", "\t"), ("TAB", "\t")],
)
def test_a_delimiter_is_named_as_people_type_it(name: str, delimiter: str) -> None:
    assert delimiter_named(name) == delimiter


@pytest.mark.parametrize("name", ["|", "", "t", ",;", "space"])
def test_other_delimiters_are_refused(name: str) -> None:
    with pytest.raises(HipbackError, match="is not one hipback reads"):
        delimiter_named(name)


def test_a_named_delimiter_overrides_detection_and_the_sep_line() -> None:
    data = b"sep=,\nrecord_id\tnote, if any, or none\n1\tfine, thanks\n"
    source = LineSource(io.BytesIO(data), "clinic.csv")
    lines = iter(source)
    header = read_header(lines, "clinic.csv", KNOWN, "\t")
    assert header == Header(("record_id", "note, if any, or none"), "\t")
    assert list(read_rows(lines, source, "clinic.csv", "\t")) == [["1", "fine, thanks"]]


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_lf_crlf_and_cr_only_line_ends_read_the_same(end: bytes) -> None:
    data = end.join([b"age,limp", b"50,yes", b'61,"no"', b"", b"70,y"]) + end
    assert rows(data) == [["50", "yes"], ["61", "no"], ["70", "y"]]


def test_a_quoted_cell_may_hold_delimiters_quotes_and_line_breaks() -> None:
    data = b'age,note\n50,"a, ""b""\nc"\n51,x\n'
    assert rows(data) == [["50", 'a, "b"\nc'], ["51", "x"]]


def test_a_bom_is_noted_and_left_out_of_the_first_name() -> None:
    source = LineSource(io.BytesIO(b"\xef\xbb\xbfage,limp\n50,yes\n"), "f")
    header = read_header(iter(source), "f", KNOWN)
    assert source.bom
    assert header.names == ("age", "limp")


def test_an_unclosed_quote_costs_its_row_only_and_is_reported_where_it_opens() -> None:
    found = rows(b'age,note\n50,ok\n51,"five inch\n52,fine\n53,also\n')
    assert found[0] == ["50", "ok"]
    assert isinstance(found[1], RowError)
    assert found[1].line == 3
    assert "never closed" in found[1].message
    assert '""' in found[1].message
    assert found[2:] == [["52", "fine"], ["53", "also"]]


def test_text_after_a_closing_quote_is_an_error_and_the_next_lines_are_read_again() -> None:
    found = rows(b'age,note\n"50\n51,x\n52,"a\nb"\n')
    assert isinstance(found[0], RowError)
    assert found[0].line == 2
    assert "closing quote" in found[0].message
    assert found[1:] == [["51", "x"], ["52", "a\nb"]]


def test_the_line_named_is_where_the_unclosed_quote_opens() -> None:
    found = rows(b'age,note,more\n50,"a\nb","c\n51,d\n')
    assert isinstance(found[0], RowError)
    assert found[0].line == 2
    assert "on line 3" in found[0].message
    assert errors(found) == [2, 3]  # read again from line 3, whose quote is open too
    assert found[2] == ["51", "d"]


def test_a_bare_carriage_return_in_an_unquoted_cell_is_a_row_error() -> None:
    found = rows(b"age,note\n50,a\rb\n51,c\n")
    assert isinstance(found[0], RowError)
    assert found[0].line == 2
    assert "carriage return" in found[0].message
    assert found[1] == ["51", "c"]


def test_a_line_that_does_not_decode_is_a_row_error_with_the_fix() -> None:
    found = rows(b"age,note\n50,caf\xe9\n51,ok\n")
    assert isinstance(found[0], RowError)
    assert found[0].line == 2
    assert "--encoding cp1252" in found[0].message
    assert "0xe9" in found[0].message
    assert found[1] == ["51", "ok"]


def test_the_same_line_decodes_when_its_encoding_is_given() -> None:
    assert rows(b"age,note\n50,caf\xe9\n", "cp1252") == [["50", "caf\u00e9"]]


def test_check_decodes_refuses_a_file_before_any_row_and_names_the_line() -> None:
    binary = io.BytesIO(b"age,note\n50,ok\n51,caf\xe9\n")
    with pytest.raises(HipbackError, match=r"clinic\.csv, line 3: not UTF-8 text"):
        check_decodes(binary, "clinic.csv")
    good = io.BytesIO(b"age,note\n50,ok\n")
    good.read(3)
    check_decodes(good, "clinic.csv")
    assert good.tell() == 3


def test_a_nul_byte_makes_its_line_an_error() -> None:
    found = rows(b"age,note\n50,a\x00b\n51,c\n")
    assert isinstance(found[0], RowError)
    assert "NUL" in found[0].message
    assert found[1] == ["51", "c"]


def test_a_cell_longer_than_pythons_128_kib_limit_is_read() -> None:
    note = "n" * (200 * 1024)
    assert rows(f"age,note\n50,{note}\n".encode()) == [["50", note]]


def test_a_cell_over_the_cap_is_an_error_for_its_row_only() -> None:
    note = "n" * (MAX_CELL_CHARS + 1)
    found = rows(f'age,note\n50,"{note}"\n51,ok\n'.encode())
    assert isinstance(found[0], RowError)
    assert f"{MAX_CELL_CHARS:,}" in found[0].message
    assert found[1] == ["51", "ok"]


def test_a_line_over_the_cap_is_skipped_as_an_error() -> None:
    found = rows(b"age,note\n50," + b"x" * MAX_ROW_BYTES + b"\n51,ok\n")
    assert isinstance(found[0], RowError)
    assert found[0].line == 2
    assert "skipped" in found[0].message
    assert found[1] == ["51", "ok"]


def test_a_quoted_row_spanning_lines_past_the_cap_is_an_error_and_reading_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(csvio, "MAX_ROW_BYTES", 100)
    body = b"".join(b"%d,x\n" % n for n in range(60, 90))
    found = rows(b'age,note\n50,"open\n' + body)
    assert isinstance(found[0], RowError)
    assert "100 bytes" in found[0].message
    assert found[1:] == [[str(n), "x"] for n in range(60, 90)]


def test_row_errors_count_physical_lines_from_the_top_of_the_file() -> None:
    found = rows(b'\nage,note\n\n50,"a\nb"\n51,\xff\n')
    assert found[0] == ["50", "a\nb"]
    assert errors(found) == [6]


def test_decimal_commas_in_a_semicolon_file_are_read_as_they_are() -> None:
    header, found = read(b"age;spine_probability;note\n50;0,993;x\n")
    assert header.delimiter == ";"
    assert found == [["50", "0,993", "x"]]


def test_an_empty_input_is_unusable() -> None:
    with pytest.raises(HipbackError, match="is empty"):
        read(b"\n\n")


def test_a_header_quote_never_closed_names_its_line() -> None:
    with pytest.raises(HipbackError, match=r"line 2: a quote in the header row opens here"):
        read(b'\nage,"limp\n50,yes\n')


def test_a_stray_header_quote_reads_a_bounded_number_of_lines() -> None:
    taken = 0

    def lines() -> Iterator[str]:
        nonlocal taken
        yield 'age,"limp\n'
        while True:
            taken += 1
            yield "50,yes\n"

    with pytest.raises(HipbackError, match="line 1: a quote in the header row"):
        read_header(lines(), "f", KNOWN)
    assert taken <= MAX_HEADER_LINES


def test_a_header_line_that_cannot_be_read_is_unusable() -> None:
    with pytest.raises(HipbackError, match=r"clinic\.csv, line 1: not UTF-8"):
        read(b"ag\xe9,limp\n")


@pytest.mark.parametrize(
    ("start", "named"),
    [
        (b"\xff\xfe\x00\x00", "UTF-32"),
        (b"\x00\x00\xfe\xff", "UTF-32"),
        (b"PK\x03\x04", "xlsx"),
    ],
)
def test_files_that_are_not_csv_text_are_named_for_what_they_are(start: bytes, named: str) -> None:
    with pytest.raises(HipbackError, match=named):
        read(start + b"rest\n")


UTF8_TEXT = 'age\tworst_site\tnote\r\n50\tgroin\t"Zoë, 😀\r\nsecond"\r\n61\tbuttock\tok\r\n'


@pytest.mark.parametrize(
    ("mark", "codec"), [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")]
)
@pytest.mark.parametrize("asked", ["utf-8", "cp1252"])
def test_utf16_named_by_its_mark_reads_as_its_utf8(mark: bytes, codec: str, asked: str) -> None:
    header, found = read(mark + UTF8_TEXT.encode(codec), asked)
    assert (header, found) == read(UTF8_TEXT.encode("utf-8"))
    assert header.delimiter == "\t"
    assert found[0] == ["50", "groin", "Zoë, 😀\r\nsecond"]


@pytest.mark.parametrize(
    ("asked", "codec"),
    [("utf-16-le", "utf-16-le"), ("UTF-16BE", "utf-16-be"), ("utf-16", "utf-16-le")],
)
def test_utf16_without_a_mark_when_asked(asked: str, codec: str) -> None:
    assert read(UTF8_TEXT.encode(codec), asked) == read(UTF8_TEXT.encode("utf-8"))


def test_utf16_across_chunks_reads_every_row() -> None:
    many = "age,note\n" + "".join(f"{n},😀 é {n}\n" for n in range(20_000))
    data = b"\xff\xfe" + many.encode("utf-16-le")
    assert len(data) > 5 * csvio._CHUNK
    source = LineSource(io.BytesIO(data), "clinic.txt")
    found = rows(data)
    assert len(found) == 20_000 and found[-1] == ["19999", "😀 é 19999"]
    list(source)
    assert source.bytes_read == len(data)  # the progress bar counts the file's bytes


@pytest.mark.parametrize("broken", [b"\xff\xfea\x00\x00\xd8b\x00\n\x00", b"\xff\xfea\x00\n\x00x"])
def test_text_that_is_not_utf16_is_refused(broken: bytes) -> None:
    with pytest.raises(HipbackError, match=r"clinic\.csv is not valid UTF-16-LE text"):
        rows(broken)


def test_utf8_sig_is_accepted_as_utf8() -> None:
    assert check_encoding("utf-8-sig") == "utf-8"
    assert check_encoding("UTF8") == "utf-8"
    assert rows(b"\xef\xbb\xbfage\n50\n", "utf-8-sig") == [["50"]]


@pytest.mark.parametrize("encoding", ["cp037", "utf-32", "no-such-codec\x1b[2J"])
def test_encodings_hipback_cannot_split_are_refused(encoding: str) -> None:
    with pytest.raises(HipbackError) as caught:
        check_encoding(encoding)
    assert "\x1b" not in str(caught.value)
