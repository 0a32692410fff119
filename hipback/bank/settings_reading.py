"""Reads the bank-wide settings: the prior, the cut-offs, how evidence combines,
and the plain words for sources, domains and other causes."""

from __future__ import annotations

from hipback.bank.checks import Checker
from hipback.bank.model import ALSO_CONSIDER, DIRECTIONS, SOURCES, Domain, Settings, SourceInfo
from hipback.bank.wording import Wording
from hipback.bank.yaml_reading import FileReader, YamlNode
from hipback.messages import quoted

_SETTINGS_KEYS = {
    "prior_spine",
    "prior_source",
    "verdict_bands",
    "mixed_pattern_min_lr",
    "next_checks",
    "combining",
    "sources",
    "domains",
    "considerations",
    "fewest_answers",
    "stenosis_named_from_age",
}
_COMBINING_KEYS = {"domain_decay", "most_certain", "source_share_at_least"}
_COMBINING_RANGES = {
    "domain_decay": (0.0, 1.0, "from 0 to 1"),
    "most_certain": (0.5, 1.0, "above 0.5 and below 1"),
    "source_share_at_least": (0.0, 1.0, "above 0 and at most 1"),
}
_COMBINING_EXCLUDED = {
    "domain_decay": (),
    "most_certain": (0.5, 1.0),
    "source_share_at_least": (0.0,),
}
_SOURCE_KEYS = {"name", "meaning", "checks"}
_BAND_KEYS = ("spine_at_least", "leaning_spine_at_least", "leaning_hip_at_most", "hip_at_most")


class SettingsReader(Checker):
    """Reads the settings; remembers the domains evidence may name."""

    def __init__(self, wording: Wording | None) -> None:
        super().__init__(wording)
        self.domains: dict[str, Domain] = {}

    def settings(self, reader: FileReader, node: YamlNode) -> Settings | None:
        fields = self.mapping(
            reader,
            node,
            "settings",
            {"prior_spine", "verdict_bands", "mixed_pattern_min_lr"},
            _SETTINGS_KEYS - {"prior_spine", "verdict_bands", "mixed_pattern_min_lr"},
        )
        if fields is None:
            return None
        prior = self.number(reader, fields.get("prior_spine"), "prior_spine")
        if prior is not None and not 0 < prior < 1:
            reader.problem(fields["prior_spine"].line, "prior_spine must lie between 0 and 1")
            prior = None
        mixed = self.number(reader, fields.get("mixed_pattern_min_lr"), "mixed_pattern_min_lr")
        if mixed is not None and mixed <= 1:
            reader.problem(
                fields["mixed_pattern_min_lr"].line, "mixed_pattern_min_lr must be above 1"
            )
            mixed = None
        bands: dict[str, float] = {}
        band_node = fields.get("verdict_bands")
        if band_node is not None:
            band_fields = self.mapping(reader, band_node, "verdict_bands", set(_BAND_KEYS), set())
            for key in _BAND_KEYS:
                value = self.number(reader, (band_fields or {}).get(key), key)
                if value is not None:
                    bands[key] = value
            ordered = [bands.get(k) for k in reversed(_BAND_KEYS)]
            if len(bands) == len(_BAND_KEYS) and not (
                0 < ordered[0] < ordered[1] <= ordered[2] < ordered[3] < 1  # type: ignore[operator]
            ):
                reader.problem(
                    band_node.line,
                    "verdict_bands must rise: 0 < hip_at_most < leaning_hip_at_most"
                    " <= leaning_spine_at_least < spine_at_least < 1",
                )
                bands = {}
        self._texts_not_here(reader, fields, "next_checks", "sources", "considerations")
        next_checks = self._next_checks(reader, fields.get("next_checks"))
        combining = self._combining(reader, fields.get("combining"))
        sources = self._described(reader, fields.get("sources"), "sources", SOURCES)
        domains = self._domains(reader, fields.get("domains"))
        self.domains = domains
        considerations = self._described(
            reader, fields.get("considerations"), "considerations", ALSO_CONSIDER
        )
        ages: dict[str, int] = {}
        for key in ("fewest_answers", "stenosis_named_from_age"):
            value = self.integer(reader, fields.get(key), key)
            if value is not None and not 0 <= value <= 200:
                reader.problem(fields[key].line, f"{key} must lie from 0 to 200")
            elif value is not None:
                ages[key] = value
        if prior is None or mixed is None or len(bands) != len(_BAND_KEYS) or combining is None:
            return None
        return Settings(
            prior_spine=prior,
            spine_at_least=bands["spine_at_least"],
            leaning_spine_at_least=bands["leaning_spine_at_least"],
            leaning_hip_at_most=bands["leaning_hip_at_most"],
            hip_at_most=bands["hip_at_most"],
            mixed_pattern_min_lr=mixed,
            next_checks=next_checks,
            sources=sources,
            domains=domains,
            considerations=considerations,
            **combining,  # type: ignore[arg-type]
            **ages,
        )

    def _combining(self, reader: FileReader, node: YamlNode | None) -> dict[str, float] | None:
        if node is None:
            return {}
        fields = self.mapping(reader, node, "combining", set(), _COMBINING_KEYS)
        values: dict[str, float] = {}
        for key, value_node in (fields or {}).items():
            if key not in _COMBINING_KEYS:
                continue
            value = self.number(reader, value_node, f"combining.{key}")
            if value is None:
                return None
            low, high, what = _COMBINING_RANGES[key]
            if not low <= value <= high or value in _COMBINING_EXCLUDED[key]:
                reader.problem(value_node.line, f"combining.{key} must lie {what}")
                return None
            values[key] = value
        return values if fields is not None else None

    def _next_checks(self, reader: FileReader, node: YamlNode | None) -> dict[str, tuple[str, ...]]:
        """What a clinician may check next, for each side and the mixed pattern."""
        sides = (*DIRECTIONS, "mixed")
        if self.wording is not None:
            worded = {side: self.wording.texts(f"next_checks.{side}") for side in sides}
            return {side: tuple(texts) for side, texts in worded.items() if texts}
        next_checks: dict[str, tuple[str, ...]] = {}
        if node is not None:
            checks = self.mapping(reader, node, "next_checks", set(), set(sides))
            for side, items in (checks or {}).items():
                texts = [
                    self.text(reader, item, f"next_checks.{side}")
                    for item in self.items(reader, items, f"next_checks.{side}")
                ]
                next_checks[side] = tuple(t for t in texts if t)
        return next_checks

    def _described(
        self, reader: FileReader, node: YamlNode | None, where: str, known: tuple[str, ...]
    ) -> dict[str, SourceInfo]:
        """Sources (or other causes to consider) in plain words, with their checks."""
        if self.wording is not None:
            return self._worded_descriptions(self.wording, where, known)
        if node is None:
            return {}
        fields = self.mapping(reader, node, where, set(), set(known))
        built: dict[str, SourceInfo] = {}
        for key, info_node in (fields or {}).items():
            if key not in known:
                continue
            at = f"{where}.{key}"
            info = self.mapping(reader, info_node, at, {"name", "meaning"}, _SOURCE_KEYS)
            if info is None:
                continue
            name = self.text(reader, info.get("name"), f"{at}.name")
            meaning = self.text(reader, info.get("meaning"), f"{at}.meaning")
            items = self.items(reader, info["checks"], f"{at}.checks") if "checks" in info else []
            checks = [t for item in items if (t := self.text(reader, item, f"{at}.checks"))]
            if name and meaning:
                built[key] = SourceInfo(key, name, meaning, tuple(checks))
        return built

    def _worded_descriptions(
        self, wording: Wording, where: str, known: tuple[str, ...]
    ) -> dict[str, SourceInfo]:
        """:meth:`_described` from the wording file: ``<where>.<id>.name`` and so on."""
        built: dict[str, SourceInfo] = {}
        for key in known:
            at = f"{where}.{key}"
            if not wording.has(at):
                continue
            missing = (wording.reader, wording.line_of(at), at)
            name = wording.text(f"{at}.name", missing)
            meaning = wording.text(f"{at}.meaning", missing)
            checks = wording.texts(f"{at}.checks") or []
            if name and meaning:
                built[key] = SourceInfo(key, name, meaning, tuple(checks))
        return built

    def _domains(self, reader: FileReader, node: YamlNode | None) -> dict[str, Domain]:
        if node is None:
            return {}
        if self.wording is not None:
            return self._worded_domains(reader, node, self.wording)
        if not isinstance(node.value, dict):
            reader.problem(node.line, "domains must map domain ids to their titles")
            return {}
        built: dict[str, Domain] = {}
        for key, title_node in node.value.items():
            code = self.code(reader, YamlNode(key, node.key_lines[key]), "a domain id")
            title = self.text(reader, title_node, f"the title of domain {quoted(key)}")
            if code and title:
                built[code] = Domain(code, title)
        return built

    def _worded_domains(
        self, reader: FileReader, node: YamlNode, wording: Wording
    ) -> dict[str, Domain]:
        """The domain ids listed in the settings, their titles from the wording file."""
        if not isinstance(node.value, list):
            reader.problem(
                node.line,
                f"domains must list the domain ids (their titles belong in {wording.shown_name})",
            )
            return {}
        built: dict[str, Domain] = {}
        for item in node.value:
            code = self.code(reader, item, "a domain id")
            if code is None:
                continue
            if code in built:
                reader.problem(item.line, f"domain {quoted(code)} is listed twice")
                continue
            title = wording.text(f"domains.{code}", (reader, item.line, f"domain {quoted(code)}"))
            # Without its title the domain still exists: no "unknown domain" follows.
            built[code] = Domain(code, title or code)
        return built
