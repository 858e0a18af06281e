"""Canonical JSON (RFC 8785, JCS): one byte string per value, so hashes are reproducible.

Object keys are sorted by their UTF-16 code units, there is no whitespace,
strings are escaped minimally (only `"`, `\\` and control characters), numbers
are written as ECMAScript writes them, and the result is UTF-8. Values that
JSON cannot carry faithfully are refused rather than approximated: NaN and
infinities, integers beyond ±2**53, lone surrogates, non-string keys, and any
type other than dict, list/tuple, str, int, float, bool and None.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping

from custos.errors import LedgerError

MAX_SAFE_INTEGER = 2**53

_quote = json.encoder.encode_basestring
quote: Callable[[str], str] = _quote
"""One JSON string literal, escaped as RFC 8785 requires (the C encoder's own escaper)."""
_C_ENCODER = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


def encode(value: object) -> bytes:
    """The RFC 8785 canonical form of `value`, as UTF-8 bytes."""
    return dumps(value).encode("utf-8")


def dumps(value: object) -> str:
    """The RFC 8785 canonical form of `value`, as text.

    Values without floats, whose keys sort the same by code point as by UTF-16
    code unit, are written by the C JSON encoder, whose output is then exactly
    RFC 8785; anything else goes through the full writer below.
    """
    if _plain(value):
        text = _C_ENCODER.encode(value)
    else:
        parts: list[str] = []
        _write(value, parts)
        text = "".join(parts)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LedgerError(f"canonical JSON: a string holds a lone surrogate: {exc}") from exc
    return text


def number(value: float) -> str:
    """A float written as ECMAScript's Number.prototype.toString writes it (RFC 8785 §3.2.2.3)."""
    if not math.isfinite(value):
        raise LedgerError(f"canonical JSON cannot hold {value!r}")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    scale = (int(exp_text) if exp_text else 0) - len(fraction)
    stripped = digits.rstrip("0")
    scale += len(digits) - len(stripped)
    digits = stripped
    k = len(digits)
    n = k + scale
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        e = n - 1
        exponent = f"e{'+' if e >= 0 else '-'}{abs(e)}"
        body = (digits if k == 1 else f"{digits[0]}.{digits[1:]}") + exponent
    return sign + body


def _plain(value: object) -> bool:
    """Only dicts, lists, tuples, strings, safe integers, booleans and None; no float.

    Keys must be strings with no character at or above U+E000, where code-point
    order and UTF-16 order can disagree. Exact types only: subclasses (enums)
    take the full path.
    """
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return True
    if kind is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER  # type: ignore[operator]
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str or (key > "\ud7ff" and max(key) >= "\ue000"):
                return False
            if type(item) is not str and not _plain(item):
                return False
        return True
    if kind is list or kind is tuple:
        return all(type(item) is str or _plain(item) for item in value)  # type: ignore[attr-defined]
    return False


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _write(value: object, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_quote(value))
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise LedgerError(f"canonical JSON: integer {value} is beyond ±2**53")
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(number(value))
    elif isinstance(value, Mapping):
        _write_object(value, out)
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise LedgerError(f"canonical JSON cannot hold a {type(value).__name__}")


def _write_object(value: Mapping[object, object], out: list[str]) -> None:
    for key in value:
        if not isinstance(key, str):
            raise LedgerError(f"canonical JSON object keys must be strings, not {key!r}")
    keys: list[str] = sorted(value, key=_utf16_key)  # type: ignore[arg-type]
    out.append("{")
    for i, key in enumerate(keys):
        if i:
            out.append(",")
        out.append(_quote(key))
        out.append(":")
        _write(value[key], out)
    out.append("}")
