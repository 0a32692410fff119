"""The one error type hipback raises for anything a user should read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from hipback.messages import quoted

EXIT_OK = 0
EXIT_INVALID_ENTRIES = 1
EXIT_USAGE = 2
#: Ctrl-C; SIGTERM and SIGHUP exit with 128 + their number (143, 129), as a shell reports them.
EXIT_INTERRUPTED = 130


def exit_code_for_signal(signum: int) -> int:
    """The exit code after stopping cleanly on a signal: 128 + its number, like a shell."""
    return 128 + signum


class HipbackError(Exception):
    """A problem the user can act on; ``str(error)`` is the message to show."""

    exit_code: int = EXIT_USAGE

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in a question bank, located by file and line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class BankError(HipbackError):
    """A question bank that cannot be used; carries every problem found."""

    exit_code = EXIT_INVALID_ENTRIES

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(problems))
        count = len(self.problems)
        heading = f"the question bank has {count} problem{'s' if count != 1 else ''}:"
        super().__init__("\n".join([heading, *(f"  {p}" for p in self.problems)]))


@dataclass(frozen=True)
class AnswerProblem:
    """One answer that does not fit its question."""

    question_id: str
    value: str
    expected: str

    def __str__(self) -> str:
        return f"{self.question_id}: {quoted(self.value)} is not allowed; {self.expected}"


class AnswerError(HipbackError):
    """Answers that do not fit the question bank; carries every problem found."""

    def __init__(self, problems: Sequence[AnswerProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


@contextmanager
def reading_errors(name: str) -> Iterator[None]:
    """A failing read (an I/O error) of ``name`` as a :class:`HipbackError`, told apart
    from a failing write."""
    try:
        yield
    except OSError as error:
        raise HipbackError(f"cannot read {name}: {error.strerror or error}") from None
