"""Synthetic taxpayer identification numbers.

A person's TIN is a function of their global index alone: a keyed bijection
maps the index into the space of well-formed SSNs (area 001–899 except 666,
group 01–99, serial 0001–9999) or of ITINs (9XX, group 50–65, 70–88, 90–92 or
94–99, any serial). Distinct indices therefore never share a TIN, without any
table of issued numbers, and people generated outside the master file (index
>= the number of taxpayers) can never carry a master taxpayer's TIN.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from custos.synth.rand import STREAM_TIN, rng_for

_SSN_GROUPS = 99
_SSN_SERIALS = 9999
SSN_SPACE = 898 * _SSN_GROUPS * _SSN_SERIALS
_ITIN_GROUPS = np.array(
    [*range(50, 66), *range(70, 89), *range(90, 93), *range(94, 100)], dtype=np.int64
)
ITIN_SPACE = 100 * len(_ITIN_GROUPS) * 10_000
MAX_PEOPLE = ITIN_SPACE
"""Indices at or above this would wrap the ITIN space and could repeat a TIN."""


def _keys(seed: int, kind: int) -> list[int]:
    rng = rng_for(seed, STREAM_TIN, kind)
    return [int(k) | 1 for k in rng.integers(1, 2**40, size=6)]


def _permute(x: np.ndarray, space: int, keys: list[int]) -> np.ndarray:
    """A keyed bijection of [0, space) onto itself (mix rounds plus cycle-walking)."""
    bits = max(int(space - 1).bit_length(), 2)
    mask = np.uint64((1 << bits) - 1)
    half = np.uint64(bits // 2)
    y = x.astype(np.uint64)
    out = np.empty_like(y)
    todo = np.arange(len(y))
    while len(todo):
        z = y[todo]
        for k in range(0, len(keys), 2):
            z = (z * np.uint64(keys[k])) & mask
            z ^= z >> half
            z = (z + np.uint64(keys[k + 1])) & mask
        y[todo] = z
        done = z < np.uint64(space)
        out[todo[done]] = z[done]
        todo = todo[~done]
    return out.astype(np.int64)


def tin_numbers(seed: int, index: np.ndarray, itin: np.ndarray) -> np.ndarray:
    """The TINs of people `index` as 9-digit integers (ITINs where `itin`)."""
    if len(index) and int(index.max()) >= MAX_PEOPLE:
        raise ValueError(f"at most {MAX_PEOPLE} people can get distinct TINs")
    result = np.zeros(len(index), dtype=np.int64)
    ssn_at = ~itin
    if ssn_at.any():
        n = _permute(index[ssn_at], SSN_SPACE, _keys(seed, 0))
        area = n // (_SSN_GROUPS * _SSN_SERIALS) + 1
        area = area + (area >= 666)
        rest = n % (_SSN_GROUPS * _SSN_SERIALS)
        group = rest // _SSN_SERIALS + 1
        serial = rest % _SSN_SERIALS + 1
        result[ssn_at] = area * 1_000_000 + group * 10_000 + serial
    if itin.any():
        n = _permute(index[itin], ITIN_SPACE, _keys(seed, 1))
        area = 900 + n // (len(_ITIN_GROUPS) * 10_000)
        rest = n % (len(_ITIN_GROUPS) * 10_000)
        group = _ITIN_GROUPS[rest // 10_000]
        serial = rest % 10_000
        result[itin] = area * 1_000_000 + group * 10_000 + serial
    return result


def tin_strings(numbers: np.ndarray) -> pa.Array:
    """9-digit zero-padded strings."""
    return pc.utf8_lpad(pa.array(numbers).cast(pa.string()), 9, "0")


def format_tin(number: int) -> str:
    return f"{number:09d}"
