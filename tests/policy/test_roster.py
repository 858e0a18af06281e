"""The roster: lookups of officials and agencies, safeguard dates, and refusal of bad rosters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from policy_builders import ROSTER_TOML

from custos.errors import PolicyError
from custos.policy.roster import Roster, load_roster

Write = Callable[[str, str], Path]


def test_roster_lookups(roster: Roster) -> None:
    assert [a.id for a in roster.agencies] == ["DHS-ICE", "DOJ-FBI"]
    assert roster.as_of == date(2025, 8, 1)
    assert roster.agency_of("ICE-0001") == "DHS-ICE"
    assert roster.agency_of(" fbi-0001 ") == "DOJ-FBI"
    assert roster.agency_of("ICE-9999") is None
    official = roster.official("ice-0001")
    assert official is not None and official.recipient and official.name
    fbi = roster.official("FBI-0001")
    assert fbi is not None and not fbi.recipient and fbi.agency == "DOJ-FBI"


def test_is_authorized(roster: Roster) -> None:
    assert roster.is_authorized("ICE-0001")
    assert roster.is_authorized("ICE-0001", "dhs-ice")
    assert not roster.is_authorized("ICE-0001", "DOJ-FBI")
    assert not roster.is_authorized("DIRECTOR")
    assert not roster.is_authorized("")


def test_safeguard_dates(roster: Roster) -> None:
    ice = roster.agency("DHS-ICE")
    fbi = roster.agency("DOJ-FBI")
    assert ice is not None and fbi is not None
    assert ice.safeguards_certified == date(2025, 4, 7)
    assert not ice.safeguards_current(date(2025, 4, 6))
    assert ice.safeguards_current(date(2025, 4, 7))
    assert ice.safeguards_current(date(2026, 4, 6))
    assert not ice.safeguards_current(date(2026, 4, 7))
    assert not fbi.safeguards_current(date(2025, 8, 1))


def test_dates_may_be_written_as_strings(write: Write) -> None:
    text = ROSTER_TOML.replace(
        "safeguards_certified = 2025-04-07", 'safeguards_certified = "2025-04-07"'
    )
    ice = load_roster(write("r.toml", text)).agency("DHS-ICE")
    assert ice is not None and ice.safeguards_certified == date(2025, 4, 7)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('id = "FBI-0001"', 'id = "ice-0002"', "official id 'ice-0002' appears twice"),
        ('id = "DOJ-FBI"', 'id = "dhs-ice"', "agency id 'dhs-ice' appears twice"),
        ('id = "DOJ-FBI"\n', "", "missing id"),
        ('name = "Federal Bureau of Investigation"\n', "", "missing name"),
        (
            "safeguards_certified = 2025-04-07",
            'safeguards_certified = "April 2025"',
            "must be a date",
        ),
        ("safeguards_expires = 2026-04-07", "safeguards_expires = 2025-01-01", "not after"),
        ("safeguards_certified = 2025-04-07\n", "", "without safeguards_certified"),
        ("recipient = true", 'recipient = "yes"', "recipient must be true or false"),
        ("recipient = true", "recipent = true", "unknown key(s) recipent"),
        ("safeguards_certified", "safeguard_certified", "unknown key(s) safeguard_certified"),
        ("[meta]", "[metadata]", "unknown key(s) metadata"),
        ("[[agencies]]", "[[agencies]", "not valid TOML"),
    ],
)
def test_invalid_roster_is_refused(write: Write, old: str, new: str, message: str) -> None:
    assert old in ROSTER_TOML
    path = write("bad.toml", ROSTER_TOML.replace(old, new, 1))
    with pytest.raises(PolicyError) as exc:
        load_roster(path)
    assert message in str(exc.value)
    assert str(path) in str(exc.value)


def test_roster_without_agencies_is_refused(write: Write) -> None:
    with pytest.raises(PolicyError, match="agencies"):
        load_roster(write("empty.toml", "[meta]\nas_of = 2025-08-01\n"))


def test_missing_roster_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="roster file not found"):
        load_roster(tmp_path / "nope.toml")
