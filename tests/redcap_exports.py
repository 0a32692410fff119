"""The REDCap exports in tests/data/redcap/: a few records, written from hipback's own data
dictionary (``hipback questions --format redcap``) in each shape REDCap exports data.

They follow REDCap's export format (its "Export Data" page and API "Export Records",
``type=flat``), for a longitudinal project with the dictionary's one instrument,
``hipback``, in two events, repeating in the second:

- ``export_raw.csv``, "CSV / Microsoft Excel (raw data)" (API ``rawOrLabel=raw``): a
  header of variable names: ``record_id``, ``redcap_event_name``,
  ``redcap_repeat_instrument``, ``redcap_repeat_instance``, each field in the
  dictionary's order (a checkbox field as one ``field___code`` column per option, in
  the options' order), ``hipback_complete``; raw cells: a box ``1``/``0``, a radio
  field its code, a yes/no field ``1``/``0``, the status ``0``/``1``/``2``.
- ``export_labels.csv``, "CSV / Microsoft Excel (labels)" (API ``rawOrLabel=label``,
  ``rawOrLabelHeaders=label``): a header of labels: ``Record ID``, ``Event Name``,
  ``Repeat Instrument``, ``Repeat Instance``, each field's label, a box
  ``Field label (choice=Option label)``, ``Complete?``; cells as labels: a box
  ``Checked``/``Unchecked``, a radio field its option's label, ``Yes``/``No``, the
  event ``Event label (Arm 1: Arm 1)``, the instrument ``Hipback``, the status
  ``Incomplete``/``Unverified``/``Complete``.
- ``export_checkbox_labels.csv`` (API ``rawOrLabel=label``, ``rawOrLabelHeaders=raw``,
  ``exportCheckboxLabel=true``): the raw header, the cells as labels, but a ticked box
  holds its option's label and an unticked box is blank.
- ``export_raw.json`` and ``export_labels.json`` (API ``format=json``, raw and labels):
  an array of one object per row, keyed by the raw header's names, every value text,
  written as PHP's ``json_encode`` writes it (no spaces, ``/`` as ``\\/``).

CSV is written as PHP's ``fputcsv`` writes it (REDCap is PHP): a cell holding a comma,
a quote, a space, a tab or a line break is quoted, lines end with ``\\n``.

To write them again (after the bank's wording changes):
``PYTHONPATH=. /work/main/.venv/bin/python tests/redcap_exports.py``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from hipback import load_bank
from hipback.formats.redcap import data_dictionary

FOLDER = Path(__file__).parent / "data" / "redcap"
FORM = "hipback"
EVENTS = {
    "baseline_arm_1": "Baseline (Arm 1: Arm 1)",
    "follow_up_arm_1": "Follow-up (Arm 1: Arm 1)",
}
STATUS = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}

#: The records, answers as codes (``;`` between a checkbox field's codes).
RECORDS: list[dict[str, str]] = [
    {  # hip osteoarthritis, "None of these" warning signs ticked
        "record_id": "1",
        "redcap_event_name": "baseline_arm_1",
        "hipback_complete": "2",
        "red_flags": "none",
        "age": "67",
        "sides": "one_side",
        "worst_site": "groin",
        "pain_areas": "groin;front_thigh",
        "c_sign": "1",
        "quality": "dull_ache;deep_throb",
        "tingling_numbness": "0",
        "hip_catching": "1",
        "knee_gives_way": "0",
        "worse_with": "walking;stairs;socks_shoes",
        "eased_by": "rest",
        "rotation_pain": "1",
        "morning_stiffness": "under_1h",
        "limp": "1",
        "walking_onset": "at_once",
        "onset": "gradual",
        "duration": "over_12_weeks",
        "previous_surgery": "none",
    },
    {  # sciatica with a warning sign ticked (saddle numbness)
        "record_id": "2",
        "redcap_event_name": "baseline_arm_1",
        "hipback_complete": "2",
        "red_flags": "saddle_numbness",
        "risk_factors": "steroids",
        "age": "42",
        "sides": "one_side",
        "worst_site": "buttock",
        "pain_areas": "buttock;back_thigh;below_knee;foot",
        "c_sign": "0",
        "quality": "electric;shooting",
        "tingling_numbness": "1",
        "tingling_where": "back_or_outer_leg_or_foot",
        "worse_with": "bending_forward;sitting_long",
        "eased_by": "lying_down",
        "onset": "sudden",
        "duration": "under_6_weeks",
    },
    {  # no warning-sign box ticked: not checked
        "record_id": "3",
        "redcap_event_name": "baseline_arm_1",
        "hipback_complete": "1",
        "age": "55",
        "worst_site": "side_of_hip",
        "pain_areas": "side_of_hip",
        "duration": "6_to_12_weeks",
    },
    {  # a bad value (the age in words) beside a warning sign ticked (fever)
        "record_id": "4",
        "redcap_event_name": "baseline_arm_1",
        "hipback_complete": "0",
        "red_flags": "fever",
        "age": "sixty",
        "worst_site": "low_back",
        "pain_areas": "low_back;buttock",
    },
    {  # the repeating instrument, first instance
        "record_id": "5",
        "redcap_event_name": "follow_up_arm_1",
        "redcap_repeat_instrument": FORM,
        "redcap_repeat_instance": "1",
        "hipback_complete": "2",
        "red_flags": "none",
        "age": "71",
        "worst_site": "groin",
        "pain_areas": "groin",
        "rotation_pain": "1",
        "morning_stiffness": "under_1h",
        "previous_surgery": "spine_surgery",
    },
    {  # the repeating instrument, second instance: two warning signs ticked
        "record_id": "5",
        "redcap_event_name": "follow_up_arm_1",
        "redcap_repeat_instrument": FORM,
        "redcap_repeat_instance": "2",
        "hipback_complete": "2",
        "red_flags": "bladder_bowel;progressive_weakness",
        "age": "71",
        "worst_site": "low_back",
        "pain_areas": "low_back;back_thigh",
    },
]


def dictionary() -> list[dict[str, str]]:
    """hipback's data dictionary, as REDCap would import it."""
    return list(csv.DictReader(io.StringIO(data_dictionary(load_bank()))))


def _choices(field: dict[str, str]) -> list[tuple[str, str]]:
    text = field["Choices, Calculations, OR Slider Labels"]
    pairs = [choice.split(",", 1) for choice in text.split("|")] if text else []
    return [(code.strip(), label.strip()) for code, label in pairs]


def _columns(fields: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(raw name, label) of every column of an export, in REDCap's order."""
    columns = [
        (fields[0]["Variable / Field Name"], fields[0]["Field Label"]),
        ("redcap_event_name", "Event Name"),
        ("redcap_repeat_instrument", "Repeat Instrument"),
        ("redcap_repeat_instance", "Repeat Instance"),
    ]
    for field in fields[1:]:
        name, label = field["Variable / Field Name"], field["Field Label"]
        if field["Field Type"] == "checkbox":
            columns += [
                (f"{name}___{c}", f"{label} (choice={text})") for c, text in _choices(field)
            ]
        else:
            columns.append((name, label))
    columns.append((f"{FORM}_complete", "Complete?"))
    return columns


def _cells(
    fields: list[dict[str, str]], record: dict[str, str], labels: bool, checkbox_labels: bool
) -> list[str]:
    """The record's row: raw values, labels, or labels with a ticked box's option label."""
    cells = [
        record["record_id"],
        EVENTS[record["redcap_event_name"]] if labels else record["redcap_event_name"],
        FORM.capitalize()
        if labels and record.get("redcap_repeat_instrument")
        else record.get("redcap_repeat_instrument", ""),
        record.get("redcap_repeat_instance", ""),
    ]
    for field in fields[1:]:
        name, kind = field["Variable / Field Name"], field["Field Type"]
        value = record.get(name, "")
        choices = _choices(field)
        if kind == "checkbox":
            ticked = set(value.split(";")) if value else set()
            for code, text in choices:
                if checkbox_labels:
                    cells.append(text if code in ticked else "")
                elif labels:
                    cells.append("Checked" if code in ticked else "Unchecked")
                else:
                    cells.append("1" if code in ticked else "0")
        elif labels and kind == "radio" and value:
            cells.append(dict(choices)[value])
        elif labels and kind == "yesno" and value:
            cells.append({"1": "Yes", "0": "No"}[value])
        else:
            cells.append(value)
    status = record["hipback_complete"]
    cells.append(STATUS[status] if labels else status)
    return cells


def _fputcsv(cells: list[str]) -> str:
    def cell(text: str) -> str:
        if any(c in text for c in ',"\\ \t\r\n'):
            return '"' + text.replace('"', '""') + '"'
        return text

    return ",".join(cell(c) for c in cells) + "\n"


def _json_encode(rows: list[dict[str, str]]) -> str:
    return json.dumps(rows, separators=(",", ":")).replace("/", "\\/")


def exports() -> dict[str, str]:
    """Every fixture's name and text."""
    fields = dictionary()
    columns = _columns(fields)
    raw_names = [name for name, _ in columns]
    raw = [_cells(fields, r, labels=False, checkbox_labels=False) for r in RECORDS]
    labelled = [_cells(fields, r, labels=True, checkbox_labels=False) for r in RECORDS]
    checkbox = [_cells(fields, r, labels=True, checkbox_labels=True) for r in RECORDS]

    def csv_text(header: list[str], rows: list[list[str]]) -> str:
        return "".join(_fputcsv(line) for line in [header, *rows])

    return {
        "export_raw.csv": csv_text(raw_names, raw),
        "export_labels.csv": csv_text([label for _, label in columns], labelled),
        "export_checkbox_labels.csv": csv_text(raw_names, checkbox),
        "export_raw.json": _json_encode([dict(zip(raw_names, r, strict=True)) for r in raw]),
        "export_labels.json": _json_encode(
            [dict(zip(raw_names, r, strict=True)) for r in labelled]
        ),
    }


if __name__ == "__main__":
    FOLDER.mkdir(exist_ok=True)
    for file_name, text in exports().items():
        (FOLDER / file_name).write_text(text, encoding="utf-8", newline="")
        print(FOLDER / file_name)
