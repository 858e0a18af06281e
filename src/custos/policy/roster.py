"""The roster: which agencies may request, through which officials, with which safeguards.

(i)(2)(A) lets only the head of a federal agency or its Inspector General
request, for officers personally and directly engaged in the matter; (p)(4)
lets the custodian refuse an agency whose safeguards are not in place. The
roster is where those facts live, so the gate can check a request's official
against them rather than trusting the request. Format (TOML):

    [meta]
    as_of = 2025-08-01

    [[agencies]]
    id = "DHS-ICE"
    name = "U.S. Immigration and Customs Enforcement"
    head = "Director, U.S. Immigration and Customs Enforcement"
    inspector_general = "DHS Office of Inspector General"
    safeguards_certified = 2025-04-07     # absent: never certified
    safeguards_expires = 2026-04-07       # optional

      [[agencies.officials]]
      id = "ICE-0001"                     # what a request's requesting_official carries
      name = "Special Agent A. Example"
      title = "Special Agent, Homeland Security Investigations"
      recipient = true                    # designated recipient

Agency and official ids are matched trimmed and casefolded; official ids are
unique across the whole roster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from custos.errors import PolicyError
from custos.policy import tomlfile


@dataclass(frozen=True, slots=True)
class Official:
    """A person who may request for an agency."""

    id: str
    agency: str
    name: str = ""
    title: str = ""
    recipient: bool = False


@dataclass(frozen=True, slots=True)
class Agency:
    """A requesting agency, its head and IG, and its (p)(4) safeguard certification."""

    id: str
    name: str
    head: str = ""
    inspector_general: str = ""
    safeguards_certified: date | None = None
    safeguards_expires: date | None = None
    officials: tuple[Official, ...] = ()

    def safeguards_current(self, on: date) -> bool:
        """True when the agency's safeguards were certified on or before `on` and not expired."""
        if self.safeguards_certified is None or self.safeguards_certified > on:
            return False
        return self.safeguards_expires is None or on < self.safeguards_expires


def _key(text: str) -> str:
    return text.strip().casefold()


@dataclass(frozen=True, slots=True)
class Roster:
    """Agencies and officials, with lookups by id (trimmed, casefolded)."""

    agencies: tuple[Agency, ...]
    as_of: date | None = None
    _agency_by_key: dict[str, Agency] = field(init=False, repr=False, compare=False)
    _official_by_key: dict[str, Official] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        agencies: dict[str, Agency] = {}
        officials: dict[str, Official] = {}
        for agency in self.agencies:
            if _key(agency.id) in agencies:
                raise PolicyError(f"roster: agency id {agency.id!r} appears twice")
            agencies[_key(agency.id)] = agency
            for official in agency.officials:
                if _key(official.id) in officials:
                    raise PolicyError(f"roster: official id {official.id!r} appears twice")
                officials[_key(official.id)] = official
        object.__setattr__(self, "_agency_by_key", agencies)
        object.__setattr__(self, "_official_by_key", officials)

    def agency(self, agency_id: str) -> Agency | None:
        return self._agency_by_key.get(_key(agency_id))

    def official(self, official_id: str) -> Official | None:
        return self._official_by_key.get(_key(official_id))

    def agency_of(self, official_id: str) -> str | None:
        """The id of the agency the official requests for, or None if not on the roster."""
        official = self.official(official_id)
        return official.agency if official else None

    def is_authorized(self, official_id: str, agency: str = "") -> bool:
        """Whether the official may request for `agency` (for some agency when it is blank)."""
        official = self.official(official_id)
        if official is None:
            return False
        return not agency.strip() or _key(official.agency) == _key(agency)


_ROSTER_KEYS = ("meta", "agencies")
_AGENCY_KEYS = (
    "id",
    "name",
    "head",
    "inspector_general",
    "safeguards_certified",
    "safeguards_expires",
    "officials",
)
_OFFICIAL_KEYS = ("id", "name", "title", "recipient")


def load_roster(path: Path) -> Roster:
    """Read and validate a roster file; any defect is a PolicyError naming file and entry."""
    _, doc = tomlfile.read(path, "roster")
    r = tomlfile.Reader(path, "roster")
    r.keys(doc, "top level", _ROSTER_KEYS)
    as_of = None
    if "meta" in doc:
        meta = r.table(doc, "meta", "top level")
        r.keys(meta, "[meta]", ("as_of",))
        as_of = r.day(meta, "as_of", "[meta]")
    agencies = []
    for i, entry in enumerate(r.tables(doc, "agencies", "top level", required=True), start=1):
        where = f"agency #{i}"
        r.keys(entry, where, _AGENCY_KEYS)
        agency_id = r.text(entry, "id", where)
        where = f"agency {agency_id!r}"
        certified = r.day(entry, "safeguards_certified", where)
        expires = r.day(entry, "safeguards_expires", where)
        if expires is not None and certified is None:
            raise r.fail(where, "safeguards_expires without safeguards_certified")
        if expires is not None and certified is not None and expires <= certified:
            raise r.fail(where, "safeguards_expires is not after safeguards_certified")
        officials = []
        for j, item in enumerate(r.tables(entry, "officials", where, required=False), start=1):
            owhere = f"{where}, official #{j}"
            r.keys(item, owhere, _OFFICIAL_KEYS)
            officials.append(
                Official(
                    id=r.text(item, "id", owhere),
                    agency=agency_id,
                    name=r.text(item, "name", owhere, required=False),
                    title=r.text(item, "title", owhere, required=False),
                    recipient=r.flag(item, "recipient", owhere, default=False),
                )
            )
        agencies.append(
            Agency(
                id=agency_id,
                name=r.text(entry, "name", where),
                head=r.text(entry, "head", where, required=False),
                inspector_general=r.text(entry, "inspector_general", where, required=False),
                safeguards_certified=certified,
                safeguards_expires=expires,
                officials=tuple(officials),
            )
        )
    try:
        return Roster(agencies=tuple(agencies), as_of=as_of)
    except PolicyError as exc:
        raise PolicyError(f"roster {path}: {str(exc).removeprefix('roster: ')}") from None
