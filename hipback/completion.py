"""Shell completion: typer's own, through click's ``_HIPBACK_COMPLETE`` variable.

``eval "$(_HIPBACK_COMPLETE=source_bash hipback)"`` in ``~/.bashrc`` (``source_zsh``,
``source_fish`` for those shells) installs it; the shell then asks ``hipback`` for
completions through the same variable. typer's completion classes are registered
only when the variable is set, so an ordinary start (``hipback --version``) loads
none of it. typer is pinned below 0.27 (pyproject.toml), whose private module this is.
"""

from __future__ import annotations

import os

COMPLETE_VAR = "_HIPBACK_COMPLETE"


def answer_if_asked() -> None:
    """Register typer's completion classes when a shell asks for a script or completions."""
    if COMPLETE_VAR in os.environ:
        from typer._completion_classes import completion_init

        completion_init()
