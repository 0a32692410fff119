"""Hostile headers and cells meeting the terminal (issue: hardening, round 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from hipback import load_bank
from hipback.batch.rows import _json_keys, plan_columns

BANK = load_bank()
#: Generous: the whole command takes about a second; the old quadratic header took minutes.
BOUND_SECONDS = 120


def test_a_header_repeating_one_name_keeps_every_cell_under_a_key_of_its_own() -> None:
    names = ("note", "note", "note_2", "", "note", "worst_site", "note")
    keys = _json_keys(names, tuple(range(len(names))))
    assert keys == ("note", "note_3", "note_2", "column_4", "note_4", "worst_site", "note_5")
    assert len(set(keys)) == len(keys)


def test_twenty_thousand_columns_of_one_name_are_planned_in_one_pass() -> None:
    names = ("note",) * 20_000 + ("worst_site",)
    columns = plan_columns(BANK, names, "wide.csv")
    assert len(set(columns.keys)) == len(columns.keys) == len(names)
    assert columns.keys[-2] == "note_20000"


def test_a_batch_with_a_twenty_thousand_column_header_finishes(tmp_path: Path) -> None:
    source = tmp_path / "wide.csv"
    source.write_text(
        ",".join(["note"] * 20_000 + ["worst_site"])
        + "\n"
        + ",".join(["x"] * 20_000 + ["groin"])
        + "\n"
    )
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "hipback",
                "batch",
                str(source),
                "-o",
                str(tmp_path / "o.csv"),
                "-q",
            ],
            capture_output=True,
            text=True,
            timeout=BOUND_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"a header repeating one name 20,000 times took over {BOUND_SECONDS} s")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("hipback: warning") == 1  # the missing warning-sign column, once


def test_csv_written_to_a_terminal_shows_escape_sequences_as_text(tmp_path: Path) -> None:
    source = tmp_path / "esc.csv"
    source.write_bytes(b'id,worst_site\n"\x1b]0;owned\x07\x1b[31mRED\r",groin\n')
    child = pexpect.spawn(
        sys.executable,
        ["-m", "hipback", "batch", str(source), "-q"],
        timeout=BOUND_SECONDS,
        encoding="utf-8",
        dimensions=(24, 200),
    )
    try:
        child.expect(pexpect.EOF)
    except pexpect.TIMEOUT:
        pytest.fail(f"batch to a terminal did not finish within {BOUND_SECONDS} s")
    finally:
        child.close()
    shown = child.before or ""
    assert "\\x1b]0;owned\\x07\\x1b[31mRED\\r" in shown
    assert "\x1b" not in shown and "\x07" not in shown


def test_csv_written_to_a_pipe_keeps_its_cells_exactly(tmp_path: Path) -> None:
    source = tmp_path / "esc.csv"
    source.write_bytes(b'id,worst_site\n"\x1b[31mRED",groin\n')
    done = subprocess.run(
        [sys.executable, "-m", "hipback", "batch", str(source), "-q"],
        capture_output=True,
        timeout=BOUND_SECONDS,
        check=False,
    )
    assert done.stdout.splitlines()[1].startswith(b"\x1b[31mRED,groin,")


def test_an_interrupt_dropped_by_a_finalizer_is_raised_again() -> None:
    """Python drops an exception raised while a finalizer runs; a stop signal that lands
    there must still stop hipback (a repeated SIGTERM is ignored on purpose)."""
    code = (
        "import sys, time\n"
        "from hipback import running\n"
        "sys.unraisablehook = running.interrupt_dropped\n"
        "class Dropper:\n"
        "    def __del__(self):\n"
        "        raise KeyboardInterrupt\n"
        "try:\n"
        "    Dropper()\n"
        "    for _ in range(1000):\n"  # ten seconds of ordinary code at the most
        "        time.sleep(0.01)\n"
        "    print('not interrupted')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=BOUND_SECONDS
    )
    assert done.stdout.strip() == "interrupted", done.stderr
