"""The world generator keeps the data contract, is deterministic, and is realistic."""

from __future__ import annotations

import re
import tomllib
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import zipcodes
from synth_gate_rules import failures

from conftest import World
from custos.model import REQUEST_COLUMNS, SUBJECT_COLUMNS
from custos.synth.names import HISPANIC
from custos.synth.people import BLOCK_SIZE, generate_block
from custos.synth.rand import STREAM_MASTER
from custos.synth.world import generate

TAXPAYER_COLUMNS = ["tin", "first_name", "middle_name", "last_name", "suffix", "dob"]
ADDRESS_COLUMNS = ["tin", "tax_year", "street", "unit", "city", "state", "zip", "source"]
TRUTH_COLUMNS = ["request_id", "expected_outcome", "expected_reason", "true_tin"]
FILES = ("taxpayers.csv", "addresses.csv", "requests.csv", "truth.csv", "roster.toml")


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [c.strip('"') for c in f.readline().rstrip("\n").split(",")]


def test_files_carry_the_contract_columns(world_5k: World) -> None:
    tp = _header(world_5k.path / "taxpayers.csv")
    assert tp[:6] == TAXPAYER_COLUMNS
    assert "disclosure_block" in tp
    assert _header(world_5k.path / "addresses.csv") == ADDRESS_COLUMNS
    assert _header(world_5k.path / "requests.csv") == [*REQUEST_COLUMNS, *SUBJECT_COLUMNS]
    assert _header(world_5k.path / "truth.csv") == TRUTH_COLUMNS


def test_every_request_has_one_truth_row_in_order(world_5k: World) -> None:
    requests = world_5k.rows("requests.csv")
    truth = world_5k.rows("truth.csv")
    assert [r["request_id"] for r in requests] == [t["request_id"] for t in truth]
    assert len(requests) == world_5k.summary.requests == 8000
    assert Counter(t["expected_outcome"] for t in truth) == Counter(
        {k: v for k, v in world_5k.summary.by_outcome.items() if v}
    )
    for t in truth:
        assert (t["expected_outcome"] == "rejected") == bool(t["expected_reason"])


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, taxpayers=1500, requests=600, seed=5)
    generate(b, taxpayers=1500, requests=600, seed=5)
    generate(c, taxpayers=1500, requests=600, seed=6)
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for name in ("taxpayers.csv", "addresses.csv", "requests.csv"):
        assert (a / name).read_bytes() != (c / name).read_bytes(), name


def test_chunk_size_does_not_change_the_output(tmp_path: Path) -> None:
    one, many = tmp_path / "one", tmp_path / "many"
    generate(one, taxpayers=9000, requests=300, seed=3, chunk_size=10**7)
    generate(many, taxpayers=9000, requests=300, seed=3, chunk_size=BLOCK_SIZE)
    for name in FILES:
        assert (one / name).read_bytes() == (many / name).read_bytes(), name


def test_parquet_holds_the_same_rows_as_csv(tmp_path: Path) -> None:
    generate(tmp_path / "csv", taxpayers=1200, requests=400, seed=9)
    generate(tmp_path / "pq", taxpayers=1200, requests=400, seed=9, fmt="parquet")
    for stem in ("taxpayers", "addresses", "requests"):
        from_parquet = pq.read_table(tmp_path / "pq" / f"{stem}.parquet")
        from_csv = pacsv.read_csv(
            tmp_path / "csv" / f"{stem}.csv",
            convert_options=pacsv.ConvertOptions(
                column_types=from_parquet.schema, strings_can_be_null=False
            ),
        )
        assert from_csv.equals(from_parquet), stem
    truth = (tmp_path / "pq" / "truth.csv").read_bytes()
    assert truth == (tmp_path / "csv" / "truth.csv").read_bytes()


def test_tins_are_nine_digits_unique_and_itins_start_with_9(world_5k: World) -> None:
    tins = [r["tin"] for r in world_5k.rows("taxpayers.csv")]
    assert len(set(tins)) == len(tins) == 5000
    itins = 0
    for tin in tins:
        assert re.fullmatch(r"\d{9}", tin)
        if tin[0] == "9":
            itins += 1
            assert 50 <= int(tin[3:5]) <= 99 and int(tin[3:5]) not in (66, 67, 68, 69, 89, 93)
        else:
            assert tin[:3] not in ("000", "666") and tin[3:5] != "00" and tin[5:] != "0000"
    assert 0.01 < itins / len(tins) < 0.15
    master = set(tins)
    fresh_truth = [
        t for t in world_5k.rows("truth.csv") if t["true_tin"] and t["true_tin"] not in master
    ]
    assert fresh_truth == []


def test_master_addresses_are_consistent_and_histories_well_formed(world_5k: World) -> None:
    known = {z["zip_code"]: z for z in zipcodes.list_all()}
    years: dict[str, list[int]] = defaultdict(list)
    for a in world_5k.rows("addresses.csv"):
        z = known[a["zip"]]
        assert z["active"] and z["zip_code_type"] == "STANDARD"
        assert z["state"] == a["state"]
        assert z["city"].casefold() == a["city"].casefold()
        assert re.match(r"\d+ \S", a["street"])
        assert a["source"] in ("return", "change_of_address", "third_party", "irs_determined")
        years[a["tin"]].append(int(a["tax_year"]))
    assert len(years) == 5000
    for ys in years.values():
        assert 2 <= len(ys) <= 6
        assert len(set(ys)) == len(ys), "the current address (latest year) must be unique"
        assert all(2015 <= y <= 2024 for y in ys)


def test_hard_cases_are_present(world_5k: World) -> None:
    people = {r["tin"]: r for r in world_5k.rows("taxpayers.csv")}
    at: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    where: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for a in world_5k.rows("addresses.csv"):
        key = (a["street"].casefold(), a["zip"], a["unit"].casefold())
        at[key].add(a["tin"])
        where[a["tin"]].add(key)
    jr_sr = twins = households = 0
    for tins in at.values():
        group = [people[t] for t in tins]
        for i, p in enumerate(group):
            for q in group[i + 1 :]:
                if p["last_name"].casefold() != q["last_name"].casefold():
                    continue
                households += 1
                same_first = p["first_name"].casefold() == q["first_name"].casefold()
                if same_first and {p["suffix"], q["suffix"]} & {"Jr", "JR", "II"}:
                    jr_sr += 1
                if p["dob"] == q["dob"]:
                    twins += 1
    by_name_city: dict[tuple[str, str], set[str]] = defaultdict(set)
    for a in world_5k.rows("addresses.csv"):
        p = people[a["tin"]]
        name = (p["first_name"] + " " + p["last_name"]).casefold()
        by_name_city[(name, a["city"].casefold())].add(a["tin"])
    namesakes = sum(
        1
        for tins in by_name_city.values()
        if len(tins) > 1 and all(not (where[a] & where[b]) for a in tins for b in tins if a < b)
    )
    assert jr_sr >= 5
    assert twins >= 5
    assert households >= 200
    assert namesakes >= 5


def test_hispanic_share_is_about_45_percent() -> None:
    cultures = np.concatenate(
        [generate_block(1, STREAM_MASTER, b, BLOCK_SIZE, b * BLOCK_SIZE).culture for b in range(3)]
    )
    assert 0.42 < float(np.mean(cultures == HISPANIC)) < 0.48


def test_default_batch_shares(world_5k: World) -> None:
    truth = world_5k.rows("truth.csv")
    requests = world_5k.rows("requests.csv")
    outcomes = Counter(t["expected_outcome"] for t in truth)
    n = len(truth)
    assert 0.09 <= outcomes["rejected"] / n <= 0.11
    assert outcomes["ambiguous"] > 0
    reasons = Counter(t["expected_reason"] for t in truth if t["expected_reason"])
    assert set(reasons) == {
        "missing_name",
        "missing_address",
        "insufficient_address",
        "purpose_not_criminal",
        "missing_tax_periods",
        "invalid_tax_periods",
        "missing_statute",
        "statute_not_authorized",
        "missing_reason",
        "boilerplate_reason",
        "unauthorized_official",
        "implausible_certification",
        "duplicate_request_id",
    }
    valid = [t for t in truth if t["expected_outcome"] != "rejected"]
    in_file = sum(1 for t in valid if t["true_tin"])
    assert 0.4 < in_file / len(valid) < 0.6
    with_tin = sum(1 for r in requests if r["tin"])
    with_dob = sum(1 for r in requests if r["dob"])
    assert 0.15 < with_tin / n < 0.4
    assert 0.3 < with_dob / n < 0.5


def test_aug2025_batch_shape(world_aug: World) -> None:
    truth = world_aug.rows("truth.csv")
    requests = world_aug.rows("requests.csv")
    n = len(truth)
    outcomes = Counter(t["expected_outcome"] for t in truth)
    assert 0.025 <= outcomes["disclosed"] / n <= 0.055
    address_defects = sum(
        1 for t in truth if t["expected_reason"] in ("insufficient_address", "missing_address")
    )
    assert 0.3 <= address_defects / n <= 0.4
    assert sum(1 for r in requests if r["tin"]) / n > 0.75
    master = {r["tin"] for r in world_aug.rows("taxpayers.csv")}
    tin_no_match = sum(
        1
        for r, t in zip(requests, truth, strict=True)
        if t["expected_outcome"] == "no_match" and r["tin"].replace("-", "") in master
    )
    assert tin_no_match / n > 0.15


@pytest.mark.parametrize("which", ["world_5k", "world_aug"])
def test_rows_trip_exactly_the_rule_truth_names(which: str, request: pytest.FixtureRequest) -> None:
    world: World = request.getfixturevalue(which)
    roster = tomllib.loads((world.path / "roster.toml").read_text(encoding="utf-8"))
    (agency,) = roster["agencies"]
    assert agency["id"] == "DHS-ICE" and agency["safeguards_certified"]
    officials = {o["id"].casefold() for o in agency["officials"]}
    requests = world.rows("requests.csv")
    truth = world.rows("truth.csv")
    found = failures(requests, officials, date.today())
    mismatches = [
        (r["request_id"], t["expected_reason"], f)
        for r, t, f in zip(requests, truth, found, strict=True)
        if (f[0] if f else "") != t["expected_reason"]
        or (t["expected_reason"] not in ("missing_address",) and len(f) > 1)
    ]
    assert mismatches == []


def test_officials_stay_under_the_bound_except_the_implausible_one(world_5k: World) -> None:
    requests = world_5k.rows("requests.csv")
    truth = world_5k.rows("truth.csv")
    rows_by: Counter[str] = Counter(r["requesting_official"] for r in requests)
    implausible = {
        r["requesting_official"]
        for r, t in zip(requests, truth, strict=True)
        if t["expected_reason"] == "implausible_certification"
    }
    assert len(implausible) == 1
    for official, count in rows_by.items():
        if official in implausible:
            assert count > 200
        else:
            assert count <= 180, official


def test_valid_reasons_are_specific(world_5k: World) -> None:
    def normal(text: str) -> str:
        return " ".join(re.sub(r"[\d\W_]+", " ", text.casefold()).split())

    truth = world_5k.rows("truth.csv")
    counts = Counter(
        normal(r["reason"])
        for r, t in zip(world_5k.rows("requests.csv"), truth, strict=True)
        if t["expected_outcome"] != "rejected"
    )
    assert max(counts.values()) <= 3


def test_disclosed_rows_name_an_address_of_the_true_taxpayer(world_5k: World) -> None:
    history: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for a in world_5k.rows("addresses.csv"):
        history[a["tin"]].add((a["street"].split()[0], a["zip"]))
    disclosed = 0
    for r, t in zip(world_5k.rows("requests.csv"), world_5k.rows("truth.csv"), strict=True):
        if t["expected_outcome"] != "disclosed":
            continue
        disclosed += 1
        house = r["street"].split()[0]
        zips = {z for h, z in history[t["true_tin"]] if h == house}
        assert zips, r["request_id"]
        if r["zip"]:
            assert r["zip"][:5] in zips, r["request_id"]
    assert disclosed > 0.25 * len(world_5k.rows("truth.csv"))


def test_blocked_taxpayers_exist_and_are_never_disclosed(world_5k: World) -> None:
    blocked = {r["tin"] for r in world_5k.rows("taxpayers.csv") if r["disclosure_block"] == "true"}
    assert 0 < len(blocked) < 0.01 * 5000
    for t in world_5k.rows("truth.csv"):
        if t["expected_outcome"] == "disclosed":
            assert t["true_tin"] not in blocked


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"taxpayers": 0, "requests": 1, "seed": 1}, "taxpayers"),
        ({"taxpayers": 10, "requests": -1, "seed": 1}, "requests"),
        ({"taxpayers": 10, "requests": 1, "seed": -1}, "seed"),
        ({"taxpayers": 10, "requests": 1, "seed": 1, "fmt": "xlsx"}, "format"),
        ({"taxpayers": 10, "requests": 1, "seed": 1, "profile": "june"}, "profile"),
    ],
)
def test_bad_arguments_get_a_clear_error(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        generate(tmp_path, **kwargs)  # type: ignore[arg-type]


def test_tiny_worlds_work(tmp_path: Path) -> None:
    s = generate(tmp_path / "t", taxpayers=3, requests=25, seed=2)
    assert s.taxpayers == 3 and s.requests == 25
    assert sum(s.by_outcome.values()) == 25
    empty = generate(tmp_path / "e", taxpayers=3, requests=0, seed=2)
    assert empty.requests == 0
    assert _header(tmp_path / "e" / "requests.csv")[0] == "request_id"
