"""Policy packs: a statute's disclosure rules as a TOML file, with a content hash.

A pack lists its rules in order — each with the statute clause it implements
and the reason code it yields — and the thresholds and allowlists those rules
read. Every decision records the pack's id, version and the sha256 of its
exact bytes, so an auditor can tell which text of the law a request was
judged under. The shipped default is `packs/irc-6103-i-2.toml`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from custos.model import PackRef, ReasonCode
from custos.policy import tomlfile
from custos.policy.statutes import normalize_statute

DEFAULT_PACK = Path(__file__).resolve().parent / "packs" / "irc-6103-i-2.toml"

RULE_IDS: tuple[str, ...] = (
    "subject-name",
    "subject-address",
    "address-sufficient",
    "purpose-criminal",
    "tax-periods-present",
    "tax-periods-valid",
    "statute-present",
    "statute-allowed",
    "reason-present",
    "reason-specific",
    "official-authorized",
    "official-plausible",
    "request-id-unique",
)
"""Every rule the gate knows how to evaluate; a pack may use any of them, in any order."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a pack: what it checks, the clause it implements, the reason it yields."""

    id: str
    clause: str
    reason: ReasonCode
    description: str


@dataclass(frozen=True, slots=True)
class AllowedStatute:
    """A specifically designated federal criminal statute the pack allows."""

    cite: str
    title: str

    @property
    def canonical(self) -> str:
        return normalize_statute(self.cite)


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """The decision rule's numbers (custos.match.decide.Thresholds; docs/matching.md).

    `threshold` is the probability to disclose, `review_threshold` the one
    below which nothing goes to an officer; the margins are in bits of match
    weight over a runner-up that passes every deterministic check
    (`margin_weight`) and over any runner-up (`margin_any_weight`).
    """

    threshold: float
    review_threshold: float
    margin_weight: float
    margin_any_weight: float


@dataclass(frozen=True, slots=True)
class Pack:
    """A validated policy pack."""

    ref: PackRef
    title: str
    rules: tuple[Rule, ...]
    criminal_purposes: frozenset[str]
    allowed_statutes: tuple[AllowedStatute, ...]
    lookback_years: int
    boilerplate_share: float
    boilerplate_min_rows: int
    max_subjects_per_official: int
    disclosure_profile: str
    disclosure_fields: tuple[str, ...]
    match: MatchSettings

    @property
    def statute_allowlist(self) -> frozenset[str]:
        """The allowed statutes in canonical form (see `statutes.normalize_statute`)."""
        return frozenset(s.canonical for s in self.allowed_statutes)

    def boilerplate_limit(self, rows: int) -> float:
        """A reason on more rows than this is boilerplate: max(min_rows, share × rows)."""
        return max(self.boilerplate_min_rows, self.boilerplate_share * rows)

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


_TOP_KEYS = (
    "pack",
    "rules",
    "purpose",
    "periods",
    "statutes",
    "boilerplate",
    "certification",
    "disclosure",
    "match",
)


def _rules(r: tomlfile.Reader, doc: tomlfile.Table) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: set[str] = set()
    codes = {c.value for c in ReasonCode}
    for i, entry in enumerate(r.tables(doc, "rules", "top level", required=True), start=1):
        where = f"rule #{i}"
        r.keys(entry, where, ("id", "clause", "reason", "description"))
        rule_id = r.text(entry, "id", where)
        where = f"rule {rule_id!r}"
        if rule_id in seen:
            raise r.fail(where, "duplicate rule id")
        if rule_id not in RULE_IDS:
            raise r.fail(where, f"unknown rule id; the gate knows {', '.join(RULE_IDS)}")
        seen.add(rule_id)
        clause = r.text(entry, "clause", where)
        reason = r.text(entry, "reason", where)
        if reason not in codes or reason == ReasonCode.MALFORMED_ROW:
            raise r.fail(where, f"unknown reason code {reason!r}")
        rules.append(
            Rule(
                id=rule_id,
                clause=clause,
                reason=ReasonCode(reason),
                description=r.text(entry, "description", where),
            )
        )
    return tuple(rules)


def _statutes(r: tomlfile.Reader, doc: tomlfile.Table) -> tuple[AllowedStatute, ...]:
    table = r.table(doc, "statutes", "top level")
    r.keys(table, "[statutes]", ("allowed",))
    allowed: list[AllowedStatute] = []
    for i, entry in enumerate(r.tables(table, "allowed", "[statutes]", required=True), start=1):
        where = f"statutes.allowed #{i}"
        r.keys(entry, where, ("cite", "title"))
        statute = AllowedStatute(
            cite=r.text(entry, "cite", where), title=r.text(entry, "title", where)
        )
        if any(s.canonical == statute.canonical for s in allowed):
            raise r.fail(where, f"{statute.cite!r} is listed twice")
        allowed.append(statute)
    return tuple(allowed)


def load_pack(path: Path | None = None) -> Pack:
    """Read and validate a pack (the shipped default when `path` is None).

    Raises PolicyError naming the file and the defect: not TOML, an unknown or
    missing key, an unknown rule id or reason code, a missing clause, a
    duplicate rule id, a threshold out of range.
    """
    path = DEFAULT_PACK if path is None else path
    data, doc = tomlfile.read(path, "pack")
    r = tomlfile.Reader(path, "pack")
    r.keys(doc, "top level", _TOP_KEYS)

    meta = r.table(doc, "pack", "top level")
    r.keys(meta, "[pack]", ("id", "version", "title"))
    ref = PackRef(
        id=r.text(meta, "id", "[pack]"),
        version=r.text(meta, "version", "[pack]"),
        sha256=hashlib.sha256(data).hexdigest(),
    )

    purpose = r.table(doc, "purpose", "top level")
    r.keys(purpose, "[purpose]", ("criminal",))
    periods = r.table(doc, "periods", "top level")
    r.keys(periods, "[periods]", ("lookback_years",))
    boilerplate = r.table(doc, "boilerplate", "top level")
    r.keys(boilerplate, "[boilerplate]", ("share", "min_rows"))
    certification = r.table(doc, "certification", "top level")
    r.keys(certification, "[certification]", ("max_subjects_per_official",))
    disclosure = r.table(doc, "disclosure", "top level")
    r.keys(disclosure, "[disclosure]", ("profile", "fields"))
    match = r.table(doc, "match", "top level")
    r.keys(
        match, "[match]", ("threshold", "review_threshold", "margin_weight", "margin_any_weight")
    )

    return Pack(
        ref=ref,
        title=r.text(meta, "title", "[pack]", required=False),
        rules=_rules(r, doc),
        criminal_purposes=frozenset(
            " ".join(p.split()).casefold() for p in r.texts(purpose, "criminal", "[purpose]")
        ),
        allowed_statutes=_statutes(r, doc),
        lookback_years=r.integer(periods, "lookback_years", "[periods]", minimum=0),
        boilerplate_share=r.number(boilerplate, "share", "[boilerplate]", low=0.0, high=1.0),
        boilerplate_min_rows=r.integer(boilerplate, "min_rows", "[boilerplate]", minimum=1),
        max_subjects_per_official=r.integer(
            certification, "max_subjects_per_official", "[certification]", minimum=1
        ),
        disclosure_profile=r.text(disclosure, "profile", "[disclosure]"),
        disclosure_fields=r.texts(disclosure, "fields", "[disclosure]"),
        match=MatchSettings(
            threshold=r.number(match, "threshold", "[match]", low=0.0, high=1.0),
            review_threshold=r.number(match, "review_threshold", "[match]", low=0.0, high=1.0),
            margin_weight=r.number(match, "margin_weight", "[match]", low=0.0, high=1e6),
            margin_any_weight=r.number(match, "margin_any_weight", "[match]", low=0.0, high=1e6),
        ),
    )
