"""The disclosure rule: deterministic evidence first, the model's score second, a margin.

After the Ministry of Justice's uk_address_matcher: scored request × address
pairs are aggregated to request × taxpayer (the taxpayer's best address), and
a request is disclosed only when

1. *deterministic stage* — on the standardised columns, not on a score: the
   requester's address agrees with an address in that taxpayer's own history
   (house number and street, and ZIP or city, and no clashing unit); the name
   agrees (a surname token in common, and the given name exact, a nickname,
   an initial or a close spelling — or the two swapped); the DOB does not
   contradict; a suffix the request names is the record's; and the taxpayer
   carries no (i)(6) disclosure block;
2. *probabilistic stage* — the taxpayer's match probability reaches the
   disclose threshold, and no other taxpayer could also be the person: none
   that nothing on the request rules out scores within `margin` bits of the
   best, and none at all within `margin_any` bits.

A rival is ruled out only by a contradiction, read generously (see
`could_also_be`): accepting the best is strict, ruling others out is not. A
taxpayer the request contradicts outright (`ruled_out`) is looked past even
when the model ranks them first: the best is the first taxpayer that could
be the person. A TIN agreement only adds weight and can rule a rival out;
without the address and the name nothing is released.

Some matches go to an officer even when nothing contradicts them: a DOB one
digit or a transposition away from the record; a name that agrees only
through the record's second given name (except for María, José and the
like); and a given name only *close* in spelling to the record's that is
itself some taxpayer's name (CHRISTIAN for CHRISTINE: more likely a
housemate who is not in the file than a typo; JAMDS for JAMES is a typo),
unless the DOB or the TIN agrees; a one-slip `typo` on a short name that is
itself some taxpayer's name (JOAN for JOHN), whatever the DOB or TIN; and a
`truncated` given name (LEO for LEONARDO) unless the DOB or TIN agrees and
the short form is no taxpayer's name (a truncation hides the sex: DANI). Anything else is `no_match`, or
`ambiguous` — for an officer, never for release — when the best candidate
passes stage 1 but cannot be told apart from another taxpayer, or its
probability sits between the review and the disclose thresholds.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from custos.match import predicates as p
from custos.match.prepare import check_std
from custos.model import Decision, Outcome
from custos.standardize.names import (
    StdName,
    name_agreement,
    standardize_name,
    surname_overlap,
    surname_slip,
)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The decision's numbers; defaults measured on generated worlds (docs/matching.md).

    Margins are in bits of match weight (10 bits: the best taxpayer is about a
    thousand times likelier). `margin` is required over every other taxpayer
    that nothing on the request rules out (`could_also_be`); `margin_any`
    over every other taxpayer at all. Measured: a rival nothing rules out
    scored up to 19 bits below the best (Jr/Sr whose records differ in detail
    the request does not contradict), so `margin` is 30; `margin_any` only
    ever cost recall, so it is 0.
    """

    disclose_probability: float = 0.999
    review_probability: float = 0.9
    margin: float = 30.0
    margin_any: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.review_probability <= self.disclose_probability <= 1.0:
            raise ValueError("thresholds must satisfy 0 <= review <= disclose <= 1")
        if not 0 <= self.margin_any <= self.margin:
            raise ValueError("the margins must satisfy 0 <= margin_any <= margin")


class Agreement(StrEnum):
    """How an optional identifier on the request compares with the taxpayer's."""

    AGREES = "agrees"
    CLOSE = "close"
    CONFLICTS = "conflicts"
    ABSENT = "absent"


class Reason(StrEnum):
    """Why a request was not disclosed; recorded as evidence, never shown to a requester."""

    NO_CANDIDATE = "no_candidate"
    BELOW_REVIEW_THRESHOLD = "below_review_threshold"
    ADDRESS_NOT_IN_HISTORY = "address_not_in_history"
    NAME_DISAGREES = "name_disagrees"
    DOB_CONFLICTS = "dob_conflicts"
    SUFFIX_CONFLICTS = "suffix_conflicts"
    DISCLOSURE_BLOCK = "disclosure_block"
    INDISTINGUISHABLE = "indistinguishable"
    GREY_ZONE = "grey_zone"
    DOB_ONLY_CLOSE = "dob_only_close"
    GIVEN_NAME_ONLY_CLOSE = "given_name_only_close"
    GIVEN_NAME_TRUNCATED = "given_name_truncated"
    SECOND_GIVEN_NAME_ONLY = "second_given_name_only"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One taxpayer for one request: the model's best address and the deterministic checks.

    `agreeing_address` is the master row (in the taxpayer's history) the
    requester's address agrees with, "" if none does; `name_level` is the
    given-name level of `custos.standardize.names.name_agreement`;
    `given_is_a_known_name` whether the request's given name is some taxpayer's
    given name in the master file (then a *close* spelling of this taxpayer's
    name is more likely another person than a typo).
    """

    tin: str
    master_id: str
    match_weight: float
    match_probability: float
    address_agrees: bool
    agreeing_address: str
    name_agrees: bool
    dob: Agreement
    tin_evidence: Agreement
    suffix_conflict: bool
    blocked: bool
    name_level: str = ""
    given_is_a_known_name: bool = False
    by_second_name: bool = False
    name_compatible: bool = True

    def failed_checks(self) -> tuple[Reason, ...]:
        """The deterministic checks this candidate fails, in a fixed order."""
        failed = []
        if not self.address_agrees:
            failed.append(Reason.ADDRESS_NOT_IN_HISTORY)
        if not self.name_agrees:
            failed.append(Reason.NAME_DISAGREES)
        if self.dob is Agreement.CONFLICTS:
            failed.append(Reason.DOB_CONFLICTS)
        if self.suffix_conflict:
            failed.append(Reason.SUFFIX_CONFLICTS)
        return tuple(failed)


@dataclass(frozen=True, slots=True)
class MatchEvidence:
    """What the decision saw: the best and runner-up taxpayers, and why it went as it did."""

    best: Candidate | None = None
    runner_up: Candidate | None = None
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchDecision:
    """The match stage's outcome for one request.

    `tin` is set only when disclosed; `candidates` only when ambiguous (best
    first). `margin` is the best taxpayer's weight minus the runner-up's, in
    bits, or None when no other taxpayer was scored.
    """

    request_id: str
    outcome: Outcome
    tin: str = ""
    candidates: tuple[str, ...] = ()
    match_probability: float | None = None
    margin: float | None = None
    evidence: MatchEvidence = field(default_factory=MatchEvidence)

    def as_decision(self, row: int) -> Decision:
        return Decision(
            row=row,
            request_id=self.request_id,
            outcome=self.outcome,
            tin=self.tin,
            candidates=self.candidates,
            match_probability=self.match_probability,
            margin=self.margin,
        )


def could_also_be(rival: Candidate, best: Candidate) -> bool:
    """Whether nothing on the request rules `rival` out, so it could be the person too.

    Ruling a rival out must be as cautious as accepting the best is strict:
    a rival stays in play unless its history lacks the address, its name is
    not even `name_compatible` with the request (a middle name counts by its
    initial only, a truncation or a sound-alike is compatible), its DOB or
    suffix contradicts the request, or the request's TIN is the best
    candidate's and not the rival's. That is the only way a TIN counts here:
    it can tell two people apart, never make anyone the person.
    """
    if not rival.address_agrees or not rival.name_compatible:
        return False
    if rival.dob is Agreement.CONFLICTS or rival.suffix_conflict:
        return False
    return not (best.tin_evidence is Agreement.AGREES and rival.tin_evidence is Agreement.CONFLICTS)


def ruled_out(candidate: Candidate) -> bool:
    """Whether the request itself contradicts this taxpayer: the address is not in their
    history, the name is not even `name_compatible`, or the DOB or suffix conflicts.

    Such a taxpayer cannot be the person however high the model scores them
    (HELEN RAMOS-RUIZ for a request naming TERESA RAMOS RUIZ: two surname
    tokens in common outweigh a given name that differs), so the decision
    looks past them to the best taxpayer that could be.
    """
    return (
        not candidate.address_agrees
        or not candidate.name_compatible
        or candidate.dob is Agreement.CONFLICTS
        or candidate.suffix_conflict
    )


def decide_request(
    request_id: str, candidates: Sequence[Candidate], thresholds: Thresholds = Thresholds()
) -> MatchDecision:
    """Apply the rule to one request's candidates (any order; ranked here by weight, then TIN).

    The best candidate is the highest-ranked one the request does not rule out
    (`ruled_out`); taxpayers ranked above it are ruled out and never contend.
    `margin` is then the best's weight minus the next-ranked other taxpayer's,
    and may be negative when a ruled-out taxpayer scored higher.
    """
    ranked = sorted(candidates, key=lambda c: (-c.match_weight, c.tin))
    if not ranked:
        return MatchDecision(
            request_id, Outcome.NO_MATCH, evidence=MatchEvidence(reasons=(Reason.NO_CANDIDATE,))
        )
    best = next((c for c in ranked if not ruled_out(c)), ranked[0])
    others = [c for c in ranked if c is not best]
    runner_up = others[0] if others else None
    margin = best.match_weight - runner_up.match_weight if runner_up else None

    def result(
        outcome: Outcome, *reasons: Reason, tin: str = "", among: Iterable[str] = ()
    ) -> MatchDecision:
        return MatchDecision(
            request_id=request_id,
            outcome=outcome,
            tin=tin,
            candidates=tuple(among),
            match_probability=best.match_probability,
            margin=margin,
            evidence=MatchEvidence(best=best, runner_up=runner_up, reasons=reasons),
        )

    if best.match_probability < thresholds.review_probability:
        return result(Outcome.NO_MATCH, Reason.BELOW_REVIEW_THRESHOLD)
    failed = best.failed_checks()
    if failed:
        return result(Outcome.NO_MATCH, *failed)
    below = ranked[ranked.index(best) + 1 :]
    contenders = [best] + [
        c
        for c in below
        if best.match_weight - c.match_weight < thresholds.margin_any
        or (best.match_weight - c.match_weight < thresholds.margin and could_also_be(c, best))
    ]
    if any(c.blocked for c in contenders):
        return result(Outcome.NO_MATCH, Reason.DISCLOSURE_BLOCK)
    if len(contenders) > 1:
        return result(
            Outcome.AMBIGUOUS, Reason.INDISTINGUISHABLE, among=[c.tin for c in contenders]
        )
    if best.match_probability < thresholds.disclose_probability:
        return result(Outcome.AMBIGUOUS, Reason.GREY_ZONE, among=[best.tin])
    if best.dob is Agreement.CLOSE:
        return result(Outcome.AMBIGUOUS, Reason.DOB_ONLY_CLOSE, among=[best.tin])
    if best.by_second_name:
        return result(Outcome.AMBIGUOUS, Reason.SECOND_GIVEN_NAME_ONLY, among=[best.tin])
    corroborated = Agreement.AGREES in (best.dob, best.tin_evidence)
    if (best.name_level == "close" and best.given_is_a_known_name and not corroborated) or (
        best.name_level == "typo" and best.given_is_a_known_name
    ):
        return result(Outcome.AMBIGUOUS, Reason.GIVEN_NAME_ONLY_CLOSE, among=[best.tin])
    if best.name_level == "truncated" and (best.given_is_a_known_name or not corroborated):
        return result(Outcome.AMBIGUOUS, Reason.GIVEN_NAME_TRUNCATED, among=[best.tin])
    return result(Outcome.DISCLOSED, tin=best.tin)


def candidates_table(
    pairs: pa.Table,
    requests_std: pa.Table,
    master_std: pa.Table,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pa.Table:
    """The deterministic stage: one row per request × taxpayer with the checks evaluated.

    The address check runs against *every* address in the taxpayer's history,
    not only the rows that happened to be scored. `con` (a cursor of the
    caller's database) spares a real-time request the 30 ms of CPU a new
    DuckDB database costs; the tables are registered on it as views.
    """
    check_std(requests_std, "requests")
    check_std(master_std, "master")
    con = con or duckdb.connect()
    con.register(
        "pairs",
        pairs.select(["request_id", "master_id", "tin", "match_weight", "match_probability"]),
    )
    con.register("q", requests_std)
    con.register("m", master_std)
    table: pa.Table = con.sql(
        f"""
        WITH per_taxpayer AS (
            SELECT request_id, tin,
                   first(master_id ORDER BY match_weight DESC, master_id) AS master_id,
                   max(match_weight) AS match_weight,
                   max(match_probability) AS match_probability
            FROM pairs GROUP BY request_id, tin
        ),
        history AS (
            SELECT c.request_id, c.tin,
                   min(m.unique_id) FILTER (WHERE {p.address_agrees("q", "m")}) AS agreeing_address
            FROM per_taxpayer c
            JOIN q ON q.unique_id = c.request_id
            JOIN m ON m.tin = c.tin
            GROUP BY c.request_id, c.tin
        )
        SELECT c.request_id, c.tin, c.master_id, c.match_weight, c.match_probability,
               h.agreeing_address IS NOT NULL AS address_agrees,
               coalesce(h.agreeing_address, '') AS agreeing_address,
               {_name_select()},
               CASE WHEN q.dob IS NULL OR m.dob IS NULL THEN 'absent'
                    WHEN q.dob = m.dob THEN 'agrees'
                    WHEN {p.dob_close("q", "m")} THEN 'close'
                    ELSE 'conflicts' END AS dob,
               CASE WHEN q.tin IS NULL OR m.tin IS NULL THEN 'absent'
                    WHEN q.tin = m.tin THEN 'agrees' ELSE 'conflicts' END AS tin_evidence,
               q.suffix_std IS NOT NULL AND q.suffix_std IS DISTINCT FROM m.suffix_std
                   AS suffix_conflict,
               coalesce(m.disclosure_block, false) AS blocked
        FROM per_taxpayer c
        JOIN history h USING (request_id, tin)
        JOIN q ON q.unique_id = c.request_id
        JOIN m ON m.unique_id = c.master_id
        ORDER BY c.request_id, c.match_weight DESC, c.tin
        """
    ).to_arrow_table()
    checks = _name_checks(table, _surname_tokens_of(master_std))
    known_given = frozenset(pc.unique(master_std.column("given_std")).to_pylist())
    table = table.append_column(
        "given_is_a_known_name", pa.array([c.written_given in known_given for c in checks])
    )
    table = table.drop_columns([f"{side}_{c}" for side in ("q", "m") for c in NAME_FIELDS])
    table = table.append_column("name_level", pa.array([c.level for c in checks], pa.string()))
    table = table.append_column("name_agrees", pa.array([c.agrees for c in checks], pa.bool_()))
    table = table.append_column(
        "by_second_name", pa.array([c.by_second_name for c in checks], pa.bool_())
    )
    return table.append_column(
        "name_compatible", pa.array([c.compatible for c in checks], pa.bool_())
    )


NAME_FIELDS: tuple[str, ...] = tuple(StdName.__dataclass_fields__)
AGREEING_GIVEN_LEVELS = frozenset({"exact", "nickname", "initial", "close", "typo", "truncated"})
CLEAN_GIVEN_LEVELS = frozenset({"exact", "nickname"})
"""Given-name levels with no slip in them: only with one of these may the surname carry one."""


def _name_select() -> str:
    return ", ".join(f"{side}.{c} AS {side}_{c}" for side in ("q", "m") for c in NAME_FIELDS)


LIST_NAME_FIELDS = frozenset({"given_tokens", "given_canon_set", "surname_tokens", "surname_dm"})


def _std_name(row: dict[str, Any], side: str) -> StdName:
    """Rebuild the `StdName` a standardised row was made from (NULL back to "" and ())."""
    values: dict[str, Any] = {}
    for name in NAME_FIELDS:
        value = row[f"{side}_{name}"]
        if name in LIST_NAME_FIELDS:
            values[name] = tuple(value or ())
        else:
            values[name] = value or ""
    return StdName(**values)


GOES_BY_SECOND_NAME = frozenset({"MARIA", "JOSE", "JUAN", "ANA", "MARY"})
"""First names whose bearers are commonly known by their second given name
(María Guadalupe → Guadalupe, José Luis → Luis). For anyone else, a request
naming only the record's second given name is for an officer to judge."""


@dataclass(frozen=True, slots=True)
class NameChecks:
    """The name evidence of one candidate, strict for the best, lenient for rivals."""

    level: str
    agrees: bool
    by_second_name: bool
    compatible: bool
    written_given: str = ""
    """The request's given name as the check read it (its surname, when the fields were swapped)."""


def _surname_tokens_of(master_std: pa.Table) -> frozenset[str]:
    """Every surname token in the master file: a slip that spells one of them may be that
    other family, so it never counts as a slip."""
    tokens = pc.unique(pc.list_flatten(master_std.column("surname_tokens"))).to_pylist()
    return frozenset(t for t in tokens if t)


def _name_checks(table: pa.Table, known_surnames: frozenset[str]) -> list[NameChecks]:
    """The decision's name checks per candidate.

    `agrees` (strict, for the candidate to be disclosed): the given names
    agree by `custos.standardize.names.name_agreement` (exact, nickname,
    initial, close, typo or truncated) and the surnames share a token
    (`surname_overlap`, or a surname pushed into the other's middle-name
    field) — or, when the given name agrees exactly or by nickname, a
    request surname token that is in no one's surname is one slip from the
    record's (`surname_slip`: WOKD/WOOD, not WANG/WONG) — or the two are
    swapped. `by_second_name`: the agreement rests on the record's (or the
    request's) second given name only. `compatible` (lenient, for a rival
    to be ruled *out* it must fail this): see `_compatible`.
    """
    requests: dict[str, StdName] = {}
    masters: dict[str, StdName] = {}
    out: list[NameChecks] = []
    rows = table.select(
        ["request_id", "master_id", *[f"{s}_{c}" for s in ("q", "m") for c in NAME_FIELDS]]
    )
    for row in rows.to_pylist():
        q = requests.get(row["request_id"]) or requests.setdefault(
            row["request_id"], _std_name(row, "q")
        )
        m = masters.get(row["master_id"]) or masters.setdefault(
            row["master_id"], _std_name(row, "m")
        )
        written = q
        level, agrees = _strict_agreement(q, m, known_surnames)
        if not agrees:
            crosswise = _fields_swapped(q)
            level_x, agrees_x = _strict_agreement(crosswise, m, known_surnames)
            if agrees_x and level_x in SWAPPED_GIVEN_LEVELS:
                written, level, agrees = crosswise, level_x, True
        by_second = (
            level == "nickname"
            and not set(written.given_canon_set) & set(m.given_canon_set)
            and written.given_std not in GOES_BY_SECOND_NAME
            and m.given_std not in GOES_BY_SECOND_NAME
        )
        compatible = agrees or _compatible(q, m)
        out.append(NameChecks(level, agrees, by_second, compatible, written.given_std))
    return out


SWAPPED_GIVEN_LEVELS = frozenset({"exact", "nickname", "initial", "close"})
"""Given-name levels accepted when the request's name fields are read the other way round:
no typo or truncation on top of the swap."""


def _strict_agreement(q: StdName, m: StdName, known_surnames: frozenset[str]) -> tuple[str, bool]:
    level = name_agreement(q, m)
    surnames = (
        surname_overlap(q, m)
        or _surname_in_middle(q, m)
        or (level in CLEAN_GIVEN_LEVELS and surname_slip(q, m, known_surnames))
    )
    return level, level == "swapped" or (level in AGREEING_GIVEN_LEVELS and surnames)


@functools.lru_cache(maxsize=1 << 16)
def _fields_swapped(q: StdName) -> StdName:
    """The request with first and last name read the other way round (IYER SURRSH,
    OCAMPO V. J, RIVERA D. ROLY): its surname becomes the given name, its given
    names the surname, and middle initials stay middle initials."""
    initials = [t for t in q.given_tokens[1:] if len(t) == 1]
    names = [t for t in q.given_tokens if len(t) > 1]
    return standardize_name(
        " ".join(q.surname_tokens), " ".join(initials), " ".join(names), q.suffix_std
    )


def _compatible(q: StdName, m: StdName) -> bool:
    """Whether the name on the request could still be `m`'s, read generously.

    Used only to keep a rival in play, never to disclose: a middle name is
    compared by its initial only, and not at all when the middle-name field
    holds a surname (RICARDO G. GARCIA CARRILLO); a given name also counts when one is a
    truncation of the other (NANDO, FERNANDO), sounds alike, or is one of the
    other's given names — but never a masculine/feminine pair; a surname also
    counts when the names run together (DELAGARZA, DE LA GARZA) or sound
    alike; and given name and surname may be swapped.
    """
    swapped = bool(set(q.given_tokens) & set(m.surname_tokens)) and bool(
        set(q.surname_tokens) & set(m.given_tokens)
    )
    return swapped or (_given_compatible(q, m) and _surname_compatible(q, m))


def _gendered(x: str, y: str) -> bool:
    """Masculine/feminine pairs (DANIEL/DANIELA, MARIO/MARIA): different people, often
    siblings or a couple at one address, however alike they look."""
    short, long_ = sorted((x, y), key=len)
    if long_ == short + "A" and not short.endswith("A"):
        return True
    return len(x) == len(y) and x[:-1] == y[:-1] and {x[-1], y[-1]} in ({"A", "O"}, {"A", "E"})


def _given_compatible(q: StdName, m: StdName) -> bool:
    x, y = q.given_std, m.given_std
    if not x or not y:
        return True
    if _gendered(x, y):
        return False
    if name_agreement(_without_middle(q), _without_middle(m)) != "none":
        mq, mm = q.middle_std[:1], m.middle_std[:1]
        return _surname_in_middle(q, m) or not (mq and mm and mq != mm)
    short, long_ = sorted((x, y), key=len)
    return (
        (len(short) >= 3 and (long_.startswith(short) or long_.endswith(short)))
        or (bool(q.given_dm) and q.given_dm == m.given_dm)
        or x in m.given_tokens
        or y in q.given_tokens
    )


def _surname_compatible(q: StdName, m: StdName) -> bool:
    if not q.surname_tokens or not m.surname_tokens:
        return True
    if surname_overlap(q, m) or _surname_in_middle(q, m) or surname_slip(q, m, frozenset()):
        return True
    if set(q.surname_dm) & set(m.surname_dm):
        return True
    joined_q, joined_m = "".join(q.surname_tokens), "".join(m.surname_tokens)
    return any(len(t) >= 3 and t in joined_q for t in m.surname_tokens) or any(
        len(t) >= 3 and t in joined_m for t in q.surname_tokens
    )


def _without_middle(name: StdName) -> StdName:
    return replace(name, middle_std="", given_tokens=name.given_tokens[:1])


def _surname_in_middle(q: StdName, m: StdName) -> bool:
    """A surname of one written in the other's middle-name field (WILLIE JUAREZ MORALES
    for WILLIAM JUAREZ; a maternal surname filed as a middle name)."""
    return bool(set(q.given_tokens[1:]) & set(m.surname_tokens)) or bool(
        set(m.given_tokens[1:]) & set(q.surname_tokens)
    )


def candidates_by_request(table: pa.Table) -> dict[str, list[Candidate]]:
    """Group `candidates_table` rows into `Candidate`s per request id."""
    found: dict[str, list[Candidate]] = {}
    for row in table.to_pylist():
        found.setdefault(row["request_id"], []).append(
            Candidate(
                tin=row["tin"],
                master_id=row["master_id"],
                match_weight=row["match_weight"],
                match_probability=row["match_probability"],
                address_agrees=row["address_agrees"],
                agreeing_address=row["agreeing_address"],
                name_agrees=row["name_agrees"],
                name_level=row["name_level"],
                dob=Agreement(row["dob"]),
                tin_evidence=Agreement(row["tin_evidence"]),
                suffix_conflict=row["suffix_conflict"],
                blocked=row["blocked"],
                given_is_a_known_name=bool(row["given_is_a_known_name"]),
                by_second_name=row["by_second_name"],
                name_compatible=row["name_compatible"],
            )
        )
    return found


def decide(
    pairs: pa.Table,
    requests_std: pa.Table,
    master_std: pa.Table,
    thresholds: Thresholds = Thresholds(),
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> list[MatchDecision]:
    """One decision per request in `requests_std`, in its order; none is dropped."""
    found = candidates_by_request(candidates_table(pairs, requests_std, master_std, con=con))
    return [
        decide_request(rid, found.get(rid, ()), thresholds)
        for rid in requests_std.column("unique_id").to_pylist()
    ]


def decisions_table(decisions: Sequence[MatchDecision]) -> pa.Table:
    """Flat view for review files and benchmarks: outcome, TIN, candidates, score, reasons."""
    return pa.table(
        {
            "request_id": [d.request_id for d in decisions],
            "outcome": [d.outcome.value for d in decisions],
            "tin": [d.tin for d in decisions],
            "candidates": [";".join(d.candidates) for d in decisions],
            "match_probability": pa.array([d.match_probability for d in decisions], pa.float64()),
            "margin": pa.array([d.margin for d in decisions], pa.float64()),
            "best_tin": [d.evidence.best.tin if d.evidence.best else "" for d in decisions],
            "reasons": [";".join(r.value for r in d.evidence.reasons) for d in decisions],
        }
    )
