"""Request boilerplate of the lawful and the unlawful kind: statutes, purposes, reasons.

A valid row's reason is composed from several independent word lists and the
subject's city, so that (after the gate's normalisation: casefold, no digits,
no punctuation) no reason repeats on more than a handful of rows even in a
batch of a million. The one boilerplate reason is the opposite: the same words
on thousands of rows, varied only in case, digits and punctuation.
"""

from __future__ import annotations

from custos.synth.rand import Uniform, between, chance, cumulative, pick, pick_weighted

VALID_PURPOSES: tuple[str, ...] = (
    "criminal investigation",
    "Criminal Investigation",
    "criminal",
    "Criminal",
    "criminal proceeding",
    "criminal investigation or proceeding",
)
_PURPOSE_CUM = cumulative((45, 20, 15, 8, 7, 5))
CIVIL_PURPOSES: tuple[str, ...] = (
    "civil",
    "Civil enforcement",
    "administrative",
    "removal proceedings",
    "immigration enforcement",
    "civil immigration enforcement",
    "administrative removal",
    "N/A",
    "",
)

STATUTES: dict[str, tuple[str, ...]] = {
    "1253": ("8 U.S.C. § 1253(a)(1)", "8 USC 1253(a)(1)", "8 U.S.C. 1253(a)(1)"),
    "1326": ("8 U.S.C. § 1326(a)", "8 USC 1326(a)"),
    "1324": ("8 U.S.C. § 1324(a)(1)(A)", "8 USC 1324(a)(1)(A)"),
}
"""Written forms of the pack's allow-listed statutes, by section."""
_STATUTE_SHARE = (("1253", 0.7), ("1326", 0.2), ("1324", 0.1))

UNAUTHORIZED_STATUTES: tuple[str, ...] = (
    "8 U.S.C. § 1227(a)",
    "8 U.S.C. § 1182",
    "26 U.S.C. § 7201",
    "8 U.S.C. § 1229a",
    "18 U.S.C. § 1546",
    "8 U.S.C. § 1357(g)",
    "INA 237(a)(1)(B)",
)
"""Civil deportability, inadmissibility, tax, and others not on the allowlist."""

VALID_PERIODS: tuple[str, ...] = (
    "{y}",
    "{y}",
    "{p};{y}",
    "{a}-{y}",
    "{a};{y}",
)
INVALID_PERIODS: tuple[str, ...] = (
    "2099",
    "1990",
    "FY23",
    "last year",
    "2023-2021",
    "20233",
    "2012",
    "2022/2023",
    "tax year 2022",
)

_OPENERS = (
    "Investigation indicates that",
    "Agency records show that",
    "Case agents have established that",
    "Surveillance by the field office indicates that",
    "A confidential source reported that",
    "Interviews with associates indicate that",
    "Database checks confirm that",
    "Travel records reviewed in this case show that",
    "Documents seized in a related search show that",
    "Employment records obtained by subpoena indicate that",
    "A cooperating witness stated that",
    "Court records in the underlying case show that",
    "Financial records gathered by the task force indicate that",
    "Border crossing records reviewed by agents show that",
    "Intercepted communications indicate that",
    "A tip received by the tip line and corroborated by agents states that",
    "Phone records obtained by warrant suggest that",
    "Analysis of the case file shows that",
)
_SUBJECTS = (
    "the subject",
    "this individual",
    "the named subject",
    "the target",
    "the person named in this request",
    "the subject of this case",
)
_ACTS: dict[str, tuple[str, ...]] = {
    "1253": (
        "remained in the United States after a final order of removal",
        "failed to depart within the period set by the final removal order",
        "did not surrender for removal as ordered",
        "has not departed despite a final order of removal entered by an immigration judge",
        "failed to appear for scheduled removal",
        "refused to apply for travel documents needed to carry out removal",
        "absconded after the removal order became final",
        "connived to prevent departure under a final order of removal",
        "missed the departure date fixed in the order of removal",
        "stayed after the appeal of the removal order was dismissed",
        "moved without notice after the final order of removal",
        "ignored a bag-and-baggage letter requiring surrender for removal",
    ),
    "1326": (
        "reentered the United States after removal without permission",
        "was found in the United States after a prior removal",
        "crossed the border again after being deported",
        "returned after removal and used a different name",
        "reentered after removal and was recently encountered",
        "came back after a removal that followed a felony conviction",
        "was removed and is now believed to be back in the country",
        "reentered without consent of the Secretary after removal",
    ),
    "1324": (
        "is harboring removable aliens at a residence",
        "transported undocumented workers for pay",
        "arranged housing for aliens brought in unlawfully",
        "recruited and moved aliens across state lines",
        "concealed aliens from detection at a work site",
        "collected fees for bringing aliens into the country",
        "operated a stash house for smuggled aliens",
        "shielded employees known to be present unlawfully",
    ),
}
_EVIDENCE = (
    "and is believed to live at or near the address given",
    "and utility records point to the address given",
    "and a vehicle registered to the subject was seen at the address given",
    "and mail for the subject is delivered to the address given",
    "and a relative confirmed the subject stays at the address given",
    "and the subject listed the address given on a recent application",
    "and neighbours described someone matching the subject at the address given",
    "and a probation file lists the address given",
    "and a lease application names the subject at the address given",
    "and recent bank statements were sent to the address given",
    "and an employer lists the address given for the subject",
    "and agents observed the subject entering the address given",
)
_PLACES = (
    "in {city}",
    "near {city}",
    "in the {city} area",
    "around {city}",
    "in and around {city}",
)
_NEEDS = (
    "the address is needed to execute an arrest warrant",
    "agents need a current address to serve a criminal summons",
    "the address would let agents locate the subject for prosecution",
    "a current address is needed to plan a safe arrest",
    "the address is needed to confirm the subject's residence before indictment",
    "the address will be used to locate witnesses tied to the subject",
    "the address is needed to seek a search warrant",
    "the prosecutor needs a confirmed address for the complaint",
    "the address is needed to arrange a controlled surrender",
    "the address would confirm venue for the prosecution",
)
_TIMES = (
    "since {year}",
    "as of {year}",
    "in {year}",
    "during {year}",
    "after {year}",
    "",
)

BOILERPLATE_REASONS: tuple[str, ...] = (
    "Subject is an alien present in the United States who is subject to a final order of "
    "removal; current address required for enforcement",
    "The alien named is removable and the address is required to locate the alien for "
    "enforcement action",
    "Alien is subject to removal and his or her last known address is needed",
)


def purpose(u: Uniform) -> str:
    """A purpose the pack accepts, in the forms agencies use."""
    return pick_weighted(u, VALID_PURPOSES, _PURPOSE_CUM)


def statute(u: Uniform) -> tuple[str, str]:
    """(section, written statute) for a valid row."""
    r = u.random()
    acc = 0.0
    section = _STATUTE_SHARE[-1][0]
    for s, p in _STATUTE_SHARE:
        acc += p
        if r < acc:
            section = s
            break
    return section, pick(u, STATUTES[section])


def tax_periods(u: Uniform) -> str:
    """A valid taxable-period list with years in 2019–2024."""
    y = between(u, 2020, 2024)
    a = between(u, 2019, y - 1)
    return pick(u, VALID_PERIODS).format(y=y, p=y - 1, a=a)


def reason(section: str, city: str, u: Uniform) -> str:
    """A specific reason for a valid row, consistent with the statute."""
    parts = [pick(u, _OPENERS), pick(u, _SUBJECTS), pick(u, _ACTS[section])]
    when = pick(u, _TIMES).format(year=between(u, 2016, 2025))
    if when:
        parts.append(when)
    parts.append(pick(u, _EVIDENCE))
    if city:
        parts.append(pick(u, _PLACES).format(city=city.title()))
    return " ".join(parts) + "; " + pick(u, _NEEDS) + "."


def boilerplate(text: str, u: Uniform) -> str:
    """The boilerplate reason, differing only in case, digits and punctuation."""
    out = text
    r = u.random()
    if r < 0.15:
        out = out.upper()
    elif r < 0.25:
        out = out.lower()
    if chance(u, 0.5):
        out = out.replace(";", ",")
    if chance(u, 0.4):
        out += pick(u, (" ({n})", " #{n}", " - {n}")).format(n=between(u, 1, 999999))
    return out + pick(u, (".", "", " .", ".."))


def case_number(u: Uniform) -> str:
    office = pick(
        u,
        (
            "HSI-LA",
            "HSI-HOU",
            "HSI-NYC",
            "ERO-CHI",
            "HSI-MIA",
            "HSI-PHX",
            "ERO-DAL",
            "HSI-SEA",
            "HSI-ATL",
            "ERO-SA",
            "HSI-DEN",
            "HSI-NWK",
            "HSI-SF",
            "ERO-SD",
            "HSI-ELP",
            "ERO-BOS",
        ),
    )
    return f"{office}-{between(u, 2022, 2025)}-{between(u, 1, 99999):05d}"
