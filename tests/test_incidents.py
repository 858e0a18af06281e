"""Incidents and recall, on both store backends, over a synthetic August-2025-style world.

The world's requests are disclosed the way the 2025 system did it (DOMAIN.md,
failure 1): every request whose person is in the master file got that
person's current address, whether or not the request's address was real. The
truth file says, independently of the gate, which of those rows carried an
address defect; a recall by the address rules must find exactly those.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from custos import incidents, pipeline
from custos import store as stores
from custos.incidents import IncidentError, Selector
from custos.intake import read_batch
from custos.ledger import (
    EventType,
    NewEvent,
    append_events,
    checkpoint,
    generate_signing_key,
    read_head,
    request_object,
    verify,
)
from custos.model import Outcome, Request
from custos.policy.pack import Pack, load_pack
from custos.policy.roster import Roster, load_roster
from custos.report import accounting_for_tin
from custos.store.engine import _alembic_config
from custos.store.pytest_plugin import (  # noqa: F401
    migrated_postgres_url,
    migrated_sqlite_template,
    store,
    store_url,
)
from custos.store.schema import disclosures, ledger_events, metadata
from custos.store.schema import incidents as incidents_table
from custos.synth.world import generate

AGENCY_A = "DHS-ICE"
AGENCY_B = "ZZ-OTHER"
OFFICIAL_B = "ZZO-0001"
BATCH_A = "DHS-ICE-aug2025"
BATCH_B = "ZZ-OTHER-aug2025"
ADDRESS_RULES = ("subject-address", "address-sufficient")
ADDRESS_REASONS = {"missing_address", "insufficient_address"}
RECEIVED = datetime(2025, 8, 7, 9, 0, tzinfo=UTC)
DISCLOSED = datetime(2025, 8, 7, 15, 30, tzinfo=UTC)
NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
DISCOVERED = NOW - timedelta(hours=5)
HOW = "Inspector General sample review of the August 7 release found placeholder addresses"
OTHER_AGENCY = f'''
[[agencies]]
id = "{AGENCY_B}"
name = "Other Synthetic Agency"
head = "Director, Other Synthetic Agency"
inspector_general = "Other Synthetic Office of Inspector General"
safeguards_certified = 2025-04-07

  [[agencies.officials]]
  id = "{OFFICIAL_B}"
  name = "Q. Example"
  title = "Special Agent"
  recipient = true
'''


@dataclass(frozen=True)
class World:
    folder: Path
    pack: Pack
    roster: Roster
    requests_a: tuple[Request, ...]
    requests_b: tuple[Request, ...]
    truth: dict[str, dict[str, str]]
    addresses: dict[str, Any]

    def disclosed(self, requests: tuple[Request, ...]) -> list[Request]:
        """What the 2025 system released: every request of a known person but for other defects."""
        return [
            r
            for r in requests
            if self.truth[_base(r.request_id)]["true_tin"]
            and self.truth[_base(r.request_id)]["expected_reason"] in ADDRESS_REASONS | {""}
        ]

    def unchecked(self) -> set[str]:
        """Request ids of A's disclosures whose request address was defective: the wrongful ones."""
        return {
            r.request_id
            for r in self.disclosed(self.requests_a)
            if self.truth[r.request_id]["expected_reason"] in ADDRESS_REASONS
        }


def _base(request_id: str) -> str:
    return request_id.removeprefix("B-")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("incident-world")
    generate(folder, taxpayers=200, requests=80, seed=5, profile="aug2025")
    roster_path = folder / "roster-two.toml"
    roster_path.write_text((folder / "roster.toml").read_text() + OTHER_AGENCY)
    with (folder / "truth.csv").open() as fh:
        truth = {r["request_id"]: r for r in csv.DictReader(fh)}
    read = read_batch(folder / "requests.csv")
    requests_a = tuple(Request(**{**_fields(r), "agency": AGENCY_A}) for r in read.requests)
    requests_b = tuple(
        Request(
            **{
                **_fields(r),
                "agency": AGENCY_B,
                "request_id": "B-" + r.request_id,
                "requesting_official": OFFICIAL_B,
            }
        )
        for r in read.requests[:12]
    )
    master = pipeline.Master.from_world(folder)
    tins = sorted({t["true_tin"] for t in truth.values() if t["true_tin"]})
    return World(
        folder=folder,
        pack=load_pack(),
        roster=load_roster(roster_path),
        requests_a=requests_a,
        requests_b=requests_b,
        truth=truth,
        addresses=master.current_addresses(tins),
    )


def _fields(r: Request) -> dict[str, Any]:
    return {f: getattr(r, f) for f in Request.__dataclass_fields__}


def _populate(opened: stores.Store, world: World) -> None:
    """The batches as the 2025 system handled them: disclosed without an address check."""
    fields = world.pack.disclosure_fields
    with opened.write() as conn:
        for agency in world.roster.agencies:
            stores.save_agency(conn, stores.Agency(agency.id, agency.name))
        for batch_id, agency, requests in (
            (BATCH_A, AGENCY_A, world.requests_a),
            (BATCH_B, AGENCY_B, world.requests_b),
        ):
            stores.create_batch(
                conn,
                batch_id=batch_id,
                agency_id=agency,
                source=f"{batch_id}.csv",
                source_sha256="0" * 64,
                row_count=len(requests),
                malformed_count=0,
                now=RECEIVED,
            )
            stores.add_requests(conn, batch_id, requests, now=RECEIVED)
            released = world.disclosed(requests)
            events = [
                NewEvent(
                    "system:2025",
                    EventType.DISCLOSURE_MADE,
                    True,
                    "test",
                    request_object(agency, r.request_id),
                    {
                        "batch": batch_id,
                        "tin": _tin(world, r),
                        "fields": list(fields),
                        "disclosed": {
                            f: str(getattr(world.addresses[_tin(world, r)], f)) for f in fields
                        },
                    },
                )
                for r in released
            ]
            recorded = append_events(conn, events)
            for r, event in zip(released, recorded, strict=True):
                tin = _tin(world, r)
                stores.record_outcome(
                    conn,
                    stores.OutcomeRecord(
                        batch_id=batch_id,
                        agency_id=agency,
                        request_id=r.request_id,
                        outcome=Outcome.DISCLOSED,
                        reason_codes=(),
                        pack_version="none",
                        model_version="none",
                        decided_at=DISCLOSED,
                        tin=tin,
                    ),
                )
                stores.record_disclosure(
                    conn,
                    stores.DisclosureRecord(
                        batch_id=batch_id,
                        agency_id=agency,
                        request_id=r.request_id,
                        tin=tin,
                        statute=r.statute,
                        fields=tuple(fields),
                        as_of_tax_year=world.addresses[tin].as_of_tax_year,
                        disclosed_at=DISCLOSED + timedelta(seconds=r.row),
                        ledger_seq=event.seq,
                    ),
                )


def _tin(world: World, r: Request) -> str:
    return world.truth[_base(r.request_id)]["true_tin"]


@pytest.fixture
def populated(store: stores.Store, world: World) -> stores.Store:  # noqa: F811
    _populate(store, world)
    return store


def _open(opened: stores.Store, world: World, selector: Selector, **kw: Any) -> incidents.Opened:
    args: dict[str, Any] = {
        "how_discovered": HOW,
        "discovered_at": DISCOVERED,
        "actor": "key:officer",
        "origin": "test",
        "pack": world.pack,
        "roster": world.roster,
        "now": NOW,
    }
    return incidents.open_incident(opened, selector, **{**args, **kw})


def _events(opened: stores.Store, kind: EventType) -> list[Any]:
    with opened.read() as conn:
        return list(
            conn.execute(
                select(ledger_events)
                .where(ledger_events.c.event_type == kind.value)
                .order_by(ledger_events.c.seq)
            ).all()
        )


def _wrongful(opened: stores.Store) -> dict[tuple[str, str], datetime]:
    with opened.read() as conn:
        rows = conn.execute(select(disclosures).where(disclosures.c.wrongful_at.is_not(None)))
        return {(r.agency_id, r.request_id): r.wrongful_at for r in rows}


def test_a_rule_selector_recalls_exactly_the_disclosures_on_unchecked_addresses(
    populated: stores.Store, world: World
) -> None:
    expected = world.unchecked()
    assert len(expected) >= 10  # the world must exercise the failure
    opened = _open(populated, world, Selector(batches=(BATCH_A,), rules=ADDRESS_RULES))

    assert opened.marked == len(expected) and opened.already_recalled == ()
    assert set(_wrongful(populated)) == {(AGENCY_A, r) for r in expected}
    marked = _events(populated, EventType.DISCLOSURE_MARKED_WRONGFUL)
    assert sorted(e.object for e in marked) == sorted(request_object(AGENCY_A, r) for r in expected)
    assert all(json.loads(e.payload)["incident"] == opened.incident.id for e in marked)

    with populated.read() as conn:
        items = stores.incident_items_of(conn, opened.incident.id)
    seqs = {e.object: e.seq for e in marked}
    for item in items:
        reason = world.truth[item.request_id]["expected_reason"]
        rule = "subject-address" if reason == "missing_address" else "address-sufficient"
        assert item.failed_rules == (rule,)
        assert item.ledger_seq == seqs[request_object(AGENCY_A, item.request_id)]

    (lst,) = incidents.disposal_lists(populated, opened.incident.id)
    assert lst.agency == AGENCY_A and lst.request_ids == tuple(sorted(expected))
    (requested,) = _events(populated, EventType.DISPOSAL_REQUESTED)
    assert json.loads(requested.payload)["sha256"] == lst.sha256

    (event,) = _events(populated, EventType.INCIDENT_OPENED)
    payload = json.loads(event.payload)
    assert payload["report"] == opened.incident.report
    assert payload["report_sha256"] == opened.incident.report_sha256
    assert opened.incident.ledger_seq == event.seq


def test_the_report_counts_dates_and_names_data_elements(
    populated: stores.Store, world: World
) -> None:
    expected = world.unchecked()
    opened = _open(populated, world, Selector(batches=(BATCH_A,), rules=ADDRESS_RULES))
    report = incidents.incident_report(populated, opened.incident.id)
    released = {r.request_id: r for r in world.disclosed(world.requests_a)}
    tins = {_tin(world, released[r]) for r in expected}
    rows = [released[r].row for r in expected]

    assert report["counts"] == {
        "disclosures": len(expected),
        "taxpayers": len(tins),
        "agencies": 1,
        "batches": 1,
        "already_recalled": 0,
    }
    assert report["dates"]["disclosed_first"] == _z(DISCLOSED + timedelta(seconds=min(rows)))
    assert report["dates"]["disclosed_last"] == _z(DISCLOSED + timedelta(seconds=max(rows)))
    assert report["dates"]["discovered"] == _z(DISCOVERED)
    assert report["dates"]["reported"] == _z(NOW)
    assert report["dates"]["within_24_hours"] is True
    assert report["dates"]["minutes_from_discovery_to_report"] == 300
    assert report["how_discovered"] == HOW
    assert report["data_elements"] == ["street", "unit", "city", "state", "zip", "as_of_tax_year"]
    by_rule = {r["id"]: r["disclosures"] for r in report["rules"]}
    insufficient = sum(
        world.truth[r]["expected_reason"] == "insufficient_address" for r in expected
    )
    assert by_rule == {
        "subject-address": len(expected) - insufficient,
        "address-sufficient": insufficient,
    }
    assert report["pack"]["sha256"] == world.pack.ref.sha256
    text = incidents.render_report_markdown(report)
    assert f"{len(expected)} disclosures concerning {len(tins)} taxpayers" in text
    assert "within 24 hours" in text


def test_nothing_the_ig_or_a_recipient_gets_carries_taxpayer_data(
    populated: stores.Store, world: World
) -> None:
    opened = _open(populated, world, Selector(batches=(BATCH_A, BATCH_B)))
    report = incidents.incident_report(populated, opened.incident.id)
    lists = incidents.disposal_lists(populated, opened.incident.id)
    status = incidents.incident_status(populated, opened.incident.id)
    documents = [
        json.dumps(report, ensure_ascii=False),
        incidents.render_report_markdown(report),
        json.dumps([d.to_dict() for d in lists], ensure_ascii=False),
        json.dumps(status.to_dict(), ensure_ascii=False),
    ]
    secrets = _taxpayer_values(world)
    assert len(secrets) > 500
    for document in documents:
        folded = document.casefold()
        leaked = [
            s for s in secrets if s in folded and re.search(rf"(?<!\w){re.escape(s)}(?!\w)", folded)
        ]
        assert leaked == []
    assert report["counts"]["disclosures"] == len(world.disclosed(world.requests_a)) + len(
        world.disclosed(world.requests_b)
    )


def _taxpayer_values(world: World) -> set[str]:
    """Every TIN, name and street of the master file, and every subject of every request."""
    values: set[str] = set()
    with (world.folder / "taxpayers.csv").open() as fh:
        for t in csv.DictReader(fh):
            values.add(t["tin"])
            values.add(f"{t['first_name']} {t['last_name']}")
            values.add(t["last_name"])
    with (world.folder / "addresses.csv").open() as fh:
        for a in csv.DictReader(fh):
            values.add(a["street"])
    for r in world.requests_a:
        s = r.subject
        values |= {f"{s.first_name} {s.last_name}", s.last_name, s.tin}
        if any(c.isdigit() for c in s.street):  # placeholders ("NONE") are no one's address
            values.add(s.street)
    return {" ".join(v.casefold().split()) for v in values if len(v.strip()) >= 4}


def test_a_disclosure_already_recalled_is_reported_not_counted_twice(
    populated: stores.Store, world: World
) -> None:
    first = _open(populated, world, Selector(batches=(BATCH_A,), rules=ADDRESS_RULES))
    first_marks = _wrongful(populated)
    recalled = sorted(world.unchecked())[:3]
    others = sorted(
        r.request_id
        for r in world.disclosed(world.requests_a)
        if r.request_id not in world.unchecked()
    )[:4]
    later = NOW + timedelta(hours=2)
    second = _open(
        populated,
        world,
        Selector(agency=AGENCY_A, request_ids=(*recalled, *others)),
        now=later,
        discovered_at=later - timedelta(hours=1),
    )

    assert second.marked == len(others)
    assert second.already_recalled == tuple(
        incidents.AlreadyRecalled(AGENCY_A, r, first.incident.id) for r in recalled
    )
    report = second.incident.report
    assert report["counts"]["disclosures"] == len(others)
    assert report["counts"]["already_recalled"] == len(recalled)
    assert report["already_recalled_by"] == [
        {"incident": first.incident.id, "disclosures": len(recalled)}
    ]
    marks = _wrongful(populated)
    assert {k: marks[k] for k in first_marks} == first_marks
    assert {marks[(AGENCY_A, r)] for r in others} == {later}
    objects = [e.object for e in _events(populated, EventType.DISCLOSURE_MARKED_WRONGFUL)]
    assert len(objects) == len(set(objects)) == len(world.unchecked()) + len(others)
    (lst,) = incidents.disposal_lists(populated, second.incident.id, AGENCY_A)
    assert lst.request_ids == tuple(sorted(others))

    with pytest.raises(IncidentError, match="already recalled by incident") as info:
        _open(populated, world, Selector(agency=AGENCY_A, request_ids=tuple(recalled)))
    assert info.value.kind == "conflict"


def _ledger_size(opened: stores.Store) -> int:
    with opened.read() as conn:
        return read_head(conn).size


@pytest.mark.parametrize(
    ("selector", "kw", "kind", "message"),
    [
        (Selector(batches=("NO-SUCH",)), {}, "not_found", "no batch 'NO-SUCH'"),
        (
            Selector(batches=(BATCH_A,), rules=("address-checked",)),
            {},
            "invalid",
            "has no rule address-checked; its rules are subject-name",
        ),
        (
            Selector(agency=AGENCY_A, request_ids=("REQ-9999999",)),
            {},
            "invalid",
            "1 request id.* have no disclosure: REQ-9999999",
        ),
        (
            Selector(batches=(BATCH_A,), rules=("purpose-criminal",)),
            {},
            "invalid",
            "no disclosure matches",
        ),
        (
            Selector(batches=(BATCH_A,)),
            {"how_discovered": "a call about taxpayer 123-45-6789"},
            "invalid",
            "TIN-like",
        ),
        (Selector(batches=(BATCH_A,)), {"how_discovered": "oops"}, "invalid", "10 characters"),
        (
            Selector(batches=(BATCH_A,)),
            {"discovered_at": NOW + timedelta(days=1)},
            "invalid",
            "in the future",
        ),
    ],
)
def test_bad_incidents_are_refused_and_write_nothing(
    populated: stores.Store,
    world: World,
    selector: Selector,
    kw: dict[str, Any],
    kind: str,
    message: str,
) -> None:
    size = _ledger_size(populated)
    with pytest.raises(IncidentError, match=message) as info:
        _open(populated, world, selector, **kw)
    assert info.value.kind == kind
    assert _ledger_size(populated) == size
    assert _wrongful(populated) == {}
    with populated.read() as conn:
        assert conn.execute(select(func.count()).select_from(incidents_table)).scalar_one() == 0


def test_naming_a_recalled_taxpayer_in_how_discovered_is_refused(
    populated: stores.Store, world: World
) -> None:
    r = next(iter(world.disclosed(world.requests_b)))
    for text in (
        f"a letter from {r.subject.first_name} {r.subject.last_name} complaining",
        f"returned mail at {r.subject.street.upper()} was noticed",
    ):
        with pytest.raises(IncidentError, match="names a recalled taxpayer"):
            _open(populated, world, Selector(batches=(BATCH_B,)), how_discovered=text)


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({}, "name the disclosures"),
        ({"request_ids": ["R1"]}, "name the agency"),
        ({"agency": AGENCY_A, "request_ids": ["R1"], "batches": ["B"]}, "not both"),
        ({"agency": AGENCY_A, "request_ids": ["R1"], "rules": ["x"]}, "give batches"),
        ({"agency": AGENCY_A, "batches": ["B"]}, "give no agency"),
        ({"batches": ["B", " "]}, "blank"),
        ({"agency": AGENCY_A, "request_ids": ["R\x001"]}, "control character"),
    ],
)
def test_selectors_are_parsed_strictly(parts: dict[str, Any], message: str) -> None:
    with pytest.raises(IncidentError, match=message):
        incidents.parse_selector(**parts)


def test_each_recipient_confirms_and_the_last_confirmation_closes(
    populated: stores.Store, world: World
) -> None:
    opened = _open(populated, world, Selector(batches=(BATCH_A, BATCH_B)))
    incident_id = opened.incident.id
    lists = {d.agency: d for d in incidents.disposal_lists(populated, incident_id)}
    assert set(lists) == {AGENCY_A, AGENCY_B}
    assert set(lists[AGENCY_B].request_ids) == {
        r.request_id for r in world.disclosed(world.requests_b)
    }

    def confirm(agency: str, **kw: Any) -> incidents.IncidentStatus:
        args: dict[str, Any] = {
            "confirmed_by": f"Records officer of {agency}",
            "reference": f"DEST-{agency}-1",
            "destroyed_at": NOW + timedelta(days=1),
            "actor": f"key:{agency}",
            "origin": "test",
            "now": NOW + timedelta(days=2),
        }
        return incidents.confirm_disposal(populated, incident_id, agency, **{**args, **kw})

    after_a = confirm(AGENCY_A)
    assert after_a.incident.status == "open"
    assert [r.confirmed for r in after_a.recipients] == [True, False]
    for agency, kind in ((AGENCY_A, "conflict"), ("NO-SUCH", "not_found")):
        with pytest.raises(IncidentError) as info:
            confirm(agency)
        assert info.value.kind == kind
    with pytest.raises(IncidentError, match="in the future"):
        confirm(AGENCY_B, destroyed_at=NOW + timedelta(days=3))
    with pytest.raises(IncidentError, match="who confirms"):
        confirm(AGENCY_B, reference="  ")
    assert _events(populated, EventType.INCIDENT_CLOSED) == []

    closed = confirm(AGENCY_B)
    assert closed.incident.status == "closed"
    assert closed.incident.closed_at == NOW + timedelta(days=2)
    confirmations = _events(populated, EventType.DISPOSAL_CONFIRMED)
    assert [json.loads(e.payload)["reference"] for e in confirmations] == [
        f"DEST-{AGENCY_A}-1",
        f"DEST-{AGENCY_B}-1",
    ]
    assert [r.confirmation_seq for r in closed.recipients] == [e.seq for e in confirmations]
    (closing,) = _events(populated, EventType.INCIDENT_CLOSED)
    assert closing.object == f"incident:{incident_id}" and closing.seq > confirmations[-1].seq
    shown = incidents.disposal_lists(populated, incident_id, AGENCY_B)[0].to_dict()
    assert shown["confirmation"]["reference"] == f"DEST-{AGENCY_B}-1"
    key = generate_signing_key("custos.test/ledger")
    checkpoint(populated, key)
    verified = verify(populated, key.verifier)
    assert verified.ok and verified.events == _ledger_size(populated)


def test_the_accounting_shows_a_recalled_disclosure_as_wrongful(
    populated: stores.Store, world: World
) -> None:
    _open(populated, world, Selector(batches=(BATCH_A,), rules=ADDRESS_RULES))
    wrongful = {r for r in world.unchecked()}
    released = world.disclosed(world.requests_a)
    recalled = next(r for r in released if r.request_id in wrongful)
    accounting = accounting_for_tin(populated, _tin(world, recalled))
    entry = next(d for d in accounting.disclosures if d.request.request_id == recalled.request_id)
    assert entry.wrongful and entry.wrongful_at == NOW
    kept = next(r for r in released if r.request_id not in wrongful)
    accounting = accounting_for_tin(populated, _tin(world, kept))
    entry = next(d for d in accounting.disclosures if d.request.request_id == kept.request_id)
    assert not entry.wrongful


def test_incidents_page_newest_first(populated: stores.Store, world: World) -> None:
    ids = [
        _open(populated, world, Selector(agency=AGENCY_A, request_ids=(r.request_id,))).incident.id
        for r in world.disclosed(world.requests_a)[:3]
    ]
    page, total = incidents.list_incidents(populated, offset=1, limit=1)
    assert total == 3 and [s.incident.id for s in page] == [ids[1]]
    with pytest.raises(IncidentError) as info:
        incidents.incident_status(populated, max(ids) + 1)
    assert info.value.kind == "not_found"


def test_migration_0002_round_trips_to_exactly_the_metadata(
    store: stores.Store,  # noqa: F811
) -> None:
    incident_tables = {"incidents", "incident_items", "incident_recipients"}
    with store.write() as conn:
        command.downgrade(_alembic_config(conn), "0001")
    with store.read() as conn:
        assert incident_tables.isdisjoint(inspect(conn).get_table_names())
    with store.write() as conn:
        command.upgrade(_alembic_config(conn), "head")
    with store.read() as conn:
        assert incident_tables <= set(inspect(conn).get_table_names())
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def _z(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
