"""Gate throughput: rows per second for the whole gate on one batch.

Usage (from the repository root):

    .venv/bin/python benchmarks/bench_gate.py --rows 100000
    .venv/bin/python benchmarks/bench_gate.py --world DIR     # a world's requests file

Without --world it builds synthetic requests itself: varied US street
addresses in the formatting variants requesters use (Street/St/ST., Apt/#/Unit,
ZIP+4, spelled-out ordinals, forms only the full parser handles), about 10 %
invalid rows of every kind the gate rejects, officials holding ~125 subjects
each. Prints the time to warm the ZIP table and rows/s for a cold and a warm
(cached) pass. Issue 2 target: ≥ 20,000 rows/s on 2 cores.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

from custos.model import GateResult, Request, Subject
from custos.policy.gate import evaluate_batch
from custos.policy.pack import load_pack
from custos.policy.roster import Agency, Official, Roster
from custos.standardize.addresses import zip_states

FIRST = [
    "Maria",
    "Jose",
    "Juan",
    "Luis",
    "Ana",
    "Carmen",
    "Francisco",
    "Guadalupe",
    "Jesus",
    "Antonio",
    "Linh",
    "Wei",
    "Priya",
    "Omar",
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "Nguyen",
    "Rosa",
]
LAST = [
    "Garcia",
    "Hernandez",
    "Lopez",
    "Martinez",
    "Gonzalez",
    "Perez",
    "Rodriguez",
    "Sanchez",
    "Ramirez",
    "Torres",
    "Nguyen",
    "Tran",
    "Chen",
    "Li",
    "Patel",
    "Singh",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Ali",
    "Khan",
    "Santos",
    "Reyes",
]
STREETS = [
    "Main",
    "Oak",
    "Maple",
    "Pine",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Sunset",
    "Lincoln",
    "Jackson",
    "Franklin",
    "Madison",
    "Church",
    "Spring",
    "Ridge",
    "Meadow",
    "Highland",
    "Walnut",
    "Cherry",
    "Chestnut",
    "Willow",
    "Mill",
    "River",
    "Forest",
    "Valley",
    "Jefferson",
    "Adams",
    "Monroe",
    "Center",
    "Broad",
    "Market",
    "Union",
    "Water",
    "Bridge",
    "Grant",
    "Wilson",
    "Lee",
    "Cesar",
    "Chavez",
    "Martin",
    "Luther",
    "King",
    "Jr",
    "Rosewood",
    "Magnolia",
    "Palm",
    "Mesquite",
    "Alamo",
    "Bluebonnet",
]
ORDINALS = ["1st", "2nd", "3rd", "4th", "5th", "Eighteenth", "22nd", "Third", "43rd", "101st"]
SUFFIXES = [
    "Street",
    "St",
    "ST.",
    "Avenue",
    "Ave",
    "Ave.",
    "Road",
    "Rd",
    "Drive",
    "Dr",
    "Boulevard",
    "Blvd",
    "Lane",
    "Ln",
    "Court",
    "Ct",
    "Place",
    "Pl",
    "Way",
    "Circle",
    "Cir",
    "Parkway",
    "Pkwy",
    "Terrace",
    "Trail",
]
DIRS = ["", "", "", "N", "S", "E", "W", "North", "West", "NE"]
UNITS = [
    "",
    "",
    "",
    "",
    "Apt 3",
    "Apt. 12B",
    "#4",
    "# 210",
    "Unit 7",
    "Ste 200",
    "Apt 3-B",
    "Unit C",
]
ODD_FORMS = [
    "{n} Avenue {l}",
    "{n} Broadway",
    "{n} Calle {s}",
    "{n} Camino del {s}",
    "{n} Highway {k}",
    "{n} County Road {k}",
    "{n} {s}",
]
PLACEHOLDERS = [
    "Failed to Provide",
    "Unknown Address",
    "NA NA",
    "Don't Care 12345",
    "N/A",
    "Unknown",
    "Homeless",
    "Not Provided",
    "XXX",
    "12345",
    "Refused",
    "TBD",
]
JAILS = ["Harris County Jail", "Cibola County Correctional Center", "Otay Mesa Detention Center"]
REASON_WHAT = [
    "named in removal order",
    "failed to depart after the final order",
    "reentered after removal",
    "harbors removed aliens at",
    "was last seen near",
]
REASON_WHY = [
    "address needed to serve the arrest warrant",
    "address corroborates an informant report",
    "address needed to locate the subject for arrest",
    "address links the subject to the case file",
    "address needed to plan the arrest team",
]
VALID_REASON = "{first} {last} {what} case {c}; {why} ({y})."
BOILERPLATE = (
    "Subject is subject to a final order of removal and is believed to reside at the address given."
)


def _zip_pool(rng: random.Random) -> list[tuple[str, str]]:
    pool = sorted(zip_states().items())
    return rng.sample(pool, 3000)


def _street(rng: random.Random, i: int) -> str:
    n = str(rng.randint(1, 19999))
    if rng.random() < 0.12:
        form = rng.choice(ODD_FORMS)
        return form.format(
            n=n, l=rng.choice("ABCDEFG"), s=rng.choice(STREETS), k=rng.randint(1, 99)
        )
    name = (
        rng.choice(ORDINALS)
        if rng.random() < 0.2
        else " ".join(rng.sample(STREETS, rng.choice((1, 1, 1, 2))))
    )
    parts = [n, rng.choice(DIRS), name, rng.choice(SUFFIXES), rng.choice(UNITS)]
    text = " ".join(p for p in parts if p)
    if rng.random() < 0.2:
        text = text.upper()
    elif rng.random() < 0.1:
        text = text.lower()
    return text


def build_requests(rows: int, seed: int = 7) -> tuple[list[Request], Roster]:
    rng = random.Random(seed)
    zips = _zip_pool(rng)
    officials = [f"ICE-{k:04d}" for k in range(1, rows // 125 + 2)]
    roster = Roster(
        agencies=(
            Agency(
                id="DHS-ICE",
                name="U.S. Immigration and Customs Enforcement",
                officials=tuple(
                    Official(id=o, agency="DHS-ICE", recipient=True) for o in officials
                ),
            ),
        )
    )
    boiler_rows = set(rng.sample(range(rows), max(30, rows // 40)))
    requests = []
    for i in range(rows):
        zip5, state = rng.choice(zips)
        subject = {
            "first_name": rng.choice(FIRST),
            "last_name": rng.choice(LAST) + ("" if rng.random() < 0.7 else " " + rng.choice(LAST)),
            "street": _street(rng, i),
            "city": "Springfield",
            "state": state,
            "zip": zip5 if rng.random() < 0.8 else f"{zip5}-{rng.randint(0, 9999):04d}",
            "dob": f"19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        }
        fields = {
            "purpose": rng.choice(["criminal investigation", "Criminal Investigation", "criminal"]),
            "statute": rng.choice(
                [
                    "8 U.S.C. § 1253(a)(1)",
                    "8 USC 1253(a)(1)",
                    "8 U.S.C. 1253(a)(1)",
                    "8 U.S.C. § 1326(a)",
                ]
            ),
            "tax_periods": rng.choice(["2023", "2022;2023", "2021-2023", "2024"]),
            "reason": VALID_REASON.format(
                first=subject["first_name"],
                last=subject["last_name"],
                what=rng.choice(REASON_WHAT),
                why=rng.choice(REASON_WHY),
                c=rng.randint(10**6, 10**7),
                y=rng.randint(2015, 2024),
            ),
            "requesting_official": officials[i % len(officials)],
        }
        if i in boiler_rows:
            fields["reason"] = BOILERPLATE
        roll = rng.random()
        if roll < 0.03:
            subject["street"] = rng.choice(PLACEHOLDERS)
        elif roll < 0.04:
            subject["street"] = rng.choice(JAILS)
        elif roll < 0.045:
            subject["street"] = f"PO Box {rng.randint(1, 9999)}"
        elif roll < 0.05:
            subject["street"] = ""
        elif roll < 0.06:
            fields["purpose"] = "civil immigration enforcement"
        elif roll < 0.07:
            fields["tax_periods"] = rng.choice(
                ["2099", "1990", "FY23", "last year", "2023-2021", ""]
            )
        elif roll < 0.08:
            fields["statute"] = rng.choice(["8 U.S.C. § 1227(a)", "26 U.S.C. § 7201", ""])
        elif roll < 0.09:
            fields["requesting_official"] = rng.choice(["ICE-9999", "CBP-0042", "DIRECTOR"])
        elif roll < 0.095:
            subject["zip"] = "00000"
        requests.append(
            Request(
                row=i + 1,
                line=i + 2,
                request_id=f"R{i:07d}" if rng.random() > 0.001 else "R0000001",
                case_number=f"C{rng.randint(10**5, 10**6)}",
                subject=Subject(**subject),
                **fields,
            )
        )
    return requests, roster


def _world_requests(world: Path) -> tuple[list[Request], Roster]:
    from custos.intake import read_batch
    from custos.policy.roster import load_roster

    batch = read_batch(next(world.glob("requests.*")))
    return list(batch.requests), load_roster(world / "roster.toml")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--world", type=Path, help="use this world's requests and roster")
    args = parser.parse_args()

    t = time.perf_counter()
    zip_states()
    warm_zip = time.perf_counter() - t
    if args.world:
        requests, roster = _world_requests(args.world)
    else:
        requests, roster = build_requests(args.rows, args.seed)
    pack = load_pack()

    t = time.perf_counter()
    results = evaluate_batch(requests, pack, roster)
    cold = time.perf_counter() - t
    t = time.perf_counter()
    evaluate_batch(requests, pack, roster)
    warm = time.perf_counter() - t

    n = len(requests)
    passed = sum(r.passed for r in results)
    primaries = Counter(r.primary_reason for r in results if r.primary_reason)
    print(f"rows: {n}   passed: {passed}   rejected: {n - passed}")
    for code, count in primaries.most_common():
        print(f"  {code.value:28} {count}")
    print(f"zip table load: {warm_zip:.2f} s")
    print(f"gate, cold caches: {cold:.2f} s = {n / cold:,.0f} rows/s")
    print(f"gate, warm caches: {warm:.2f} s = {n / warm:,.0f} rows/s")
    if args.world and (args.world / "truth.csv").is_file():
        _against_truth(args.world, results)
    return 0


def _against_truth(world: Path, results: list[GateResult]) -> None:
    """Compare verdicts with truth.csv row by row (truth has one line per request row)."""
    import csv

    with (world / "truth.csv").open(newline="", encoding="utf-8") as fh:
        truth = dict(enumerate(csv.DictReader(fh), start=1))
    by_row = {r.row: r for r in results}
    missed = wrong_reason = false_reject = rejected_truth = 0
    for row, t in truth.items():
        verdict = by_row.get(row)
        if verdict is None:
            continue
        if t["expected_outcome"] == "rejected":
            rejected_truth += 1
            if verdict.passed:
                missed += 1
            elif verdict.primary_reason != t["expected_reason"]:
                wrong_reason += 1
        elif not verdict.passed:
            false_reject += 1
    print(f"truth: {rejected_truth} rows to reject, {len(truth) - rejected_truth} valid")
    print(f"  rejected rows the gate passed: {missed}")
    print(f"  rejected rows with another primary reason: {wrong_reason}")
    print(f"  valid rows the gate rejected: {false_reject}")


if __name__ == "__main__":
    sys.exit(main())
