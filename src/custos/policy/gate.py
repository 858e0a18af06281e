"""The gate: every rule of a policy pack, applied to every request of a batch.

This is where the 2025 failures stop (DOMAIN.md): rows without a real
address, with a civil purpose, with boilerplate reasons, or certified by one
official for an implausible number of people never reach matching. Each
request gets every rule it fails, in pack order, the first being the primary
reason; a request that fails nothing passes on to matching.

A presence rule pre-empts its validity rule: a blank street is
`missing_address` only (not also `insufficient_address`), and likewise for
tax periods, statute and reason. A blank purpose fails `purpose-criminal`.

Batch-level rules need the whole batch: `reason-specific` (boilerplate),
`official-plausible` (subjects per official) and `request-id-unique`. Their
facts are gathered once into a `BatchContext`; `evaluate` without a context
(the real-time route) judges only the per-row rules and assumes the request
id is new.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from custos.errors import PolicyError
from custos.model import GateResult, Request, Subject
from custos.policy.pack import RULE_IDS, Pack
from custos.policy.periods import period_problem
from custos.policy.roster import Roster
from custos.policy.statutes import cited_statutes
from custos.standardize.addresses import address_insufficiency

_NOT_LETTER = re.compile(r"[\W\d_]+")


def reason_key(reason: str) -> str:
    """A reason with case, digits, punctuation and spacing removed, so near-verbatim copies
    ("Subject 1234 is removable." / "subject 98 is removable") count as one reason."""
    return _NOT_LETTER.sub("", reason.casefold())


def _official_key(official: str) -> str:
    return official.strip().casefold()


@dataclass(frozen=True, slots=True)
class BatchContext:
    """What the batch-level rules need to know about the whole batch.

    `boilerplate_reasons` holds reason keys (see `reason_key`) over the pack's
    limit, and `reason_verdicts` the verdict for each reason text of the batch
    as written, so the key is computed once per distinct text.
    `duplicate_rows` holds the `Request.row` of every row whose request id
    appeared on an earlier row; rows within a batch are unique (intake
    numbers them).
    """

    boilerplate_reasons: frozenset[str] = frozenset()
    reason_verdicts: Mapping[str, bool] = field(default_factory=dict)
    implausible_officials: frozenset[str] = frozenset()
    duplicate_rows: frozenset[int] = frozenset()

    def is_boilerplate(self, reason: str) -> bool:
        verdict = self.reason_verdicts.get(reason)
        if verdict is None:
            verdict = reason_key(reason) in self.boilerplate_reasons
        return verdict


def batch_context(requests: Sequence[Request], pack: Pack) -> BatchContext:
    """Gather the batch-level facts: boilerplate reasons, over-certifying officials, duplicates."""
    texts = Counter(r.reason for r in requests if r.reason.strip())
    keys = {text: reason_key(text) for text in texts}
    per_key: Counter[str] = Counter()
    for text, n in texts.items():
        per_key[keys[text]] += n
    limit = pack.boilerplate_limit(len(requests))
    boilerplate = frozenset(k for k, n in per_key.items() if n > limit)

    subjects: defaultdict[str, set[Subject]] = defaultdict(set)
    for r in requests:
        key = _official_key(r.requesting_official)
        if key:
            subjects[key].add(r.subject)

    seen: set[str] = set()
    duplicates: set[int] = set()
    for r in requests:
        rid = r.request_id.strip()
        if rid in seen:
            duplicates.add(r.row)
        seen.add(rid)
    return BatchContext(
        boilerplate_reasons=boilerplate,
        reason_verdicts={text: key in boilerplate for text, key in keys.items()},
        implausible_officials=frozenset(
            k for k, s in subjects.items() if len(s) > pack.max_subjects_per_official
        ),
        duplicate_rows=frozenset(duplicates),
    )


@dataclass(frozen=True, slots=True)
class _Env:
    pack: Pack
    roster: Roster
    agency: str
    year: int
    statutes: frozenset[str]
    context: BatchContext | None
    statute_verdicts: dict[str, bool] = field(default_factory=dict)


Check = Callable[[Request, _Env], bool]
"""True when the request *fails* the rule."""


def _name_missing(r: Request, env: _Env) -> bool:
    return not r.subject.first_name.strip() or not r.subject.last_name.strip()


def _address_missing(r: Request, env: _Env) -> bool:
    return not r.subject.street.strip()


def _address_insufficient(r: Request, env: _Env) -> bool:
    s = r.subject
    if not s.street.strip():
        return False
    return address_insufficiency(s.street, s.city, s.state, s.zip) is not None


def _purpose_not_criminal(r: Request, env: _Env) -> bool:
    return " ".join(r.purpose.split()).casefold() not in env.pack.criminal_purposes


def _periods_missing(r: Request, env: _Env) -> bool:
    return not r.tax_periods.strip()


def _periods_invalid(r: Request, env: _Env) -> bool:
    if not r.tax_periods.strip():
        return False
    return period_problem(r.tax_periods, env.year, env.pack.lookback_years) is not None


def _statute_missing(r: Request, env: _Env) -> bool:
    return not r.statute.strip()


def _statute_not_allowed(r: Request, env: _Env) -> bool:
    verdict = env.statute_verdicts.get(r.statute)
    if verdict is None:
        cited = cited_statutes(r.statute)
        verdict = bool(r.statute.strip()) and (
            not cited or any(c not in env.statutes for c in cited)
        )
        env.statute_verdicts[r.statute] = verdict
    return verdict


def _reason_missing(r: Request, env: _Env) -> bool:
    return not r.reason.strip()


def _reason_boilerplate(r: Request, env: _Env) -> bool:
    if env.context is None or not env.context.boilerplate_reasons or not r.reason.strip():
        return False
    return env.context.is_boilerplate(r.reason)


def _official_unauthorized(r: Request, env: _Env) -> bool:
    official = r.requesting_official
    return not (
        env.roster.is_authorized(official, r.agency)
        and env.roster.is_authorized(official, env.agency)
    )


def _official_implausible(r: Request, env: _Env) -> bool:
    if env.context is None:
        return False
    return _official_key(r.requesting_official) in env.context.implausible_officials


def _duplicate_id(r: Request, env: _Env) -> bool:
    return env.context is not None and r.row in env.context.duplicate_rows


CHECKS: dict[str, Check] = {
    "subject-name": _name_missing,
    "subject-address": _address_missing,
    "address-sufficient": _address_insufficient,
    "purpose-criminal": _purpose_not_criminal,
    "tax-periods-present": _periods_missing,
    "tax-periods-valid": _periods_invalid,
    "statute-present": _statute_missing,
    "statute-allowed": _statute_not_allowed,
    "reason-present": _reason_missing,
    "reason-specific": _reason_boilerplate,
    "official-authorized": _official_unauthorized,
    "official-plausible": _official_implausible,
    "request-id-unique": _duplicate_id,
}
assert set(CHECKS) == set(RULE_IDS), "every rule a pack may name has a check"


def _env(
    pack: Pack, roster: Roster, agency: str, today: date | None, context: BatchContext | None
) -> _Env:
    missing = [rule.id for rule in pack.rules if rule.id not in CHECKS]
    if missing:
        raise PolicyError(f"pack {pack.ref.id}: no check for rule(s) {', '.join(missing)}")
    return _Env(
        pack=pack,
        roster=roster,
        agency=agency.strip(),
        year=(today or date.today()).year,
        statutes=pack.statute_allowlist,
        context=context,
    )


def _judge(request: Request, env: _Env) -> GateResult:
    failed = [rule for rule in env.pack.rules if CHECKS[rule.id](request, env)]
    return GateResult(
        row=request.row,
        request_id=request.request_id,
        failed_rules=tuple(rule.id for rule in failed),
        reason_codes=tuple(rule.reason for rule in failed),
        pack=env.pack.ref,
    )


def evaluate(
    request: Request,
    pack: Pack,
    roster: Roster,
    *,
    agency: str = "",
    today: date | None = None,
    context: BatchContext | None = None,
) -> GateResult:
    """Judge one request. Without `context` the batch-level rules pass (a batch of one).

    `agency` is the requesting agency from the batch envelope; a request's own
    `agency` must agree with it. With neither, the official must be on the
    roster of some agency.
    """
    return _judge(request, _env(pack, roster, agency, today, context))


def evaluate_batch(
    requests: Sequence[Request],
    pack: Pack,
    roster: Roster,
    *,
    agency: str = "",
    today: date | None = None,
) -> list[GateResult]:
    """Judge every request of a batch: one result per request, in the same order.

    Rows must carry distinct `Request.row` numbers, as intake assigns them.
    """
    if len({r.row for r in requests}) != len(requests):
        raise ValueError("evaluate_batch: requests must carry distinct row numbers")
    env = _env(pack, roster, agency, today, batch_context(requests, pack))
    return [_judge(r, env) for r in requests]
