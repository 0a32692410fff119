"""The printable report: one self-contained HTML page to take to the clinician.

``hipback ask --report visit.html`` writes one; ``hipback batch --reports DIR``
one per row. The page holds everything it shows (inline CSS, the likelihood
bar as inline SVG): no script, font, image or style sheet is fetched, so it
opens the same offline and makes no network request of any kind. It is
laid out to print ordinary answers on one A4 or Letter page, in type no
smaller than 9 pt: a long report takes a second page rather than smaller type.

Everything is rendered by a Jinja2 template with autoescaping on: every
answer, reason, note and pass-through cell is text, never markup (a cell
``<script>alert(1)</script>`` is printed as those characters).

The words are the terminal report's (:mod:`hipback.formats.terminal`), but
in reading order: the warning signs and the result at the top, since on paper
the top is what is read first (on a screen the last lines stay in view). The
patient's list of reasons shows the answers that carry the result and one line
for those that add almost nothing; the clinician's part lists every answer that
counted, with its strength, what it was counted with and its source.
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hipback import __version__
from hipback.answers import parse_answer
from hipback.bank.model import Answers, AnswerValue, Bank, RedFlag
from hipback.errors import AnswerError, HipbackError
from hipback.files import OWNER_ONLY, private_atomic_writer
from hipback.formats import terminal as report
from hipback.formats.body_map import (
    OUTLINE,
    VIEW_BOX,
    Area,
    Shape,
    marked_areas,
    where_it_hurts,
)
from hipback.formats.cells import unneutralise
from hipback.messages import quoted
from hipback.scoring.engine import Assessment, RedFlagStatus

if TYPE_CHECKING:
    from jinja2 import Environment

    from hipback.batch.rows import Columns, RowResult

#: The first step when there is urgent advice: on the page it is at the top.
URGENT_FIRST_STEP = "First, follow the urgent advice at the top of this page."
NOT_CHECKED_TITLE = "Warning signs not checked"
NOT_CHECKED_TEXT = (
    "The question about warning signs was not answered, so nobody has checked them."
    " Get help at once if you have any of these:"
)
NONE_PRESENT = "Warning signs: none of the warning signs was reported."
#: A report file name is at most this many characters before ``.html``.
NAME_MAX_CHARS = 60
#: Names Windows keeps for devices, with any extension: never a report's name.
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"com{n}" for n in range(10)}
    | {f"lpt{n}" for n in range(10)}
)
_DASHES = re.compile(r"-{2,}")
#: A report file name is at most this many bytes before ``-N.html`` (NAME_MAX is 255).
NAME_MAX_BYTES = 200
_PARENTHESES = re.compile(r"\([^()]*\)")
_AUTHOR_YEAR = re.compile(r"^([A-Z][\w'-]+)\b.*?\b((?:19|20)\d\d)\b")
#: Parts of a source that say how a figure was used, not where it comes from.
_NOT_A_SOURCE = re.compile(r"^(?:\d|(?:slightly |strongly )?tempered\b|self-report)")


@dataclass(frozen=True)
class Stamp:
    """When and with what a report was made: the footer's facts."""

    date: str
    hipback_version: str
    bank_version: str
    bank_version_kind: str


def bank_version(bank: Bank) -> tuple[str, str]:
    """The question bank's version and what it is.

    Banks carry no version number, so this is the first 12 hex digits of a
    SHA-256 over the bank's YAML files (names and contents, in name order):
    any change to a question or a weight gives another version. When the
    files cannot be read, the bank's origin stands in.
    """
    origin = Path(bank.origin)
    try:
        if origin.is_dir():
            files = sorted(p for p in origin.iterdir() if p.suffix in (".yaml", ".yml"))
        else:
            files = [origin]
        digest = hashlib.sha256()
        for file in files:
            digest.update(file.name.encode("utf-8") + b"\0")
            digest.update(file.read_bytes() + b"\0")
    except OSError:
        return bank.origin, "where the bank was read from (its files could not be read)"
    count = len(files)
    return (
        digest.hexdigest()[:12],
        f"SHA-256 of its {count} file{'s' if count != 1 else ''}; no version number",
    )


def make_stamp(bank: Bank, when: datetime.date | None = None) -> Stamp:
    version, kind = bank_version(bank)
    day = when if when is not None else datetime.date.today()
    return Stamp(day.isoformat(), __version__, version, kind)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("hipback.formats", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


# --- what the page shows ------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    label: str
    advice: str


@dataclass(frozen=True)
class Warning:
    """The warning-sign part: ``kind`` is urgent, not_checked or none."""

    kind: str
    title: str
    text: str = ""
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True)
class ShownReason:
    """A reason in the patient's list: its sentence and its strength in words."""

    text: str
    strength: str


@dataclass(frozen=True)
class ReasonGroup:
    """The reasons toward one source or side: those that carry the result, and
    one line (``also_fits``) for those that add almost nothing."""

    title: str
    reasons: tuple[ShownReason, ...]
    also_fits: str = ""


@dataclass(frozen=True)
class CountedAnswer:
    """An answer that counted, for the clinician."""

    text: str
    #: ``hip`` or ``back``.
    toward: str
    #: The effective likelihood ratio, ``2.5x``.
    ratio: str
    source: str


@dataclass(frozen=True)
class Bar:
    spine_percent: int
    hip_percent: int
    text: str


@dataclass(frozen=True)
class AnswerLine:
    question: str
    answer: str


@dataclass
class Page:
    """Everything the template shows, as plain text (the template escapes it)."""

    stamp: Stamp
    fields: tuple[tuple[str, str], ...] = ()
    warning: Warning | None = None
    headline: str = ""
    #: None with too few answers: no bar claims a side.
    bar: Bar | None = None
    not_certain: str = report.NOT_CERTAIN
    likely_source: str = ""
    mixed: str = ""
    #: With too few answers: the questions that would tell most.
    telling: tuple[str, ...] = ()
    telling_title: str = report.TELLING_TITLE
    telling_intro: str = report.TELLING_INTRO
    #: Other causes to check, in plain words (``also_consider``), most pressing first.
    also_consider: tuple[str, ...] = ()
    also_consider_title: str = report.ALSO_CONSIDER_TITLE
    also_consider_intro: str = report.ALSO_CONSIDER_INTRO
    groups: tuple[ReasonGroup, ...] = ()
    #: Every answer that counted, in sets counted together (strongest first in each).
    counted: tuple[tuple[CountedAnswer, ...], ...] = ()
    legend: str = report.STRENGTH_MEANS
    #: The places marked, the worst first (drawn on the body map).
    areas: tuple[Area, ...] = ()
    where_it_hurts: str = ""
    outline: tuple[Shape, ...] = OUTLINE
    view_box: str = VIEW_BOX
    notes: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    technical: tuple[tuple[str, str], ...] = ()
    answers: tuple[AnswerLine, ...] = ()
    not_answered: tuple[str, ...] = ()
    error: str = ""
    not_a_diagnosis: str = report.NOT_A_DIAGNOSIS
    next_step_title: str = report.NEXT_STEP_TITLE
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def identity(self) -> tuple[str, str] | None:
        """Who the report is about: the first pass-through cell (a batch row's id), if any."""
        return next(((k, v) for k, v in self.fields if k != "row" and v.strip()), None)

    @property
    def other_fields(self) -> tuple[tuple[str, str], ...]:
        identity = self.identity
        return tuple(f for f in self.fields if f != identity)


def _warning(bank: Bank, status: Assessment | RedFlagStatus | None) -> Warning | None:
    if status is None:
        return None
    if status.urgent:
        advice = status.red_flag_advice
        top = advice[0].urgency if advice else "none"
        return Warning("urgent", report.URGENCY_TITLES[top], flags=_flags(bank, advice))
    if status.urgency == "not_checked":
        every = [c.red_flag for q in bank.red_flag_questions for c in q.choices if c.red_flag]
        return Warning(
            "not_checked", NOT_CHECKED_TITLE, NOT_CHECKED_TEXT, _flags(bank, every, named=True)
        )
    return Warning("none", NONE_PRESENT)


def _flags(bank: Bank, flags: Sequence[RedFlag], *, named: bool = False) -> tuple[Flag, ...]:
    """Each flag's level (or, when ``named``, what it is) and its advice, most pressing first."""
    labels = {c.code: c.label for q in bank.red_flag_questions for c in q.choices}
    shown: list[Flag] = []
    seen: set[tuple[str, str]] = set()
    for flag in sorted(flags, key=lambda f: f.rank):
        label = labels.get(flag.code, flag.code) if named else report.URGENCY_LABELS[flag.urgency]
        key = (label, flag.advice)
        if key not in seen:
            seen.add(key)
            shown.append(Flag(label, flag.advice))
    return tuple(shown)


def short_source(source: str) -> str:
    """A finding's source as short citations: ``Rainville 2019; Altman 1991``.

    The full references are in ``hipback evidence``; on a one-page report the
    author and year say where a figure comes from.
    """
    while True:
        plain = _PARENTHESES.sub("", source)
        if plain == source:
            break
        source = plain
    cited: list[str] = []
    for part in (p.strip() for p in source.split(";")):
        if not part or _NOT_A_SOURCE.match(part):
            continue
        found = _AUTHOR_YEAR.match(part)
        if found:
            short = f"{found.group(1)} {found.group(2)}"
        elif part.startswith("expert judgement"):
            short = "expert judgement"
        elif not any(c.isupper() for c in part.split()[0]):
            continue  # a remark on the figure ("no published likelihood ratio")
        else:
            short = part.split(",")[0].strip()
            short = short if len(short) <= 40 else short[:39].rstrip() + "…"
        if short not in cited:
            cited.append(short)
    return "; ".join(cited) or "expert judgement"


def _bar(assessment: Assessment) -> Bar:
    spine = report.shown_percent(assessment.spine_probability)
    hip = 100 - spine
    return Bar(spine, hip, f"Lower back {spine} %, hip joint {hip} %.")


def _groups(bank: Bank, assessment: Assessment) -> tuple[ReasonGroup, ...]:
    shown: list[ReasonGroup] = []
    for title, reasons, say_if_empty in report.reason_groups(assessment, bank):
        if not reasons and not say_if_empty:
            continue
        carrying, slight = report.carrying_and_slight(reasons)
        shown.append(
            ReasonGroup(
                title,
                tuple(ShownReason(r.reason, report.strength(r)) for r in carrying),
                report.also_fits(slight) if slight else "",
            )
        )
    return tuple(shown)


_TOWARD = {"spine": "back", "hip": "hip"}


def _counted(bank: Bank, assessment: Assessment) -> tuple[tuple[CountedAnswer, ...], ...]:
    """Every answer that counted, in the sets the assessment counted together
    (a reason with its ``counted_with``), in the order of the patient's list."""
    ordered = [r for _, reasons, _ in report.reason_groups(assessment, bank) for r in reasons]
    by_finding = {id(r.finding): r for r in ordered}
    placed: set[int] = set()
    sets: list[tuple[CountedAnswer, ...]] = []
    for reason in ordered:
        if id(reason.finding) in placed:
            continue
        others = [by_finding[id(f)] for f in reason.counted_with if id(f) in by_finding]
        together = [r for r in (reason, *others) if id(r.finding) not in placed]
        together.sort(key=lambda r: -r.weight)
        placed |= {id(r.finding) for r in together}
        sets.append(
            tuple(
                CountedAnswer(
                    report.gist(r.reason),
                    _TOWARD.get(r.toward, r.toward),
                    report.ratio_text(r),
                    short_source(r.source),
                )
                for r in together
            )
        )
    return tuple(sets)


def _next_steps(assessment: Assessment) -> tuple[str, ...]:
    steps = list(report.next_steps(assessment))
    if assessment.urgent and steps:
        steps[0] = URGENT_FIRST_STEP  # the terminal says "at the end of this report"
    return tuple(steps)


def _share(share: float) -> str:
    """A share in whole percent, never 0 % or 100 % (answers are never certain)."""
    percent = round(share * 100)
    if percent < 1:
        return "under 1 %"
    if percent > 99:
        return "over 99 %"
    return f"{percent} %"


def _technical(bank: Bank, assessment: Assessment) -> tuple[tuple[str, str], ...]:
    shares = ", ".join(
        f"{source} {_share(share)}" for source, share in assessment.source_shares.items()
    )
    return (
        ("verdict", assessment.verdict),
        ("likely_source", assessment.likely_source),
        ("spine_probability", f"{assessment.spine_probability:.3f}"),
        ("source shares", shares),
        ("mixed_pattern", "yes" if assessment.mixed_pattern else "no"),
        ("urgency", assessment.urgency),
        ("also_consider", ", ".join(assessment.also_consider) or "none"),
        ("answered", str(assessment.answered)),
    )


def _answers(bank: Bank, answers: Answers) -> tuple[tuple[AnswerLine, ...], tuple[str, ...]]:
    """The answers given, in words; the questions not answered that could apply, in words."""
    given: list[AnswerLine] = []
    missing: list[str] = []
    for question in bank.questions:
        value = answers.get(question.id)
        if value is None:
            if question.ask_when is None or question.ask_when.may_hold(answers):
                missing.append(report.short_prompt(question.prompt))
        else:
            given.append(
                AnswerLine(
                    report.short_prompt(question.prompt), report.describe_answer(question, value)
                )
            )
    return tuple(given), tuple(missing)


def build_page(
    bank: Bank,
    answers: Answers,
    assessment: Assessment,
    stamp: Stamp,
    fields: Sequence[tuple[str, str]] = (),
) -> Page:
    """What the report of one assessment shows; ``fields``: pass-through cells (batch)."""
    given, missing = _answers(bank, answers)
    mixed = report.mixed_pattern_note() if assessment.mixed_pattern else ""
    too_few = assessment.verdict == "too_few_answers"
    telling = report.most_telling_questions(bank, answers) if too_few else []
    others = report.considerations(bank, assessment.also_consider)
    areas = marked_areas(bank, answers)
    return Page(
        stamp=stamp,
        fields=tuple(fields),
        warning=_warning(bank, assessment),
        headline=report.HEADLINES.get(assessment.verdict, assessment.verdict),
        bar=None if too_few else _bar(assessment),
        likely_source=report.likely_source_sentence(assessment, bank).plain,
        mixed=mixed,
        telling=tuple(report.short_prompt(q.prompt) for q in telling),
        also_consider=tuple(report.consideration_lines(others)),
        groups=_groups(bank, assessment),
        counted=_counted(bank, assessment),
        areas=tuple(areas),
        where_it_hurts=where_it_hurts(areas),
        notes=tuple(dict.fromkeys(assessment.notes)),
        next_steps=_next_steps(assessment),
        checks=tuple(report.clinician_checks(assessment, others)),
        technical=_technical(bank, assessment),
        answers=given,
        not_answered=missing,
    )


def build_error_page(
    bank: Bank,
    raw: Mapping[str, str],
    error: str,
    flags: RedFlagStatus | None,
    stamp: Stamp,
    fields: Sequence[tuple[str, str]] = (),
) -> Page:
    """The short page of a row that could not be assessed: the error, and any warning signs.

    A warning sign found in the row is shown at the top as on every report:
    a mistake elsewhere never hides it. The answers that could be read are listed.
    """
    readable: dict[str, AnswerValue] = {}
    for question in bank.questions:
        if question.id in raw:
            try:
                value = parse_answer(question, raw[question.id])
            except AnswerError:
                continue
            if value is not None:
                readable[question.id] = value
    given, _ = _answers(bank, readable)
    return Page(
        stamp=stamp,
        fields=tuple(fields),
        warning=_warning(bank, flags),
        error=error,
        answers=given,
    )


def render(page: Page) -> str:
    """The HTML of a page (autoescaped: every text is shown as text)."""
    return _environment().get_template("report.html.j2").render(page=page)


def render_report(
    bank: Bank,
    answers: Answers,
    assessment: Assessment,
    *,
    when: datetime.date | None = None,
    fields: Sequence[tuple[str, str]] = (),
) -> str:
    return render(build_page(bank, answers, assessment, make_stamp(bank, when), fields))


def write_report(path: str | Path, html: str, mode: int = OWNER_ONLY) -> None:
    """Write a report atomically, readable by its owner only (like ``--save``) unless
    ``mode`` says otherwise."""
    with private_atomic_writer(path, "write the report to", mode) as handle:
        handle.write(html)


def check_report_target(path: Path) -> None:
    """Fail before anything is asked when ``--report`` cannot be written."""
    from hipback.files import output_target

    output_target(path, "write the report to")


# --- batch: one report per row ------------------------------------------------------------


def prepare_reports_folder(folder: str | Path, mode: int = OWNER_ONLY) -> Path:
    """The folder for ``batch --reports``: created (owner-only, 0700) when missing;
    0750 when the reports' ``mode`` lets the group read them.

    Raises :class:`HipbackError` (before any row is read) when it is a file
    or cannot be created.
    """
    path = Path(folder)
    if not os.fspath(folder):
        raise HipbackError("the --reports folder name is empty; give a folder name")
    shown = quoted(path, 200)
    try:
        status = os.stat(path)
    except FileNotFoundError:
        status = None
    except OSError as error:
        raise HipbackError(f"cannot use {shown} for the reports: {error.strerror}") from None
    if status is not None:
        if not stat.S_ISDIR(status.st_mode):
            raise HipbackError(f"cannot write the reports to {shown}: it is not a folder")
        return path
    try:
        os.mkdir(path, 0o700)
        if mode & 0o040:
            os.chmod(path, 0o750)
    except FileNotFoundError:
        raise HipbackError(
            f"cannot create the reports folder {shown}: the folder {quoted(path.parent, 200)}"
            " does not exist"
        ) from None
    except OSError as error:
        raise HipbackError(
            f"cannot create the reports folder {shown}: {error.strerror or error}"
        ) from None
    return path


def safe_name(cell: str) -> str:
    """A pass-through cell as a file name that is safe on Linux, macOS and Windows.

    Letters (``ü`` too, in NFKC form) and digits are kept, as are ``.``, ``_``
    and ``-``; anything else becomes ``-``. Leading dots and dashes go (no
    hidden file, no option-like name), and so do trailing dots, dashes and
    spaces (Windows drops them). A Windows device name (``CON``, ``NUL.txt``,
    ``COM1``...) gets a ``-`` after it. At most :data:`NAME_MAX_CHARS`
    characters and :data:`NAME_MAX_BYTES` bytes. May be empty.
    """
    text = unicodedata.normalize("NFKC", cell.strip())
    kept = "".join(c if c in "._-" or unicodedata.category(c)[0] in "LMN" else "-" for c in text)
    name = _DASHES.sub("-", kept).strip(".-")[:NAME_MAX_CHARS]
    while len(name.encode("utf-8")) > NAME_MAX_BYTES:
        name = name[:-1]
    name = name.rstrip(".- ")
    stem, dot, rest = name.partition(".")
    if stem.lower() in _RESERVED:
        name = f"{stem}-{dot}{rest}"
    return name


class ReportNames:
    """Unique report names for a run: ``P01.html``, ``P01-2.html``, or ``row-N.html``.

    Compared ignoring case, since the folder may be on a case-insensitive disk.
    ``avoid``: names never given (the input or output file's, in the folder).
    """

    def __init__(self, avoid: Iterable[str] = ()) -> None:
        self._taken: set[str] = {name.lower() for name in avoid}

    def name(self, cell: str | None, row: int) -> str:
        base = safe_name(cell) if cell else ""
        if not base:
            base = f"row-{row}"
        candidate, suffix = base, 2
        while f"{candidate}.html".lower() in self._taken:
            candidate, suffix = f"{base}-{suffix}", suffix + 1
        self._taken.add(f"{candidate}.html".lower())
        return f"{candidate}.html"

    def take(self, name: str) -> None:
        """Mark a name as used (a file of that name was found in the folder)."""
        self._taken.add(name.lower())


class ReportsWriter:
    """Writes one report per batch row while the rows stream past (see :meth:`watch`).

    Error rows get a short page with the error and any warning sign found.

    Only new regular files are written, each created by this writer
    (``O_CREAT | O_EXCL | O_NOFOLLOW``, mode 0600): a name already in the
    folder (a file, a symlink, a FIFO, the input) is never opened, and the
    next free name is used. ``keep``: files (the input and the output) whose
    names are never used for a report, even when they do not exist yet.
    """

    def __init__(
        self,
        bank: Bank,
        folder: Path,
        columns: Columns,
        when: datetime.date | None = None,
        *,
        keep: Iterable[str | Path | None] = (),
        mode: int = OWNER_ONLY,
    ) -> None:
        self.bank = bank
        self.mode = mode
        self.folder = folder
        self.columns = columns
        self.stamp = make_stamp(bank, when)
        self.names = ReportNames(_names_in(folder, keep))
        self.written = 0
        passing = [i for i in columns.kept if i not in {p for p, _, _ in columns.questions}]
        self._passing = tuple((columns.keys[columns.kept.index(i)], i) for i in passing)

    def watch(self, results: Iterator[RowResult]) -> Iterator[RowResult]:
        for row in results:
            self.write(row)
            yield row

    def write(self, row: RowResult) -> Path:
        cells = row.cells
        fields = [(key, cells[i]) for key, i in self._passing]
        label = self.columns.label
        raw = {}
        for position, qid, _ in self.columns.questions:
            cell = cells[position]
            if cell:
                raw[qid] = unneutralise(cell) if cell[0] == "'" else cell
        fields.insert(0, ("row", str(row.number)))
        if row.assessment is not None:
            answers = _parsed(self.bank, raw)
            page = build_page(self.bank, answers, row.assessment, self.stamp, fields)
        else:
            page = build_error_page(self.bank, raw, row.error or "", row.flags, self.stamp, fields)
        html = render(page)
        shown = cells[label] if label is not None else None
        for _ in range(_TRIES):
            name = self.names.name(shown, row.number)
            path = self.folder / name
            if _write_new(path, html, self.folder, self.mode):
                self.written += 1
                return path
            self.names.take(name)
        raise HipbackError(
            f"cannot write the report of row {row.number}: {_TRIES} names in"
            f" {quoted(self.folder, 200)} are taken by files hipback did not write"
        )


#: Names tried for one report before giving up (each taken by a file already there).
_TRIES = 100
_CREATE = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def _names_in(folder: Path, files: Iterable[str | Path | None]) -> list[str]:
    """The names of ``files`` that lie in ``folder`` (whether they exist yet or not)."""
    names = []
    for file in files:
        if file is None or not os.fspath(file) or os.fspath(file) == "-":
            continue
        place = Path(file)
        with suppress(OSError):
            if os.path.samefile(place.parent, folder):
                names.append(place.name)
    return names


def _write_new(path: Path, html: str, folder: Path, mode: int) -> bool:
    """Write ``html`` to a new file ``path`` of ``mode``; False when the name is taken."""
    try:
        descriptor = os.open(path, _CREATE, OWNER_ONLY)
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno == errno.ELOOP:  # a symlink, on a system without O_EXCL's promise
            return False
        raise HipbackError(
            f"cannot write the report {quoted(path.name)} in {quoted(folder, 200)}:"
            f" {error.strerror or error}"
        ) from None
    try:
        if mode != OWNER_ONLY:
            os.fchmod(descriptor, mode)  # as asked, whatever the umask
        with open(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(html)
    except BaseException as error:
        with suppress(OSError):
            os.unlink(path)  # the file this writer created: nothing else is lost
        if isinstance(error, OSError):
            raise HipbackError(
                f"cannot write the report {quoted(path.name)} in {quoted(folder, 200)}:"
                f" {error.strerror or error}"
            ) from None
        raise
    return True


def _parsed(bank: Bank, raw: Mapping[str, str]) -> dict[str, AnswerValue]:
    from hipback.answers import parse_answers

    return parse_answers(bank, raw)
