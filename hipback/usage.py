"""Usage errors (an unknown option, a missing argument, a bad choice) as one line.

click and typer print a usage line, a hint and a boxed message; hipback says
``hipback: <message> (see hipback COMMAND --help)`` on standard error and
exits 2, like its own errors.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# typer (0.26, pinned) carries its own copy of click: its exceptions are these.
from typer._click import Context
from typer._click.exceptions import Exit, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from hipback.errors import EXIT_USAGE
from hipback.messages import printable


def one_line(error: UsageError) -> str:
    """The message of a usage error as hipback prints it."""
    message = " ".join(error.format_message().split()).rstrip(".")
    if message[:1].isupper() and not message[1:2].isupper():
        message = message[0].lower() + message[1:]
    command = error.ctx.command_path.split()[1:] if error.ctx is not None else []
    return f"hipback: {printable(message)} (see {' '.join(['hipback', *command])} --help)"


@contextmanager
def _usage_errors_as_one_line() -> Iterator[None]:
    try:
        yield
    except NoArgsIsHelpError:
        raise  # `hipback` alone shows the help
    except UsageError as error:
        print(one_line(error), file=sys.stderr, flush=True)
        raise Exit(EXIT_USAGE) from None


class OneLineUsageErrors(TyperGroup):
    """The command group: usage errors, found while parsing the group's options
    or the command's (in ``make_context`` and ``invoke``), as one line."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,
    ) -> Context:
        with _usage_errors_as_one_line():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Context) -> Any:
        with _usage_errors_as_one_line():
            return super().invoke(ctx)
