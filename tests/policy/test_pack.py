"""Policy packs: the shipped pack's contents, its content hash, and refusal of invalid packs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from custos.errors import PolicyError
from custos.model import ReasonCode
from custos.policy.gate import CHECKS
from custos.policy.pack import DEFAULT_PACK, RULE_IDS, Pack, load_pack

Write = Callable[[str, str], Path]
DEFAULT_TEXT = DEFAULT_PACK.read_text(encoding="utf-8")


def test_default_pack_identity(pack: Pack) -> None:
    assert (pack.ref.id, pack.ref.version) == ("irc-6103-i-2", "1.0.0")
    assert pack.ref.sha256 == hashlib.sha256(DEFAULT_PACK.read_bytes()).hexdigest()


def test_default_pack_rules_in_spec_order(pack: Pack) -> None:
    assert [r.id for r in pack.rules] == list(RULE_IDS)
    assert [r.reason for r in pack.rules] == [
        ReasonCode.MISSING_NAME,
        ReasonCode.MISSING_ADDRESS,
        ReasonCode.INSUFFICIENT_ADDRESS,
        ReasonCode.PURPOSE_NOT_CRIMINAL,
        ReasonCode.MISSING_TAX_PERIODS,
        ReasonCode.INVALID_TAX_PERIODS,
        ReasonCode.MISSING_STATUTE,
        ReasonCode.STATUTE_NOT_AUTHORIZED,
        ReasonCode.MISSING_REASON,
        ReasonCode.BOILERPLATE_REASON,
        ReasonCode.UNAUTHORIZED_OFFICIAL,
        ReasonCode.IMPLAUSIBLE_CERTIFICATION,
        ReasonCode.DUPLICATE_REQUEST_ID,
    ]


def test_every_rule_carries_its_clause_and_a_check(pack: Pack) -> None:
    for rule in pack.rules:
        assert rule.clause.strip(), rule.id
        assert rule.description.strip(), rule.id
        assert rule.id in CHECKS
    statutory = [r for r in pack.rules if r.id != "request-id-unique"]
    assert all("6103(i)(2)" in r.clause for r in statutory)


def test_default_pack_settings(pack: Pack) -> None:
    assert pack.statute_allowlist == {"8 usc 1253(a)(1)", "8 usc 1326(a)", "8 usc 1324(a)(1)(a)"}
    assert "criminal investigation" in pack.criminal_purposes
    assert pack.lookback_years == 10
    assert (pack.boilerplate_share, pack.boilerplate_min_rows) == (0.02, 25)
    assert pack.boilerplate_limit(100) == 25
    assert pack.boilerplate_limit(100_000) == 2000
    assert pack.max_subjects_per_official == 200
    assert pack.disclosure_profile == "address-current"
    assert pack.disclosure_fields == ("street", "unit", "city", "state", "zip", "as_of_tax_year")
    match = pack.match
    assert (match.threshold, match.review_threshold) == (0.999, 0.9)
    assert (match.margin_weight, match.margin_any_weight) == (30.0, 0.0)


def test_pack_hash_changes_when_the_file_changes(write: Write) -> None:
    same = load_pack(write("same.toml", DEFAULT_TEXT))
    edited = load_pack(write("edited.toml", DEFAULT_TEXT + "\n# amended\n"))
    assert same.ref == load_pack().ref
    assert edited.ref.sha256 != same.ref.sha256
    assert (
        edited.ref.sha256 == hashlib.sha256((DEFAULT_TEXT + "\n# amended\n").encode()).hexdigest()
    )


def _broken(write: Write, old: str, new: str) -> Path:
    assert old in DEFAULT_TEXT
    return write("broken.toml", DEFAULT_TEXT.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('reason = "missing_name"', 'reason = "missing_nam"', "unknown reason code 'missing_nam'"),
        ('reason = "missing_name"', 'reason = "malformed_row"', "unknown reason code"),
        ('clause = "26 USC 6103(i)(2)(A)"\n', "", "missing clause"),
        ('clause = "26 USC 6103(i)(2)(B)(iv)"', 'clause = "  "', "clause is blank"),
        ('id = "subject-address"', 'id = "subject-name"', "duplicate rule id"),
        ('id = "subject-address"', 'id = "subject-adress"', "unknown rule id"),
        (
            'id = "subject-address"',
            'id = "subject-address"\nseverity = "high"',
            "unknown key(s) severity",
        ),
        ("[boilerplate]\nshare = 0.02", "[boilerplate]\nshare = 2.0", "share must lie between"),
        ("min_rows = 25", 'min_rows = "25"', "min_rows must be an integer"),
        ("max_subjects_per_official = 200", "max_subjects_per_official = 0", "at least 1"),
        ("lookback_years = 10", "lookback_yrs = 10", "lookback_yrs"),
        ("[match]", "[matching]", "unknown key(s) matching"),
        ('cite = "8 USC 1326(a)"', 'cite = "8 U.S.C. § 1253(a)(1)"', "listed twice"),
        ('version = "1.0.0"', 'version = ""', "version is blank"),
        ("[pack]", "[pack", "not valid TOML"),
    ],
)
def test_invalid_pack_is_refused(write: Write, old: str, new: str, message: str) -> None:
    path = _broken(write, old, new)
    with pytest.raises(PolicyError) as exc:
        load_pack(path)
    assert message in str(exc.value)
    assert str(path) in str(exc.value)


def test_pack_without_rules_is_refused(write: Write) -> None:
    text = "\n".join(line for line in DEFAULT_TEXT.splitlines() if not line.startswith("[[rules"))
    with pytest.raises(PolicyError, match="rules"):
        load_pack(write("norules.toml", text))


def test_missing_pack_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="pack file not found"):
        load_pack(tmp_path / "nope.toml")


def test_binary_pack_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_pack(path)


def test_a_pack_may_use_a_subset_of_rules_in_its_own_order(write: Write) -> None:
    head, _, _ = DEFAULT_TEXT.partition("[[rules]]")
    _, _, tail = DEFAULT_TEXT.partition("\n[purpose]\n")
    rules = """
[[rules]]
id = "purpose-criminal"
clause = "26 USC 6103(i)(2)(A)"
reason = "purpose_not_criminal"
description = "criminal purposes only"

[[rules]]
id = "subject-name"
clause = "26 USC 6103(i)(2)(B)(i)"
reason = "missing_name"
description = "a name"
"""
    pack = load_pack(write("small.toml", head + rules + "\n[purpose]\n" + tail))
    assert [r.id for r in pack.rules] == ["purpose-criminal", "subject-name"]
