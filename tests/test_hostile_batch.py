"""`hipback batch` against hostile files, failing machines and careless use: the list of promises.

Each test is named for the promise it protects. Promises that need a real
process (signals, closed or full streams, resource limits) run
``python -m hipback`` in a child; memory bombs run under an address-space
limit (``RLIMIT_AS``), so that a regression fails the test instead of
exhausting the machine.
"""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hipback import assess, load_bank
from hipback.batch.tally import ROWS_SHOWN as SUMMARY_ROWS
from hipback.cli import app
from hipback.errors import EXIT_INVALID_ENTRIES, EXIT_OK, EXIT_USAGE, exit_code_for_signal
from hipback.files import output_target
from hipback.scoring.engine import assess_red_flags

BANK = load_bank()
runner = CliRunner()
#: Address space allowed to a child running a memory bomb.
MEMORY_LIMIT = 1 << 30
GOOD_ROW = "yes,67,none,groin\n"
HEADER = "id,limp,age,red_flags,worst_site\n"


def batch(*arguments: str, stdin: str | bytes | None = None) -> Any:
    return runner.invoke(app, ["batch", *arguments], input=stdin)


def rows_of(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))


def child(
    *arguments: str,
    stdin: Any = subprocess.DEVNULL,
    stdout: Any = subprocess.PIPE,
    limits: Callable[[], None] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[bytes]:
    """``python -m hipback ARGUMENTS`` in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "hipback", *arguments],
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        preexec_fn=limits,
        timeout=timeout,
        check=False,
    )


def limited_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def one_line_message(stderr: bytes) -> str:
    """The child's standard error, which must be one line of hipback's own, no traceback."""
    text = stderr.decode("utf-8", "replace")
    assert "Traceback" not in text, text
    lines = text.strip("\n").splitlines()
    assert len(lines) == 1, text
    assert lines[0].startswith("hipback: "), text
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files (``.NAME.XXXX.part``) left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def patient_rows(count: int) -> bytes:
    return (HEADER + "".join(f"P{n},{GOOD_ROW}" for n in range(count))).encode()


# --- warning signs are never lost -------------------------------------------------------------


def test_a_valid_red_flag_is_kept_on_a_row_with_another_bad_cell() -> None:
    text = "id,age,red_flags,worst_site\nP1,49 years,saddle_numbness;bladder_bowel,groin\n"
    text += "P2,50,none,groin\n"
    status = assess_red_flags(BANK, {"red_flags": "saddle_numbness;bladder_bowel"})
    result = batch("-", stdin=text)
    assert result.exit_code == EXIT_INVALID_ENTRIES
    bad, good = rows_of(result.stdout)
    assert (bad["urgent"], bad["urgency"], bad["red_flags_present"]) == (
        "yes",
        "emergency",
        ";".join(status.red_flags_present),
    )
    assert bad["error"].startswith("age: '49 years' is not allowed")
    likelihood = ("spine_probability", "hip_probability", "verdict", "likely_source")
    assert all(bad[f] == "" for f in (*likelihood, "mixed_pattern", "answered", "reasons"))
    assert good["urgent"] == "no" and good["urgency"] == "none"
    assert "1 urgent" in result.stderr
    assert "row 1 (P1): emergency" in result.stderr


def test_a_valid_red_flag_is_kept_on_an_error_row_in_jsonl() -> None:
    text = "age,red_flags\n49 years,fever\n"
    result = batch("-", "-q", "--format", "jsonl", stdin=text)
    (line,) = (json.loads(x) for x in result.stdout.splitlines())
    assert line["urgent"] == "yes" and line["urgency"] == "same_day"
    assert line["red_flags_present"] == ["fever"]
    assert line["verdict"] is None and line["spine_probability"] is None
    assert line["error"].startswith("age: ")


def test_a_warning_sign_on_a_row_with_shifted_values_is_still_shown() -> None:
    result = batch("-", "-q", stdin="red_flags,note\nbladder_bowel,a,b\nnone,a,b\n")
    urgent, calm = rows_of(result.stdout)
    assert urgent["error"].startswith("the row has 3 values")
    assert (urgent["urgent"], urgent["urgency"]) == ("yes", "emergency")
    # "none" might have shifted from another column: never read as no warning sign
    # on such a row, which is to be checked by hand (contract, 2026-12).
    assert (calm["urgent"], calm["urgency"]) == ("yes", "check_by_hand")
    assert calm["red_flags_present"] == ""


def test_urgency_is_not_checked_when_the_red_flags_answer_is_blank() -> None:
    result = batch("-", "-q", stdin="red_flags,limp\n,yes\nnone,yes\n")
    blank, checked = rows_of(result.stdout)
    assert (blank["urgent"], blank["urgency"]) == ("no", "not_checked")
    assert checked["urgency"] == "none"


def test_a_missing_red_flags_column_is_said_once_before_the_run_even_with_quiet() -> None:
    result = batch("-", "-q", stdin="limp\nyes\nno\nyes\n")
    assert result.exit_code == EXIT_OK
    assert [r["urgency"] for r in rows_of(result.stdout)] == ["not_checked"] * 3
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("hipback: warning: there is no red_flags column")
    assert "not_checked" in lines[0]


@pytest.mark.parametrize(
    "name",
    ["Red Flags", "red-flags", "RED FLAGS", " red flags ", "\ufeffred_flags", "red\u200b_flags"],
)
def test_header_names_are_matched_as_people_type_them(name: str) -> None:
    result = batch("-", stdin=f'limp,"{name}"\nyes,fever\n')
    assert result.exit_code == EXIT_OK, result.output
    (row,) = rows_of(result.stdout)
    assert row["urgency"] == "same_day" and row["answered"] == "2"
    assert "hipback: warning" not in result.stderr


def test_a_repeated_bom_and_worst_site_with_a_space_are_matched(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes("\ufeff\ufeffworst site,red_flags\ngroin,none\n".encode())
    result = batch(str(source), "-q")
    (row,) = rows_of(result.stdout)
    assert row["answered"] == "2"


@pytest.mark.parametrize("name", ["worst_sight", "worst_sit\u0435"])  # \u0435: a Cyrillic e
def test_a_lookalike_header_gets_a_did_you_mean_warning_and_is_passed_through(name: str) -> None:
    result = batch("-", "-q", stdin=f"{name},red_flags\ngroin,none\n")
    assert result.exit_code == EXIT_OK
    (row,) = rows_of(result.stdout)
    assert row[name] == "groin" and row["answered"] == "1"
    assert "did you mean worst_site? It is passed through unchanged" in result.stderr


def test_a_column_named_like_a_result_is_replaced_with_a_warning() -> None:
    result = batch("-", "-q", stdin="notes,limp,red_flags\nclinic note,yes,none\n")
    (row,) = rows_of(result.stdout)
    assert row["notes"] != "clinic note"
    assert "column 'notes' has the name of a result column" in result.stderr


def test_the_summary_names_urgent_rows_first_most_pressing_first_at_most_20() -> None:
    count = SUMMARY_ROWS + 5
    lines = ["id,red_flags"]
    lines += [f"S{n},night_pain" for n in range(1, count - 4)]  # soon
    lines += [f"E{n},bladder_bowel" for n in range(count - 4, count + 1)]  # emergency
    result = batch("-", stdin="\n".join(lines) + "\n")
    stderr = result.stderr.splitlines()
    head = len(stderr) - SUMMARY_ROWS - 2  # the urgent rows last
    assert stderr[head] == f"urgent: {count} rows with warning signs, most pressing first:"
    named = stderr[head + 1 : head + 1 + SUMMARY_ROWS]
    assert [line.split(":")[0].strip() for line in named[:5]] == [
        f"row {n} (E{n})" for n in range(count - 4, count + 1)
    ]
    assert all("emergency" in line for line in named[:5])
    assert all("soon" in line for line in named[5:])
    assert stderr[-1] == f"  and {count - SUMMARY_ROWS} more"
    assert stderr[0].endswith(f"{count} urgent")


def test_the_summary_names_the_rows_with_errors_and_the_column_to_look_in() -> None:
    text = "patient,age,limp,red_flags\nA,40,yes,none\nB,x,yes,none\nC,50,maybe,none\n"
    result = batch("-", stdin=text)
    stderr = result.stderr.splitlines()
    start = stderr.index("errors: 2 rows; the error column says what is wrong in:")
    assert stderr[start + 1 : start + 3] == ["  row 2 (B): age", "  row 3 (C): limp"]


# --- clinics' spreadsheets -------------------------------------------------------------------


def test_semicolon_files_get_decimal_commas_and_read_back(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id;worst_site;limp;red_flags\n1;groin;yes;none\n2;buttock;no;none\n")
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    assert batch(str(source), "-o", str(first), "-q").exit_code == EXIT_OK
    rows = rows_of(first.read_text(), ";")
    for row in rows:
        expected = assess(BANK, {k: row[k] for k in ("worst_site", "limp", "red_flags")})
        assert row["spine_probability"] == f"{expected.spine_probability:.3f}".replace(".", ",")
        assert row["hip_probability"] == f"{expected.hip_probability:.3f}".replace(".", ",")
    assert batch(str(first), "-o", str(second), "-q").exit_code == EXIT_OK
    assert second.read_text() == first.read_text()  # read back: result columns replaced


def test_comma_files_keep_decimal_points() -> None:
    result = batch("-", "-q", stdin="worst_site,red_flags\ngroin,none\n")
    assert "." in rows_of(result.stdout)[0]["spine_probability"]


def test_plain_numbers_are_not_prefixed_but_formulas_are() -> None:
    cells = ["-2", "+3.5", "-0.5", "=1+1", "+ve FADIR", "@SUM(A1)", "-2+3", "\tx"]
    text = "note,red_flags\n" + "".join(f'"{c}",none\n' for c in cells)
    result = batch("-", "-q", stdin=text)
    written = [r["note"] for r in rows_of(result.stdout)]
    assert written == ["-2", "+3.5", "-0.5", "'=1+1", "'+ve FADIR", "'@SUM(A1)", "'-2+3", "'\tx"]


def test_the_output_has_a_bom_when_the_input_was_read_with_an_encoding(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes("name;limp;red_flags\nJos\u00e9;yes;none\n".encode("cp1252"))
    out = tmp_path / "out.csv"
    assert batch(str(source), "--encoding", "cp1252", "-o", str(out), "-q").exit_code == EXIT_OK
    assert out.read_bytes().startswith(b"\xef\xbb\xbfname;")
    assert rows_of(out.read_text(encoding="utf-8"), ";")[0]["name"] == "Jos\u00e9"
    plain = batch("-", "-q", stdin="limp,red_flags\nyes,none\n")
    assert plain.stdout.startswith("limp,")  # UTF-8 in, no BOM: none added
    jsonl = batch(str(source), "--encoding", "cp1252", "--format", "jsonl", "-q")
    assert jsonl.stdout.startswith("{")  # JSON lines never get one


def test_encoding_utf8_sig_is_accepted(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"\xef\xbb\xbflimp,red_flags\nyes,none\n")
    result = batch(str(source), "--encoding", "utf-8-sig", "-q")
    assert result.exit_code == EXIT_OK, result.output
    assert rows_of(result.stdout)[0]["answered"] == "2"


def test_the_notes_column_carries_what_points_neither_way() -> None:
    expected = assess(BANK, {"worst_site": "side_of_hip", "red_flags": "none"})
    assert expected.notes  # the bank has a note for pain at the side of the hip
    result = batch("-", "-q", stdin="worst_site,red_flags\nside_of_hip,none\ngroin,none\n")
    side, groin = rows_of(result.stdout)
    assert side["notes"] == " | ".join(expected.notes)
    assert groin["notes"] == " | ".join(assess(BANK, {"worst_site": "groin"}).notes)


# --- files: never overwrite the input, never replace what is not a regular file --------------


@pytest.mark.slow
def test_stdin_redirected_from_the_output_file_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(patient_rows(3))
    with source.open("rb") as stdin:
        done = child("batch", "-", "-o", str(source), stdin=stdin)
    assert done.returncode == EXIT_USAGE
    assert "is the input file" in one_line_message(done.stderr)
    assert source.read_bytes() == patient_rows(3)
    assert leftovers(tmp_path) == []


def test_an_output_symlink_to_the_input_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(patient_rows(3))
    (tmp_path / "link.csv").symlink_to(source)
    result = batch(str(source), "-o", str(tmp_path / "link.csv"))
    assert result.exit_code == EXIT_USAGE
    assert source.read_bytes() == patient_rows(3)


@pytest.mark.slow
def test_standard_output_appending_to_the_input_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(patient_rows(3))
    with source.open("ab") as stdout:
        done = child("batch", str(source), stdout=stdout)
    assert done.returncode == EXIT_USAGE
    assert "standard output is the input file" in one_line_message(done.stderr)
    assert source.read_bytes() == patient_rows(3)


def _read_fifo(path: Path, into: list[bytes]) -> threading.Thread:
    def read() -> None:
        with path.open("rb") as fifo:
            into.append(fifo.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("through_symlink", [False, True])
@pytest.mark.slow
def test_output_to_a_fifo_is_written_in_place_not_replaced(
    tmp_path: Path, through_symlink: bool
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    target = fifo
    if through_symlink:
        target = tmp_path / "link"
        target.symlink_to(fifo)
    source = tmp_path / "in.csv"
    source.write_bytes(patient_rows(3))
    received: list[bytes] = []
    reader = _read_fifo(fifo, received)
    done = child("batch", str(source), "-o", str(target), "-q", timeout=60)
    reader.join(10)
    assert done.returncode == EXIT_OK, done.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert not through_symlink or target.is_symlink()
    assert received[0].decode().startswith("id,limp,age,red_flags,worst_site,spine_probability")
    assert leftovers(tmp_path) == []


@pytest.fixture
def device(tmp_path: Path) -> Callable[[str, int], Path]:
    """A character device node in tmp_path (a private /dev/null or /dev/full)."""

    def make(name: str, minor: int) -> Path:
        path = tmp_path / name
        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
        except (PermissionError, OSError) as error:
            pytest.skip(f"cannot make a device node here: {error}")
        return path

    return make


@pytest.mark.slow
def test_output_to_a_null_device_is_written_in_place(
    tmp_path: Path, device: Callable[[str, int], Path]
) -> None:
    null = device("null", 3)
    link = tmp_path / "link"
    link.symlink_to(null)
    source = tmp_path / "in.csv"
    source.write_bytes(patient_rows(3))
    for target in (null, link):
        done = child("batch", str(source), "-o", str(target), "-q")
        assert done.returncode == EXIT_OK, done.stderr
        assert stat.S_ISCHR(os.stat(target).st_mode)
    assert link.is_symlink()
    assert output_target("/dev/null").atomic is False  # the real one takes the same path
    assert leftovers(tmp_path) == []


@pytest.mark.slow
def test_output_to_a_full_device_is_a_one_line_error(
    tmp_path: Path, device: Callable[[str, int], Path]
) -> None:
    full = device("full", 7)
    source = tmp_path / "in.csv"
    source.write_bytes(patient_rows(10))
    done = child("batch", str(source), "-o", str(full))
    assert done.returncode == EXIT_USAGE
    assert one_line_message(done.stderr) == f"hipback: cannot write {full}: No space left on device"
    assert stat.S_ISCHR(os.stat(full).st_mode)


@pytest.mark.slow
def test_output_to_dev_stdout_goes_to_standard_output(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(patient_rows(2))
    done = child("batch", str(source), "-o", "/dev/stdout", "-q")
    assert done.returncode == EXIT_OK, done.stderr
    assert len(rows_of(done.stdout.decode())) == 2


def test_an_output_symlink_to_a_regular_file_replaces_the_file_and_keeps_the_link(
    tmp_path: Path,
) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    result = batch("-", "-o", str(link), "-q", stdin=HEADER + "P1," + GOOD_ROW)
    assert result.exit_code == EXIT_OK
    assert link.is_symlink()
    assert rows_of(real.read_text())[0]["id"] == "P1"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


@pytest.mark.parametrize("where", ["folder", "empty", "missing folder"])
@pytest.mark.slow
def test_an_unusable_output_name_is_refused_before_reading_a_row(
    tmp_path: Path, where: str
) -> None:
    output = {
        "folder": str(tmp_path),
        "empty": "",
        "missing folder": str(tmp_path / "missing" / "out.csv"),
    }[where]
    # Standard input stays open and empty: the run must end without reading it.
    process = subprocess.Popen(
        [sys.executable, "-m", "hipback", "batch", "-", "-o", output],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        returncode = process.wait(timeout=60)
    finally:
        process.kill()
        assert process.stdin is not None
        process.stdin.close()
    assert process.stderr is not None and process.stdout is not None
    assert returncode == EXIT_USAGE
    message = one_line_message(process.stderr.read())
    assert {"folder": "it is a folder", "empty": "is empty", "missing folder": "does not exist"}[
        where
    ] in message
    assert process.stdout.read() == b""
    assert not (tmp_path / "missing").exists()


def test_a_valid_249_character_output_name_works(tmp_path: Path) -> None:
    out = tmp_path / ("r" * 245 + ".csv")
    result = batch("-", "-o", str(out), "-q", stdin=HEADER + "P1," + GOOD_ROW)
    assert result.exit_code == EXIT_OK, result.output
    assert rows_of(out.read_text())[0]["id"] == "P1"


# --- signals, full disks and closed streams: nothing partial left --------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
@pytest.mark.slow
def test_a_signal_during_batch_output_leaves_no_part_file(
    tmp_path: Path, signum: signal.Signals
) -> None:
    out = tmp_path / "out.csv"
    out.write_text("previous results\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "hipback", "batch", "-", "-o", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stderr is not None
    try:
        process.stdin.write(patient_rows(2000))
        process.stdin.flush()  # and kept open: the batch waits for more
        # Its .part file open is the sign that the batch runs (generous bound: a busy machine).
        deadline = time.monotonic() + 120
        while not leftovers(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leftovers(tmp_path), "the batch never started writing"
        process.send_signal(signum)
        try:
            returncode = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the batch did not stop within 60 s of {signum.name}")
    finally:
        process.kill()
        process.stdin.close()
    assert returncode == exit_code_for_signal(signum)
    assert "stopped; nothing was saved" in process.stderr.read().decode()
    assert leftovers(tmp_path) == []
    assert out.read_text() == "previous results\n"


@pytest.mark.slow
def test_a_full_standard_output_is_a_one_line_error(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(patient_rows(50))
    with open("/dev/full", "wb") as full:
        done = child("batch", str(source), stdout=full)
    assert done.returncode == EXIT_USAGE
    assert one_line_message(done.stderr).endswith("No space left on device")


def _small_file_size_limit() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


@pytest.mark.slow
def test_a_file_size_limit_leaves_the_previous_output_and_no_part_file(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(patient_rows(2000))  # the results are far over 64 KiB
    out = tmp_path / "out.csv"
    out.write_text("previous results\n")
    done = child("batch", str(source), "-o", str(out), limits=_small_file_size_limit)
    assert done.returncode == EXIT_USAGE
    assert one_line_message(done.stderr) == f"hipback: cannot write {out}: File too large"
    assert out.read_text() == "previous results\n"
    assert leftovers(tmp_path) == []


@pytest.mark.slow
def test_a_file_size_limit_met_by_a_worker_is_the_same_one_line_error(tmp_path: Path) -> None:
    """With --jobs 2 the workers write their chunks into the file themselves."""
    source = tmp_path / "in.csv"
    source.write_bytes(patient_rows(3000))
    out = tmp_path / "out.csv"
    out.write_text("previous results\n")
    done = child("batch", str(source), "-o", str(out), "--jobs", "2", limits=_small_file_size_limit)
    assert done.returncode == EXIT_USAGE
    assert one_line_message(done.stderr) == f"hipback: cannot write {out}: File too large"
    assert out.read_text() == "previous results\n"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("closed", [0, 1])
@pytest.mark.slow
def test_a_closed_standard_stream_is_a_one_line_error(tmp_path: Path, closed: int) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(patient_rows(3))
    out = tmp_path / "out.csv"
    arguments = ("batch", "-", "-o", str(out)) if closed == 0 else ("batch", str(source))
    done = child(*arguments, stdin=None, stdout=None, limits=lambda: os.close(closed))
    assert done.returncode == EXIT_USAGE
    assert "closed" in one_line_message(done.stderr)
    assert not out.exists()


@pytest.mark.slow
def test_a_reader_that_stops_early_ends_the_batch_quietly(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(patient_rows(20000))
    process = subprocess.Popen(
        [sys.executable, "-m", "hipback", "batch", str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()  # `| head -1`
    process.stdout.close()
    returncode = process.wait(timeout=60)
    assert process.stderr.read() == b""
    assert returncode == EXIT_OK  # what it would have given: every row read was valid


# --- one odd part must not sink a batch ----------------------------------------------------------


@pytest.mark.slow
def test_a_bad_byte_late_in_a_pipe_costs_one_row_and_exit_1() -> None:
    data = (HEADER + "".join(f"P{n},{GOOD_ROW}" for n in range(5000))).encode()
    data += b"Jos\xe9," + GOOD_ROW.encode() + b"Q1," + GOOD_ROW.encode()
    process = subprocess.Popen(
        [sys.executable, "-m", "hipback", "batch", "-", "-q"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout, stderr = process.communicate(data, timeout=120)
    assert process.returncode == EXIT_INVALID_ENTRIES, stderr
    rows = rows_of(stdout.decode())
    assert len(rows) == 5002
    assert [n for n, row in enumerate(rows) if row["error"]] == [5000]
    assert rows[5000]["error"].startswith("line 5002: not UTF-8 text")
    assert rows[5001]["id"] == "Q1"


def test_a_late_unclosed_quote_in_a_stream_is_an_error_row_and_exit_1() -> None:
    body = "".join(f"P{n},{GOOD_ROW}" for n in range(5000))
    body += 'P5000,"yes,67,none,groin\n' + "".join(f"Q{n},{GOOD_ROW}" for n in range(10))
    result = batch("-", "-q", stdin=HEADER + body)
    assert result.exit_code == EXIT_INVALID_ENTRIES
    rows = rows_of(result.stdout)
    errors = [n for n, row in enumerate(rows) if row["error"]]
    assert errors == [5000]
    assert rows[5000]["error"].startswith("line 5002: ")
    assert [r["id"] for r in rows[5001:]] == [f"Q{n}" for n in range(10)]


@pytest.mark.parametrize("age", ["5\u00b2", "\u2460", "4" * 4301, "\u0664\u0660"])
def test_an_odd_age_cell_is_an_error_in_its_row_only(age: str) -> None:
    result = batch("-", "-q", stdin=f"id,age,red_flags\n1,{age},none\n2,40,none\n")
    assert result.exit_code == EXIT_INVALID_ENTRIES, result.output
    odd, fine = rows_of(result.stdout)
    assert odd["error"].startswith("age: ")
    assert len(odd["error"]) < 400  # a huge value is quoted shortened
    assert fine["error"] == "" and fine["verdict"]


def test_a_cell_over_pythons_128_kib_limit_is_read() -> None:
    note = "n" * 200_000
    result = batch("-", "-q", "--format", "jsonl", stdin=f"note,limp,red_flags\n{note},yes,none\n")
    assert result.exit_code == EXIT_OK, result.output[-300:]
    (line,) = (json.loads(x) for x in result.stdout.splitlines())
    assert line["fields"]["note"] == note and line["error"] is None


def test_a_blank_header_next_to_column_1_keeps_every_cell_in_jsonl() -> None:
    result = batch("-", "-q", "--format", "jsonl", stdin=",column_1,limp,,column_4\na,b,yes,c,d\n")
    (line,) = (json.loads(x) for x in result.stdout.splitlines())
    assert line["fields"] == {
        "column_1_2": "a",
        "column_1": "b",
        "limp": "yes",
        "column_4_2": "c",
        "column_4": "d",
    }


def test_repeated_pass_through_names_keep_every_cell() -> None:
    text = "note,limp,note,red_flags\nfirst,yes,second,none\n"
    result = batch("-", "-q", "--format", "jsonl", stdin=text)
    assert result.exit_code == EXIT_OK, result.output
    (line,) = (json.loads(x) for x in result.stdout.splitlines())
    assert line["fields"] == {
        "note": "first",
        "limp": "yes",
        "note_2": "second",
        "red_flags": "none",
    }
    csv_out = batch("-", "-q", stdin=text)
    assert next(csv.reader(io.StringIO(csv_out.stdout)))[:4] == [
        "note",
        "limp",
        "note",
        "red_flags",
    ]


# --- memory stays bounded --------------------------------------------------------------------------


@pytest.mark.parametrize("as_stdin", [False, True])
@pytest.mark.slow
def test_dev_zero_as_input_is_refused_within_bounded_memory(as_stdin: bool) -> None:
    if as_stdin:
        with open("/dev/zero", "rb") as zero:
            done = child("batch", "-", stdin=zero, limits=limited_memory)
    else:
        done = child("batch", "/dev/zero", limits=limited_memory)
    assert done.returncode == EXIT_USAGE
    assert "binary data" in one_line_message(done.stderr)
    assert done.stdout == b""


@pytest.mark.slow
def test_a_50_mb_line_costs_one_row_within_bounded_memory() -> None:
    data = (
        HEADER.encode()
        + b"P1,yes,67,none,"
        + b"g" * (50 << 20)
        + b"\n"
        + b"P2,"
        + GOOD_ROW.encode()
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "hipback", "batch", "-", "-q"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=limited_memory,
    )
    stdout, stderr = process.communicate(data, timeout=120)
    assert "Traceback" not in stderr.decode(), stderr.decode()[-2000:]
    assert process.returncode == EXIT_INVALID_ENTRIES
    long_row, short_row = rows_of(stdout.decode())
    assert long_row["error"] and long_row["verdict"] == ""
    assert short_row["id"] == "P2" and short_row["error"] == ""
    assert len(stdout) < 10_000  # the error does not quote the line


# --- any text: rows, never a traceback -----------------------------------------------------------

_TEXT = st.characters(blacklist_categories=("Cs",))
_CELL_TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


def _jsonl_rows(result: Any) -> list[dict[str, Any]]:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (EXIT_OK, EXIT_INVALID_ENTRIES), result.output
    lines = [json.loads(line) for line in result.stdout.split("\n")[:-1]]
    assert [line["row"] for line in lines] == list(range(1, len(lines) + 1))
    assert all((line["error"] is None) == (line["verdict"] is not None) for line in lines)
    assert (result.exit_code == EXIT_INVALID_ENTRIES) == any(line["error"] for line in lines)
    return lines


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(st.text(_TEXT, max_size=300), st.binary(max_size=300)))
@pytest.mark.slow  # many generated examples
def test_any_text_after_a_valid_header_gives_rows_and_no_traceback(body: str | bytes) -> None:
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    result = batch("-", "-q", "--format", "jsonl", stdin=HEADER.encode() + data)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        # A file (here a seekable standard input) in another encoding is refused whole.
        assert result.exit_code == EXIT_USAGE and "not UTF-8 text" in result.stderr
        assert result.stdout == ""
        return
    _jsonl_rows(result)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(st.text(_CELL_TEXT, max_size=12), min_size=5, max_size=5), max_size=8),
    delimiter=st.sampled_from([",", ";", "\t"]),
    line_end=st.sampled_from(["\n", "\r\n"]),
)
@pytest.mark.slow  # many generated examples
def test_one_output_row_per_input_row_whatever_the_cells(
    rows: Sequence[list[str]], delimiter: str, line_end: str
) -> None:
    def cell(text: str) -> str:  # csv.writer leaves a lone CR unquoted under LF line ends
        if any(c in text for c in (delimiter, '"', "\r", "\n")):
            return '"' + text.replace('"', '""') + '"'
        return text

    text = HEADER.replace(",", delimiter).replace("\n", line_end)
    text += "".join(delimiter.join(map(cell, row)) + line_end for row in rows)
    result = batch("-", "-q", "--format", "jsonl", stdin=text.encode())
    lines = _jsonl_rows(result)
    assert len(lines) == len(rows)
    assert [list(line["fields"].values()) for line in lines] == [list(row) for row in rows]
