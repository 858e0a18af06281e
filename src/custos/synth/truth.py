"""What a correct gateway does with each request: the labels of `truth.csv`.

Labelling decisions (the matcher is judged against these, so they are strict):

- `rejected` — the row carries a defect the gate must catch. Exactly one
  defect is injected per invalid row, so `expected_reason` is its primary
  reason code. A duplicate request id is labelled on the later row only; the
  first occurrence is judged like any other row.
- Otherwise the label depends on which master taxpayers the request *fits*.
  A taxpayer fits when all of these hold:
  - **address**: the request's building (ZIP, street, house number) is one of
    the taxpayer's own addresses, in any year. Formatting, abbreviations,
    ZIP+4, a missing city or ZIP, or a typo in the street name do not change
    the building (a good standardiser undoes them); a unit given in the
    request must not contradict the taxpayer's unit there. A name and TIN
    match with an address outside the taxpayer's history never fits: that is
    exactly the August 2025 failure.
  - **surname**: a surname the request shows (in whatever form: only the
    first, hyphenated, swapped, particle dropped, pushed into the middle-name
    field, typo) is one the master record shows.
  - **given name**: the request's given name is this taxpayer's (written
    with a nickname, a spelling variant, a typo, an OCR slip, or as the second
    name of María/José-type compounds), or its initial when the request gives
    only an initial. A name swapped into the wrong column counts as written.
  - **middle name, suffix, date of birth**: when the request gives one and the
    taxpayer has one, they must agree (a middle initial against the middle
    name's initial; "Jr" against the record's suffix, exactly).
  Then a TIN in the request that equals exactly one fitting taxpayer's TIN
  singles that taxpayer out. A TIN that matches no fitting taxpayer is treated
  as noise (a typo in the TIN alone must not defeat a certain match), and can
  never make a non-fitting taxpayer fit.
- `disclosed` — exactly one taxpayer fits and that taxpayer is not under a
  § 6103(i)(6) `disclosure_block`; `true_tin` is that taxpayer.
- `no_match` — nobody fits (the person is not in the master file, the address
  is not in the history of the named person, or the name is not that of
  anyone who lived there), or the single fitting taxpayer is blocked: the
  requester must not be able to tell a block from absence, and nothing is
  released, so a blocked taxpayer's request is `no_match` ("not disclosed").
- `ambiguous` — two or more taxpayers fit: Jr and Sr at the family home with no
  suffix, date of birth or TIN in the request; twins named by initial only;
  namesakes at the same building. Only the request's own content can separate
  them, and it does not.

`true_tin` is the taxpayer the request was drawn from (or, when disclosed, the
one a correct gateway releases), empty for people not in the master file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from custos.synth.names import fold, given_aliases, tables
from custos.synth.people import Person


@dataclass(frozen=True, slots=True)
class NameEvidence:
    """What the request's name says, in terms the labeller can check exactly."""

    first_id: int
    """The given name the requester means (-1: rely on the written form)."""
    first_folded: str
    initial_only: bool
    middle_initial: str
    surname_ids: frozenset[int]
    suffix: str
    dob: str
    tin: str


@dataclass(frozen=True, slots=True)
class AddressEvidence:
    key: int
    unit_id: str
    """The unit the request names ("" when it names none)."""


def _middle_initial(p: Person) -> str:
    return fold(p.middle_text)[:1]


def fits(p: Person, name: NameEvidence, address: AddressEvidence) -> bool:
    """Whether the request could be about `p` on its own content (see module docstring)."""
    at = [r for r in p.residences if r.key == address.key]
    if not at:
        return False
    if address.unit_id and all(r.unit_id and r.unit_id != address.unit_id for r in at):
        return False
    if not (name.surname_ids & p.surnames_on_file):
        return False
    if name.initial_only:
        if fold(tables().given[p.first_id].text)[:1] != name.first_folded[:1]:
            return False
    elif name.first_id != p.first_id and name.first_folded not in given_aliases(
        p.first_id, p.middle_text
    ):
        return False
    mi = _middle_initial(p)
    if name.middle_initial and mi and name.middle_initial != mi:
        return False
    if name.suffix and name.suffix != fold(p.suffix):
        return False
    return not (name.dob and name.dob != p.dob)


@dataclass(frozen=True, slots=True)
class Label:
    outcome: str
    reason: str
    true_tin: str


def label(
    candidates: Iterable[Person], name: NameEvidence, address: AddressEvidence, drawn_from: str
) -> Label:
    """The label of a request that passes the gate, given everyone who lived at its building."""
    fitting = {p.index: p for p in candidates if fits(p, name, address)}
    if name.tin and len(fitting) > 1:
        same = [p for p in fitting.values() if p.tin == name.tin]
        if len(same) == 1:
            fitting = {same[0].index: same[0]}
    if not fitting:
        return Label("no_match", "", drawn_from)
    if len(fitting) > 1:
        return Label("ambiguous", "", drawn_from)
    (only,) = fitting.values()
    if only.blocked:
        return Label("no_match", "", drawn_from)
    return Label("disclosed", "", only.tin)
