"""hipback: does the pain around the hip come from the lumbar spine or the hip joint?

The library works without the command line::

    from hipback import load_bank, assess
    bank = load_bank()
    result = assess(bank, {"worst_site": "groin", "limp": "yes"})
    print(result.verdict, result.spine_probability)

Names are imported on first use, so ``hipback --version`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_bank": "bank.loader",
    "validate_bank": "bank.loader",
    "default_bank_path": "bank.loader",
    "Bank": "bank.model",
    "Question": "bank.model",
    "Finding": "bank.model",
    "assess": "scoring.engine",
    "assess_records": "records",
    "RESULT_FIELDS": "results",
    "Assessment": "scoring.engine",
    "parse_answers": "answers",
    "parse_answer": "answers",
    "HipbackError": "errors",
    "BankError": "errors",
    "AnswerError": "errors",
}

__all__ = [
    "RESULT_FIELDS",
    "AnswerError",
    "Assessment",
    "Bank",
    "BankError",
    "Finding",
    "HipbackError",
    "Question",
    "__version__",
    "assess",
    "assess_records",
    "default_bank_path",
    "load_bank",
    "parse_answer",
    "parse_answers",
    "validate_bank",
]

if TYPE_CHECKING:
    from hipback.answers import parse_answer, parse_answers
    from hipback.bank.loader import default_bank_path, load_bank, validate_bank
    from hipback.bank.model import Bank, Finding, Question
    from hipback.errors import AnswerError, BankError, HipbackError
    from hipback.records import assess_records
    from hipback.results import RESULT_FIELDS
    from hipback.scoring.engine import Assessment, assess


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hipback' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
