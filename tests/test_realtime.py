"""Real-time requests: the batch path's answers, records and events, exactly once.

Every request of a small world goes through `verify` one by one and through
`pipeline.run` as one batch, on two stores; the answers, the recorded
outcomes and the ledger events of each request must agree, except where a
rule can only be judged across a batch.
"""

from __future__ import annotations

import csv
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from custos import pipeline, realtime, store
from custos.config import Settings
from custos.intake import read_batch
from custos.ledger import generate_signing_key, request_object, save_signing_key, verify
from custos.match import load_model
from custos.match.lookup import CandidateIndex
from custos.model import Outcome, ReasonCode, Request
from custos.policy.pack import load_pack
from custos.policy.roster import load_roster
from custos.report.accounting import accounting_for_tin
from custos.store.schema import disclosures, ledger_events, outcomes
from custos.store.testing import postgres_unavailable_reason, temporary_store_url

AGENCY = "DHS-ICE"
ROWS = 48
"""The first rows of the shared small world: every kind of request, and quick."""
BATCH_LEVEL = frozenset({ReasonCode.BOILERPLATE_REASON, ReasonCode.IMPLAUSIBLE_CERTIFICATION})
"""Rules judged across a batch; a real-time request is a batch of one."""


@pytest.fixture(scope="module")
def master(small_world: Path) -> pipeline.Master:
    return pipeline.Master.from_world(small_world)


@pytest.fixture(scope="module")
def index(master: pipeline.Master, small_model: Path) -> CandidateIndex:
    return CandidateIndex.build(
        master.standardized, load_model(small_model), addresses=master.addresses, threads=1
    )


@pytest.fixture(scope="module")
def source(small_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The world's first `ROWS` requests as a batch file."""
    with (small_world / "requests.csv").open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = [row for _, row in zip(range(ROWS), reader, strict=False)]
        fields = reader.fieldnames or []
    out = tmp_path_factory.mktemp("realtime") / "requests.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return out


@contextmanager
def _gateway(
    backend: str, home: Path, world: Path, model: Path, master: pipeline.Master
) -> Iterator[pipeline.Gateway]:
    key = home / "keys" / "ledger.key"
    save_signing_key(generate_signing_key("custos.test/ledger"), key)
    with temporary_store_url(backend, home) as url:
        settings = Settings(home=home, database_url=url, ledger_key_path=key, ledger_origin="t")
        gw = pipeline.open_gateway(
            pack=load_pack(),
            roster=load_roster(world / "roster.toml"),
            model=load_model(model),
            master=master,
            actor=pipeline.Actor("user:test", "pytest"),
            settings=settings,
        )
        try:
            yield gw
        finally:
            gw.store.close()


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def gateway(
    request: pytest.FixtureRequest,
    small_world: Path,
    small_model: Path,
    master: pipeline.Master,
    tmp_path: Path,
) -> Iterator[pipeline.Gateway]:
    if request.param == "postgresql" and (reason := postgres_unavailable_reason()):
        pytest.skip(reason)
    with _gateway(request.param, tmp_path, small_world, small_model, master) as gw:
        yield gw


def _requests(source: Path) -> list[Request]:
    batch = read_batch(source, agency=AGENCY)
    assert not batch.malformed
    return list(batch.requests)


def _event_types(gw: pipeline.Gateway, request_id: str) -> list[str]:
    with gw.store.read() as conn:
        rows = conn.execute(
            select(ledger_events.c.event_type)
            .where(ledger_events.c.object == request_object(AGENCY, request_id))
            .order_by(ledger_events.c.seq)
        ).all()
    return [r.event_type for r in rows]


def _a_disclosed_request(index: CandidateIndex, source: Path) -> Request:
    for r in _requests(source):
        if index.match(r).outcome is Outcome.DISCLOSED:
            return r
    raise AssertionError("the world has no disclosable request among its first rows")


def test_every_request_is_answered_as_the_batch_answers_it(
    small_world: Path,
    small_model: Path,
    master: pipeline.Master,
    index: CandidateIndex,
    source: Path,
    tmp_path: Path,
) -> None:
    with (
        _gateway("sqlite", tmp_path / "batch", small_world, small_model, master) as batch_gw,
        _gateway("sqlite", tmp_path / "rt", small_world, small_model, master) as rt_gw,
    ):
        summary = pipeline.run(
            batch_gw,
            read_batch(source, agency=AGENCY),
            agency=AGENCY,
            source_sha256=pipeline.file_sha256(source),
        )
        verifier = realtime.Verifier(rt_gw, index)
        answers = [verifier.verify(r, agency=AGENCY) for r in _requests(source)]
        assert len(answers) == len(summary.results) == ROWS

        first: dict[str, tuple[Request, realtime.Verification]] = {}
        compared = Counter[str]()
        for request, mine, theirs in zip(_requests(source), answers, summary.results, strict=True):
            got, expected = mine.result.decision, theirs.decision
            assert got.request_id == expected.request_id == request.request_id
            earlier = first.get(request.request_id)
            if earlier is not None:
                assert expected.reason_codes == (ReasonCode.DUPLICATE_REQUEST_ID,)
                if replace(earlier[0], row=0, line=0) == replace(request, row=0, line=0):
                    assert mine.replayed and mine.result == earlier[1].result
                else:
                    assert got.reason_codes == (ReasonCode.DUPLICATE_REQUEST_ID,)
                compared["duplicate"] += 1
                continue
            first[request.request_id] = (request, mine)
            assert not mine.replayed
            if set(expected.reason_codes) & BATCH_LEVEL:
                rest = tuple(c for c in expected.reason_codes if c not in BATCH_LEVEL)
                assert got.reason_codes == rest
                assert (got.outcome is Outcome.REJECTED) == bool(rest)
                compared["batch-level rule"] += 1
                continue
            assert (got.outcome, got.reason_codes, got.tin) == (
                expected.outcome,
                expected.reason_codes,
                expected.tin,
            )
            assert (got.match_probability, got.margin) == (
                expected.match_probability,
                expected.margin,
            )
            assert mine.result.response == theirs.response
            assert _event_types(rt_gw, request.request_id) == _event_types(
                batch_gw, request.request_id
            )
            compared[got.outcome.value] += 1
        assert compared["disclosed"] and compared["no_match"] and compared["rejected"]
        assert verify(rt_gw.store, rt_gw.key.verifier).faults == ()


def test_a_batch_of_one_has_the_batch_paths_events(
    gateway: pipeline.Gateway, index: CandidateIndex, source: Path
) -> None:
    request = _a_disclosed_request(index, source)
    answer = realtime.Verifier(gateway, index).verify(request, agency=AGENCY)
    assert answer.result.decision.outcome is Outcome.DISCLOSED
    assert answer.result.response.address is not None
    with gateway.store.read() as conn:
        batch = store.get_batch(conn, answer.batch_id)
        rows = conn.execute(
            select(ledger_events.c.event_type, ledger_events.c.object).order_by(ledger_events.c.seq)
        ).all()
    assert batch is not None and batch.stage is store.BatchStage.COMPLETE
    ours = [e for e, obj in rows if obj.endswith(answer.batch_id) or request.request_id in obj]
    assert ours == [
        "batch_received",
        "request_received",
        "request_gated",
        "batch_stage_completed",
        "batch_stage_completed",
        "request_decided",
        "batch_stage_completed",
        "disclosure_made",
        "batch_stage_completed",
        "batch_completed",
        "batch_stage_completed",
    ]
    assert verify(gateway.store, gateway.key.verifier).faults == ()


def test_concurrent_repeats_disclose_once_and_get_the_first_answer(
    gateway: pipeline.Gateway, index: CandidateIndex, source: Path
) -> None:
    request = _a_disclosed_request(index, source)
    changed = replace(request, case_number=request.case_number + "-B")
    verifier = realtime.Verifier(gateway, index)
    answers: list[realtime.Verification] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def call(r: Request) -> None:
        start.wait()
        try:
            answers.append(verifier.verify(r, agency=AGENCY))
        except BaseException as exc:  # the test reports it below
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(r,)) for r in [request] * 6 + [changed] * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    same = [a for a in answers if a.batch_id == answers[0].batch_id]
    by_batch = Counter(a.batch_id for a in answers)
    assert sorted(by_batch.values()) == [2, 6]
    firsts = [a for a in answers if not a.replayed]
    assert len(firsts) == 2
    disclosed = [a for a in answers if a.result.decision.outcome is Outcome.DISCLOSED]
    duplicate = [
        a for a in answers if a.result.decision.reason_codes == (ReasonCode.DUPLICATE_REQUEST_ID,)
    ]
    assert len({a.batch_id for a in disclosed}) == 1 and len({a.batch_id for a in duplicate}) == 1
    assert len(disclosed) + len(duplicate) == 8
    assert all(a.result == same[0].result for a in same)
    with gateway.store.read() as conn:
        for table in (outcomes, disclosures):
            count = conn.execute(
                select(func.count()).where(table.c.request_id == request.request_id)
            ).scalar_one()
            assert count == 1
    assert _event_types(gateway, request.request_id).count("disclosure_made") == 1
    assert verify(gateway.store, gateway.key.verifier).faults == ()


def test_a_request_id_a_batch_already_used_is_a_duplicate(
    gateway: pipeline.Gateway, index: CandidateIndex, source: Path
) -> None:
    pipeline.run(
        gateway,
        read_batch(source, agency=AGENCY),
        agency=AGENCY,
        source_sha256=pipeline.file_sha256(source),
    )
    request = _requests(source)[0]
    answer = realtime.Verifier(gateway, index).verify(request, agency=AGENCY)
    assert not answer.replayed
    assert answer.result.decision.reason_codes == (ReasonCode.DUPLICATE_REQUEST_ID,)
    assert answer.result.response.reason_code == "duplicate_request_id"


def test_a_real_time_disclosure_is_in_the_accounting(
    gateway: pipeline.Gateway, index: CandidateIndex, source: Path
) -> None:
    request = _a_disclosed_request(index, source)
    answer = realtime.Verifier(gateway, index).verify(request, agency=AGENCY)
    accounting = accounting_for_tin(gateway.store, answer.result.decision.tin)
    [entry] = accounting.disclosures
    assert entry.request.request_id == request.request_id
    assert entry.request.batch_id == answer.batch_id
    assert entry.ledger_seq == answer.result.ledger_seq


def test_the_gate_rejects_as_in_a_batch(gateway: pipeline.Gateway, index: CandidateIndex) -> None:
    civil = Request(
        row=1,
        line=1,
        request_id="RT-CIVIL-1",
        purpose="civil enforcement",
        statute="8 USC 1253(a)(1)",
        tax_periods="2024",
        reason="The subject is believed to live at the address given.",
        requesting_official="ICE-0001",
    )
    answer = realtime.Verifier(gateway, index).verify(civil, agency=AGENCY)
    codes = answer.result.decision.reason_codes
    assert answer.result.decision.outcome is Outcome.REJECTED
    assert codes[0] is ReasonCode.MISSING_NAME
    assert ReasonCode.PURPOSE_NOT_CRIMINAL in codes
    assert _event_types(gateway, "RT-CIVIL-1") == ["request_received", "request_gated"]
