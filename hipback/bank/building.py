"""Builds a :class:`Bank` from the YAML trees of its files, checking all of it.

Texts come inline from the structure files, or, in a bank with a wording
folder, from :class:`Wording` by key; either way every problem is collected
with its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hipback.bank.model import (
    ALSO_CONSIDER,
    DIRECTIONS,
    QUESTION_TYPES,
    SPINAL_SOURCES,
    Choice,
    Condition,
    Finding,
    Question,
    RedFlag,
    Requirement,
    Rule,
    Section,
)
from hipback.bank.settings_reading import SettingsReader
from hipback.bank.wording import Wording
from hipback.bank.yaml_reading import FileReader, YamlNode
from hipback.messages import did_you_mean, quoted

BANK_KEYS = {"settings", "sections", "rules"}
_RULE_KEYS = {"id", "when", "unless", "urgency", "also_consider", "advice", "source"}
_SECTION_KEYS = {"id", "title", "questions"}
_QUESTION_KEYS = {"id", "type", "prompt", "help", "choices", "min", "max", "ask_when"}
_CHOICE_KEYS = {
    "code",
    "label",
    "heading",
    "exclusive",
    "evidence",
    "note",
    "urgency",
    "advice",
    "source",
    "hide_when",
}
_YES_NO = ("yes", "no")


@dataclass
class _QuestionOutline:
    """What pass one learns of a question: enough to check references to it."""

    id: str
    type: str
    codes: tuple[str, ...]
    position: int


class Builder(SettingsReader):
    """Builds the parts of a bank; ``wording`` is None when its texts are inline."""

    def __init__(self, wording: Wording | None) -> None:
        super().__init__(wording)
        self.outlines: dict[str, _QuestionOutline] = {}

    # -- pass one: outline every question so references can be checked

    def outline(self, reader: FileReader, question: YamlNode) -> None:
        if not isinstance(question.value, dict):
            return
        qid = question.value.get("id")
        if qid is None or not isinstance(qid.value, str):
            return
        if qid.value in self.outlines:
            reader.problem(qid.line, f"duplicate question id {quoted(qid.value)}")
            return
        qtype = question.value.get("type")
        codes: tuple[str, ...] = _YES_NO if qtype is not None and qtype.value == "yesno" else ()
        choices = question.value.get("choices")
        if choices is not None and isinstance(choices.value, list) and not codes:
            codes = tuple(
                c.value["code"].value
                for c in choices.value
                if isinstance(c.value, dict)
                and "code" in c.value
                and isinstance(c.value["code"].value, str)
            )
        self.outlines[qid.value] = _QuestionOutline(
            qid.value, qtype.value if qtype else "", codes, len(self.outlines)
        )

    # -- pass two: build

    def rule(self, reader: FileReader, node: YamlNode) -> Rule | None:
        fields = self.mapping(reader, node, "a rule", {"id", "when", "source"}, _RULE_KEYS)
        if fields is None:
            return None
        rid = self.code(reader, fields.get("id"), "a rule id")
        where = f"rule '{rid}'"
        groups_node = fields.get("when")
        groups: list[Condition] = []
        if groups_node is not None:
            items = groups_node.value if isinstance(groups_node.value, list) else [groups_node]
            for item in items:
                group = self.condition(reader, item, f"when of {where}", None)
                if group is not None:
                    groups.append(group)
        unless = None
        if "unless" in fields:
            unless = self.condition(reader, fields["unless"], f"unless of {where}", None)
        urgency = self.urgency(reader, fields.get("urgency"), where)
        if "urgency" in fields and "advice" not in fields and self.wording is None:
            reader.problem(fields["urgency"].line, f"{where} has an urgency: add 'advice'")
        also: list[str] = []
        if "also_consider" in fields:
            also_node = fields["also_consider"]
            for item in also_node.value if isinstance(also_node.value, list) else [also_node]:
                code = self.code(reader, item, f"also_consider of {where}")
                if code is not None and code not in ALSO_CONSIDER:
                    reader.problem(
                        item.line,
                        f"also_consider of {where}: unknown {quoted(code)}"
                        f"{did_you_mean(code, ALSO_CONSIDER)} (known: {', '.join(ALSO_CONSIDER)})",
                    )
                elif code is not None:
                    also.append(code)
        if urgency is None and not also and "urgency" not in fields:
            reader.problem(node.line, f"{where} needs 'urgency', 'also_consider' or both")
        advice = (
            self.worded(
                reader,
                fields,
                "advice",
                f"rules.{rid}.advice",
                f"advice of {where}",
                fields["urgency"].line if "urgency" in fields else node.line,
                required="urgency" in fields,
            )
            if rid is not None or self.wording is None
            else None
        )
        source = self.text(reader, fields.get("source"), f"source of {where}")
        if rid is None or source is None or len(groups) != len(items if groups_node else []):
            return None
        return Rule(
            rid,
            tuple(groups),
            unless,
            urgency,
            tuple(sorted(also, key=ALSO_CONSIDER.index)),
            advice,
            source,
        )

    def condition(
        self, reader: FileReader, node: YamlNode, where: str, before: int | None
    ) -> Condition | None:
        """``before``: the position the referenced questions must precede (None: any)."""
        if not isinstance(node.value, dict) or not node.value:
            reader.problem(node.line, f"{where} must map question ids to the codes that satisfy it")
            return None
        requirements = []
        for qid, target in node.value.items():
            line = node.key_lines[qid]
            outline = self.outlines.get(qid)
            if outline is None:
                reader.problem(line, f"{where} names unknown question {quoted(qid)}")
                continue
            if before is not None and outline.position >= before:
                reader.problem(
                    line, f"{where} names {quoted(qid)}, which is not asked before this question"
                )
                continue
            if outline.type == "integer":
                bounds = self.mapping(reader, target, f"{where}.{qid}", set(), {"min", "max"})
                if bounds is not None and not bounds:
                    reader.problem(target.line, f"{where}.{qid} needs min or max")
                if bounds:
                    requirements.append(
                        Requirement(
                            qid,
                            minimum=self.integer(reader, bounds.get("min"), "min"),
                            maximum=self.integer(reader, bounds.get("max"), "max"),
                        )
                    )
                continue
            targets = target.value if isinstance(target.value, list) else [target]
            codes = set()
            for item in targets:
                code = self.code(reader, item, f"{where}.{qid}")
                if code is not None and code not in outline.codes:
                    reader.problem(item.line, f"{where}: '{code}' is not a code of '{qid}'")
                elif code is not None:
                    codes.add(code)
            if codes:
                requirements.append(Requirement(qid, codes=frozenset(codes)))
        return Condition(tuple(requirements)) if requirements else None

    def finding(
        self, reader: FileReader, node: YamlNode, qid: str, code: str, worded_reason: str | None
    ) -> Finding | None:
        """One piece of evidence; ``worded_reason``: its reason from the wording file."""
        where = f"evidence of {qid}={code}"
        fields = self.mapping(
            reader,
            node,
            where,
            {"toward", "lr", "source"} | self.inline("reason"),
            {"group", "domain", "sources", "requires", "unless", "reason"},
        )
        if fields is None:
            return None
        toward = self.code(reader, fields.get("toward"), f"{where}: toward")
        if toward is not None and toward not in DIRECTIONS:
            reader.problem(
                fields["toward"].line, f"{where}: toward must be spine or hip, not '{toward}'"
            )
            toward = None
        lr = self.number(reader, fields.get("lr"), f"{where}: lr")
        if lr is not None and lr <= 0:
            reader.problem(
                fields["lr"].line, f"{where}: the likelihood ratio must be above 0, not {lr:g}"
            )
            lr = None
        elif lr is not None and lr < 1:
            reader.problem(
                fields["lr"].line,
                f"{where}: a likelihood ratio below 1 points away from '{toward}';"
                f" point toward the other side with {1 / lr:.2g}",
            )
            lr = None
        if self.wording is None:
            reason = self.text(reader, fields.get("reason"), f"{where}: reason")
        else:
            reason = worded_reason
            if "reason" in fields:
                reader.problem(
                    fields["reason"].line,
                    f"{where}: the reason belongs in {self.wording.shown_name},"
                    f" as {quoted(f'questions.{qid}.reasons.{code}')}",
                )
        source = self.text(reader, fields.get("source"), f"{where}: source")
        group = (
            self.code(reader, fields.get("group"), f"{where}: group")
            if "group" in fields
            else f"{qid}.{code}"
        )
        domain = (
            self.code(reader, fields.get("domain"), f"{where}: domain")
            if "domain" in fields
            else group
        )
        if "domain" in fields and domain is not None and domain not in self.domains:
            known = ", ".join(self.domains) or "none are declared in settings.domains"
            reader.problem(
                fields["domain"].line, f"{where}: unknown domain '{domain}' (known: {known})"
            )
            domain = None
        sources = self._finding_sources(reader, fields.get("sources"), where, toward)
        conditions: dict[str, Condition | None] = {}
        for key in ("requires", "unless"):
            if key in fields:
                conditions[key] = self.condition(reader, fields[key], f"{where}: {key}", None)
                if conditions[key] is None:
                    return None
        if (
            toward is None
            or lr is None
            or reason is None
            or source is None
            or group is None
            or domain is None
            or sources is None
        ):
            return None
        return Finding(
            qid,
            code,
            toward,
            lr,
            group,
            reason,
            source,
            conditions.get("requires"),
            conditions.get("unless"),
            domain,
            sources,
        )

    def _finding_sources(
        self, reader: FileReader, node: YamlNode | None, where: str, toward: str | None
    ) -> frozenset[Any] | None:
        """The specific sources a finding fits; by default every source of its side."""
        allowed = SPINAL_SOURCES if toward == "spine" else ("hip_joint",)
        if node is None:
            return frozenset(allowed)
        items = node.value if isinstance(node.value, list) else [node]
        codes = set()
        for item in items:
            code = self.code(reader, item, f"{where}: sources")
            if code is None:
                return None
            if toward is not None and code not in allowed:
                reader.problem(
                    item.line,
                    f"{where}: '{code}' is not a source toward the {toward}"
                    f" (allowed: {', '.join(allowed)})",
                )
                return None
            codes.add(code)
        return frozenset(codes)

    def choice(self, reader: FileReader, node: YamlNode, qid: str, qtype: str) -> Choice | None:
        """One choice; ``qtype`` is empty when the question's type is unusable."""
        label_needed = qtype not in ("yesno", "")
        fields = self.mapping(
            reader,
            node,
            f"a choice of '{qid}'",
            {"code"} | (self.inline("label") if label_needed else set()),
            _CHOICE_KEYS,
        )
        if fields is None:
            return None
        code = self.code(reader, fields.get("code"), f"a choice code of '{qid}'")
        if code is None:
            return None
        at = f"questions.{qid}"
        label = self.worded(
            reader,
            fields,
            "label",
            f"{at}.choices.{code}",
            f"the label of {qid}={code}",
            node.line,
            required=label_needed,
        )
        if label is None:
            label = code.capitalize() if qtype == "yesno" else code
        exclusive = self.flag(reader, fields.get("exclusive"), f"exclusive of {qid}={code}")
        evidence_nodes: list[YamlNode] = []
        if "evidence" in fields:
            raw = fields["evidence"]
            evidence_nodes = raw.value if isinstance(raw.value, list) else [raw]
        reasons = self._reasons(
            reader, fields["evidence"].line if evidence_nodes else 0, qid, code, len(evidence_nodes)
        )
        findings = [
            self.finding(reader, e, qid, code, reason)
            for e, reason in zip(evidence_nodes, reasons, strict=True)
        ]
        note = self.worded(
            reader,
            fields,
            "note",
            f"{at}.notes.{code}",
            f"the note of {qid}={code}",
            node.line,
            required=False,
        )
        red_flag = None
        if "urgency" in fields:
            urgency = self.urgency(reader, fields["urgency"], f"{qid}={code}")
            for key in ("source", *self.inline("advice")):
                if key not in fields:
                    reader.problem(fields["urgency"].line, f"red flag {qid}={code} needs '{key}'")
            advice = self.worded(
                reader,
                fields,
                "advice",
                f"{at}.advice.{code}",
                f"advice of {qid}={code}",
                fields["urgency"].line,
            )
            source = self.text(reader, fields.get("source"), f"source of {qid}={code}")
            if urgency and advice and source:
                red_flag = RedFlag(code, urgency, advice, source)
        elif "advice" in fields or "source" in fields:
            key = "advice" if "advice" in fields else "source"
            reader.problem(
                fields[key].line, f"'{key}' of {qid}={code} belongs to a red flag: add 'urgency'"
            )
        if exclusive:
            if qtype and qtype != "multi":
                reader.problem(
                    fields["exclusive"].line,
                    f"exclusive is for multiple-choice questions; '{qid}' is {qtype}",
                )
            if evidence_nodes or "urgency" in fields:
                reader.problem(
                    fields["exclusive"].line,
                    f"{qid}={code} stands alone, so it cannot carry evidence or a red flag",
                )
        heading = self.worded(
            reader,
            fields,
            "heading",
            f"{at}.headings.{code}",
            f"the heading of {qid}={code}",
            node.line,
            required=False,
        )
        hide_when = self._hide_when(reader, node, qid, code, qtype)
        return Choice(
            code,
            label,
            exclusive,
            tuple(f for f in findings if f is not None),
            note,
            red_flag,
            heading,
            hide_when,
        )

    def _hide_when(
        self, reader: FileReader, choice: YamlNode, qid: str, code: str, qtype: str
    ) -> Condition | None:
        """When a choice is not offered: answers to questions asked before its own."""
        node = choice.value.get("hide_when")
        if node is None:
            return None
        if qtype and qtype not in ("single", "multi"):
            reader.problem(
                choice.key_lines["hide_when"],
                f"hide_when is for single and multiple choices; '{qid}' is {qtype}",
            )
            return None
        outline = self.outlines.get(qid)
        return self.condition(
            reader,
            node,
            f"hide_when of {qid}={code}",
            outline.position if outline is not None else None,
        )

    def _reasons(
        self, reader: FileReader, line: int, qid: str, code: str, count: int
    ) -> list[str | None]:
        """The reasons of a choice's ``count`` pieces of evidence from the wording file
        (one text, or a list of one for each); all None when texts are inline."""
        if self.wording is None or not count:
            return [None] * count
        key = f"questions.{qid}.reasons.{code}"
        if count == 1 or not self.wording.has(key):
            what = f"the reason of the evidence of {qid}={code}"
            return [self.wording.text(key, (reader, line, what))] + [None] * (count - 1)
        texts = self.wording.texts(key, count)
        return list(texts) if texts is not None else [None] * count

    def question(self, reader: FileReader, node: YamlNode, section: str) -> Question | None:
        fields = self.mapping(
            reader, node, "a question", {"id", "type"} | self.inline("prompt"), _QUESTION_KEYS
        )
        if fields is None:
            return None
        qid = self.code(reader, fields.get("id"), "a question id")
        if qid is None:
            return None
        where = f"question '{qid}'"
        qtype = self.code(reader, fields.get("type"), f"the type of {where}")
        if qtype is not None and qtype not in QUESTION_TYPES:
            reader.problem(
                fields["type"].line,
                f"the type of {where} must be one of {', '.join(QUESTION_TYPES)}, not '{qtype}'"
                + did_you_mean(qtype, QUESTION_TYPES),
            )
            qtype = None
        at = f"questions.{qid}"
        line = fields["id"].line
        prompt = self.worded(
            reader, fields, "prompt", f"{at}.prompt", f"the prompt of {where}", line
        )
        help_text = self.worded(
            reader, fields, "help", f"{at}.help", f"the help of {where}", line, required=False
        )
        minimum = maximum = None
        choices: list[Choice] = []
        if qtype == "integer":
            for key in ("choices",):
                if key in fields:
                    reader.problem(
                        fields[key].line, f"{where} is an integer question: it has no choices"
                    )
            for key in ("min", "max"):
                if key not in fields:
                    reader.problem(fields["id"].line, f"{where} is missing '{key}'")
            minimum = self.integer(reader, fields.get("min"), f"min of {where}")
            maximum = self.integer(reader, fields.get("max"), f"max of {where}")
            if minimum is not None and maximum is not None and minimum > maximum:
                reader.problem(fields["min"].line, f"min of {where} is above its max")
        elif qtype is not None:
            for key in ("min", "max"):
                if key in fields:
                    reader.problem(fields[key].line, f"'{key}' is only for integer questions")
            choices = self.choices(reader, fields, qid, qtype)
        else:  # no usable type: still check all that does not depend on it
            for key in ("min", "max"):
                self.integer(reader, fields.get(key), f"{key} of {where}")
            if "choices" in fields:
                self.choices(reader, fields, qid, "")
        ask_when = None
        if "ask_when" in fields:
            ask_when = self.condition(
                reader,
                fields["ask_when"],
                f"ask_when of {where}",
                self.outlines[qid].position if qid in self.outlines else None,
            )
        if qtype is None or prompt is None:
            return None
        return Question(
            qid,
            qtype,
            prompt,
            section,
            help_text,
            tuple(choices),
            minimum,
            maximum,
            ask_when,
        )

    def section(self, reader: FileReader, node: YamlNode, known: set[str]) -> Section | None:
        """One section and its questions; ``known``: the section ids read so far."""
        fields = self.mapping(
            reader, node, "a section", {"id", "questions"} | self.inline("title"), _SECTION_KEYS
        )
        if fields is None:
            return None
        sid = self.code(reader, fields.get("id"), "a section id")
        if sid is not None and sid in known:
            reader.problem(fields["id"].line, f"duplicate section id '{sid}'")
        title = (
            self.worded(
                reader,
                fields,
                "title",
                f"sections.{sid}.title",
                f"the title of section '{sid}'",
                fields["id"].line if "id" in fields else node.line,
            )
            if sid is not None or self.wording is None
            else None
        )
        questions = []
        for qnode in (
            self.items(reader, fields["questions"], f"the questions of section '{sid}'")
            if "questions" in fields
            else []
        ):
            question = self.question(reader, qnode, sid or "")
            if question is not None:
                questions.append(question)
        if sid is None or title is None:
            return None
        return Section(sid, title, tuple(questions))

    def choices(
        self, reader: FileReader, fields: dict[str, YamlNode], qid: str, qtype: str
    ) -> list[Choice]:
        nodes = (
            self.items(reader, fields["choices"], f"the choices of '{qid}'")
            if "choices" in fields
            else []
        )
        if "choices" not in fields and qtype != "yesno":
            reader.problem(fields["id"].line, f"question '{qid}' is missing 'choices'")
        built: dict[str, Choice] = {}
        for node in nodes:
            choice = self.choice(reader, node, qid, qtype)
            if choice is None:
                continue
            if choice.code in built:
                reader.problem(node.line, f"duplicate code '{choice.code}' in '{qid}'")
            elif qtype == "yesno" and choice.code not in _YES_NO:
                reader.problem(node.line, f"'{qid}' is a yes/no question: its codes are yes and no")
            else:
                built[choice.code] = choice
        if qtype == "yesno":
            return [built.get(code) or Choice(code, code.capitalize()) for code in _YES_NO]
        if nodes and len(nodes) < 2 and qtype:
            reader.problem(fields["choices"].line, f"'{qid}' needs at least two choices")
        return list(built.values())
