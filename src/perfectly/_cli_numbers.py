"""Parse integers written on a command line: 30000000, 30_000_000, 3e7, 2**40, 2**61-1."""

from __future__ import annotations

import decimal
import re

_POWER = re.compile(r"^\s*(\d[\d_]*)\s*\*\*\s*(\d[\d_]*)\s*(?:([+-])\s*(\d[\d_]*))?\s*$")
_MAX_BITS = 256


def parse_int(text: str) -> int:
    """The exact integer ``text`` denotes; ``ValueError`` if it denotes none."""
    power = _POWER.match(text)
    if power:
        base, exponent = int(power[1]), int(power[2])
        if exponent * max(base.bit_length(), 1) > _MAX_BITS:
            raise ValueError(f"{text!r} is too large")
        offset = int(power[4] or 0)
        return int(base**exponent) + (-offset if power[3] == "-" else offset)
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = decimal.Decimal(text.strip().replace("_", ""))
    except decimal.InvalidOperation:
        raise ValueError(f"{text!r} is not an integer") from None
    if not value.is_finite() or value != value.to_integral_value() or value.adjusted() > 80:
        raise ValueError(f"{text!r} is not an exact integer")
    return int(value)
