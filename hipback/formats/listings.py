"""Listings of the bank for people and tools: questions, CSV template, evidence.

The ``show_*`` functions write one listing on standard output: the listings of
``hipback questions`` and ``hipback evidence`` (:mod:`hipback.formats`).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from hipback.bank.model import Bank, Finding, Question, Rule
from hipback.formats.fhir import dumps, questionnaire
from hipback.formats.redcap import data_dictionary
from hipback.scoring.combinations import COMBINATIONS, implied_likelihood_ratio


def question_rows(bank: Bank) -> list[dict[str, Any]]:
    """Every question as plain data, in asking order."""
    rows = []
    for question in bank.questions:
        row: dict[str, Any] = {
            "id": question.id,
            "section": question.section,
            "type": question.type,
            "prompt": question.prompt,
        }
        if question.help:
            row["help"] = question.help
        if question.type == "integer":
            row["min"], row["max"] = question.minimum, question.maximum
        else:
            row["codes"] = [
                {"code": c.code, "label": c.label, **({"exclusive": True} if c.exclusive else {})}
                for c in question.choices
            ]
        if question.ask_when is not None:
            row["asked_when"] = question.ask_when.describe()
        rows.append(row)
    return rows


def questions_json(bank: Bank) -> str:
    return json.dumps(question_rows(bank), indent=2, ensure_ascii=False)


def csv_template(bank: Bank) -> str:
    """The header row a clinic fills in: one column per question id."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(q.id for q in bank.questions)
    return buffer.getvalue()


def _allowed(question: Question) -> str:
    if question.type == "integer":
        return f"{question.minimum}-{question.maximum}"
    return ", ".join(question.codes)


def questions_table(bank: Bank) -> Table:
    table = Table(title="hipback questions", show_lines=True)
    table.add_column("id", style="bold", no_wrap=True)
    table.add_column("type")
    table.add_column("allowed answers")
    table.add_column("question")
    for question in bank.questions:
        table.add_row(question.id, question.type, _allowed(question), question.prompt)
    return table


def _finding_name(finding: Finding) -> str:
    name = f"{finding.question_id} = {finding.code}"
    if finding.requires is not None:
        name += f" (with {finding.requires.describe()})"
    if finding.unless is not None:
        name += f" (unless {finding.unless.describe()})"
    return name


def _rule_name(rule: Rule) -> str:
    """``red_flags is cancer_history, and tingling_numbness is yes or ...``."""
    name = ", and ".join(" or ".join(r.describe() for r in g.requirements) for g in rule.when)
    if rule.unless is not None:
        name += f" (unless {rule.unless.describe()})"
    return name


def rules_table(bank: Bank) -> Table:
    """The combinations that grade warning signs or name other causes, with their sources."""
    table = Table(title="Combinations: warning-sign grades and other causes", show_lines=True)
    table.add_column("when", style="bold")
    table.add_column("grade")
    table.add_column("also consider")
    table.add_column("source")
    for rule in bank.rules:
        table.add_row(
            _rule_name(rule), rule.urgency or "-", ", ".join(rule.also_consider), rule.source
        )
    return table


def _fits(finding: Finding) -> str:
    return ", ".join(sorted(finding.sources))


def evidence_table(bank: Bank) -> Table:
    table = Table(title="hipback evidence", show_lines=True)
    table.add_column("finding", style="bold")
    table.add_column("points to")
    table.add_column("LR", justify="right")
    table.add_column("domain")
    table.add_column("source")
    for finding in bank.findings:
        table.add_row(
            _finding_name(finding),
            f"{finding.toward} ({_fits(finding)})",
            f"{finding.likelihood_ratio:g}",
            finding.domain,
            finding.source,
        )
    return table


def _hipback_figure(bank: Bank, index: int) -> str:
    ratio = implied_likelihood_ratio(bank, COMBINATIONS[index])
    return "not expressible" if ratio is None else f"{ratio:.1f}"


def combinations_table(bank: Bank) -> Table:
    """Published combinations of history findings beside hipback's figure for them."""
    table = Table(title="How sure can a questionnaire be?", show_lines=True)
    table.add_column("combination", style="bold")
    table.add_column("points to")
    table.add_column("published", justify="right")
    table.add_column("hipback", justify="right")
    table.add_column("hipback's answers; what they cannot say")
    for index, combo in enumerate(COMBINATIONS):
        answers = "; ".join(f"{k}={v}" for k, v in combo.answers.items())
        table.add_row(
            f"{combo.name}: {combo.items}",
            combo.toward,
            combo.published_text,
            _hipback_figure(bank, index),
            "; ".join(part for part in (answers, combo.not_expressed) if part),
        )
    return table


def combinations_markdown(bank: Bank) -> str:
    """The combinations table as Markdown (the README embeds this)."""
    lines = [
        "| combination (history items) | population | points to | published"
        " | hipback | hipback's answers | not expressed |",
        "|---|---|---|---|---|---|---|",
    ]
    for index, combo in enumerate(COMBINATIONS):
        answers = "<br>".join(f"`{k}={v}`" for k, v in combo.answers.items()) or "-"
        lines.append(
            f"| {_cell(combo.name)}: {_cell(combo.items)} | {_cell(combo.population)}"
            f" | {combo.toward} | {_cell(combo.published_text)} | {_hipback_figure(bank, index)}"
            f" | {answers} | {_cell(combo.not_expressed) or '-'} |"
        )
    settings = bank.settings
    lines += [
        "",
        "hipback's figure is the implied likelihood ratio (posterior odds over prior odds)"
        " of the translated answers, toward the side the combination points to."
        f" Within a domain each further finding counts {settings.domain_decay:g} times the"
        f" one before it; no answer set goes beyond {settings.most_certain:g}"
        f" ({settings.most_certain / (1 - settings.most_certain):.0f} to 1).",
    ]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def evidence_markdown(bank: Bank) -> str:
    """The evidence and red flags as Markdown tables (the README embeds this)."""
    lines = [
        "| finding | points to | likelihood ratio | domain | fits | source |",
        "|---|---|---|---|---|---|",
    ]
    for f in bank.findings:
        lines.append(
            f"| `{_cell(_finding_name(f))}` | {f.toward} | {f.likelihood_ratio:g} | {f.domain}"
            f" | {_fits(f)} | {_cell(f.source)} |"
        )
    lines += ["", "| red flag | urgency | advice | source |", "|---|---|---|---|"]
    for flag in bank.red_flags:
        lines.append(
            f"| `{flag.code}` | {flag.urgency} | {_cell(flag.advice)} | {_cell(flag.source)} |"
        )
    lines += ["", "| combination | grade | also consider | source |", "|---|---|---|---|"]
    for rule in bank.rules:
        lines.append(
            f"| `{_cell(_rule_name(rule))}` | {rule.urgency or '-'}"
            f" | {', '.join(rule.also_consider) or '-'} | {_cell(rule.source)} |"
        )
    settings = bank.settings
    lines += [
        "",
        f"Prior probability of a spinal source: {settings.prior_spine:g}."
        f" Mixed pattern: the combined findings toward each side both reach a likelihood"
        f" ratio of at least {settings.mixed_pattern_min_lr:g}.",
    ]
    return "\n".join(lines) + "\n"


# --- shown on standard output ------------------------------------------------------------


def show_questions_table(bank: Bank) -> None:
    Console().print(questions_table(bank))


def show_csv_template(bank: Bank) -> None:
    sys.stdout.write(csv_template(bank))


def show_questions_json(bank: Bank) -> None:
    print(questions_json(bank))


def show_questionnaire(bank: Bank) -> None:
    print(dumps(questionnaire(bank), indent=2))


def show_data_dictionary(bank: Bank) -> None:
    sys.stdout.write(data_dictionary(bank))


def show_evidence_tables(bank: Bank) -> None:
    console = Console()
    console.print(evidence_table(bank))
    console.print(rules_table(bank))
    console.print(combinations_table(bank))


def show_evidence_markdown(bank: Bank) -> None:
    sys.stdout.write(evidence_markdown(bank))
    sys.stdout.write("\n" + combinations_markdown(bank))
