"""Training once, saving with a content hash, loading back, refusing altered files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pytest
from match_builders import Person, Place, manual_settings, master, requests

from custos.match.training import (
    ModelFileError,
    complete_untrained,
    load_model,
    model_hash,
    sample_requests,
    train,
    write_model,
)

GIVEN = [
    "JOHN",
    "MARY",
    "JOSE",
    "MARIA",
    "LUIS",
    "ANA",
    "PETER",
    "LINDA",
    "JAMES",
    "SARA",
    "KWAME",
    "MEI",
]
SURNAMES = [
    "SMITH",
    "GARCIA",
    "LOPEZ",
    "JONES",
    "NGUYEN",
    "KIM",
    "BROWN",
    "DAVIS",
    "OKAFOR",
    "RUIZ",
]
STREETS = ["MAIN", "OAK", "ELM", "MAPLE", "CEDAR", "PINE", "BIRCH", "WALNUT"]


def small_world(seed: int, taxpayers: int = 400) -> tuple[pa.Table, pa.Table]:
    """A random world: taxpayers with 1-3 addresses; every third one asked for, some with a typo."""
    rng = random.Random(seed)
    people, asked = [], []
    for i in range(taxpayers):
        homes = tuple(
            (
                2020 + k,
                Place(
                    f"{rng.randint(1, 300)} {rng.choice(STREETS)} St", f"6270{rng.randint(0, 9)}"
                ),
            )
            for k in range(rng.randint(1, 3))
        )
        dob = f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        person = Person(
            rng.choice(GIVEN), rng.choice(SURNAMES), dob=dob, tin=f"{100000000 + i}", history=homes
        )
        people.append(person)
        if i % 3 == 0:
            given = person.first if rng.random() < 0.8 else person.first[:-1] + "X"
            asked.append(
                (
                    f"R{i}",
                    Person(given, person.last, dob=dob if rng.random() < 0.5 else ""),
                    rng.choice(homes)[1],
                )
            )
    return requests(*asked), master(*people)


def test_hash_is_of_canonical_json() -> None:
    a = {"b": 1, "a": [1.5, {"y": None, "x": "é"}]}
    b = json.loads(json.dumps(a, indent=3))
    assert model_hash(a) == model_hash(b)
    assert model_hash(a) != model_hash({**a, "b": 2})
    assert len(model_hash(a)) == 64


def test_written_model_loads_with_the_same_hash(tmp_path: Path) -> None:
    settings = manual_settings()
    digest = write_model(settings, tmp_path / "model.json")
    loaded = load_model(tmp_path / "model.json")
    assert loaded.sha256 == digest == model_hash(settings)
    assert loaded.settings == settings


def test_altered_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    write_model(manual_settings(), path)
    document = json.loads(path.read_text())
    document["settings"]["comparisons"][0]["comparison_levels"][1]["m_probability"] = 0.5
    path.write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match="altered after training"):
        load_model(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a readable JSON"),
        ('{"format": "other"}', "not a custos match model"),
        ("[]", "not a custos"),
    ],
)
def test_foreign_files_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "model.json"
    path.write_text(content)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_missing_model_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="custos model train"):
        load_model(tmp_path / "nope.json")


def test_untrained_levels_are_filled_conservatively() -> None:
    settings = manual_settings()
    settings["linker_uid"] = "abc"
    never_in_em = settings["comparisons"][1]["comparison_levels"][4]
    del never_in_em["m_probability"]
    never_at_random = settings["comparisons"][5]["comparison_levels"][1]  # TIN exact
    del never_at_random["u_probability"]
    out = complete_untrained(settings, u_pairs=1e6)
    fixed = out["comparisons"][1]["comparison_levels"][4]
    assert fixed["m_probability"] == fixed["u_probability"] == never_in_em["u_probability"]
    tin_exact = out["comparisons"][5]["comparison_levels"][1]
    assert tin_exact["u_probability"] == 1e-6
    assert tin_exact["m_probability"] == never_at_random["m_probability"]
    assert "linker_uid" not in out


def test_request_sample_is_deterministic() -> None:
    asked, _ = small_world(1, taxpayers=60)
    one = sample_requests(asked, 5).column("unique_id").to_pylist()
    assert one == sample_requests(asked, 5).column("unique_id").to_pylist()
    assert len(one) == 5


@pytest.mark.slow
def test_training_is_deterministic_and_complete(tmp_path: Path) -> None:
    asked, people = small_world(7)
    first = train((asked, people), tmp_path / "a.json", u_pairs=2e5)
    second = train((asked, people), tmp_path / "b.json", u_pairs=2e5)
    assert first.sha256 == second.sha256
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    settings, digest = load_model(tmp_path / "a.json")
    assert digest == first.sha256
    assert 0 < settings["probability_two_random_records_match"] < 1
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level"):
                assert 0 < level["m_probability"] <= 1 and 0 < level["u_probability"] <= 1
    exact = settings["comparisons"][0]["comparison_levels"][1]
    assert exact["m_probability"] > exact["u_probability"]
