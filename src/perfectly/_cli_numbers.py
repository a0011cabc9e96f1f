"""Parse integers written on a command line: 30000000, 30_000_000, 3e7, 2**40, 2**61-1,
1e15+4e6, 2**64-1e9.

One rule for every notation: the text must denote an exact integer whose absolute value
is below ``LIMIT`` (in a power, so must the base, the exponent and the offset), written
in ASCII digits, with underscores only between digits (as in Python literals). The
bound keeps parsing cheap: ``10**10**10`` or ``1e999999999`` is refused before any big
number is built. It promises nothing about speed: σ(n) for a 1000-bit n takes a moment
when n factors easily and forever when it has two large prime factors, and no bound on
the size tells those apart (Ctrl-C stops it).
"""

from __future__ import annotations

import decimal
import re

#: Every number on the command line is below this in absolute value (309 decimal digits).
LIMIT = 2**1024
LIMIT_TEXT = "2**1024"

_DIGITS = r"[0-9]+(?:_[0-9]+)*"
_DECIMAL = re.compile(rf"([+-]?{_DIGITS}(?:\.{_DIGITS})?)(?:[eE]([+-]?)({_DIGITS}))?", re.ASCII)
_POWER = re.compile(rf"({_DIGITS})\s*\*\*\s*({_DIGITS})", re.ASCII)
# A term is a power or a decimal literal; a number is a sum of a few terms (2**64-1e9).
_TERM = rf"(?:{_DIGITS}\s*\*\*\s*{_DIGITS}|{_DIGITS}(?:\.{_DIGITS})?(?:[eE][+-]?{_DIGITS})?)"
_SUM = re.compile(rf"([+-]?)\s*({_TERM})((?:\s*[+-]\s*{_TERM})*)", re.ASCII)
_NEXT = re.compile(rf"\s*([+-])\s*({_TERM})", re.ASCII)
#: The most terms a number may have.
MAX_TERMS = 8
_LIMIT_DIGITS = len(str(LIMIT))  # a literal with more digits is at least 10**309 > LIMIT
# Powers of ten beyond this are clamped to it: the outcome (too large, or not an integer)
# is the same, and decimal refuses exponents past 10**18.
_MAX_EXPONENT = 10**9
_EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
_EXAMPLES = "write it as 30000000, 30_000_000, 3e7, 2**40, 2**61-1 or 1e15+4e6"


def parse_int(text: str) -> int:
    """The exact integer a number written as on the command line denotes.

    A sum of up to 8 terms, each a power (``2**61``) or a decimal literal that denotes an
    integer (``30_000_000``, ``3e7``, ``1.5e3``): ``2**64-1e9``, ``1e15+4e6``. The
    command line reads every number this way; scripts that take ranges the same way can
    use it too.

    Parameters
    ----------
    text : str
        The number, in ASCII digits, with underscores only between digits; spaces
        around ``+``, ``-`` and ``**`` are allowed.

    Returns
    -------
    int
        The exact value, below 2**1024 in absolute value.

    Raises
    ------
    TypeError
        If ``text`` is not a str.
    ValueError
        If ``text`` denotes no integer (``1.5``, ``1e-3``, ``abc``), has more than 8
        terms, or denotes one of 2**1024 or more.

    Examples
    --------
    >>> import perfectly
    >>> perfectly.parse_int("2**64-1e9"), perfectly.parse_int("30_000_000")
    (18446744072709551616, 30000000)
    >>> perfectly.parse_int("1.5")
    Traceback (most recent call last):
      ...
    ValueError: '1.5' is not an exact integer
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_int takes a str, not {type(text).__name__}")
    whole = _SUM.fullmatch(text.strip())
    if whole is None:
        raise ValueError(f"{text!r} is not an integer: {_EXAMPLES}")
    sign, first, rest = whole.groups()
    terms = [(sign, first), *_NEXT.findall(rest)]
    if len(terms) > MAX_TERMS:
        raise ValueError(f"{text!r} has more than {MAX_TERMS} terms")
    value = sum((-1 if sign == "-" else 1) * _term(text, term) for sign, term in terms)
    if abs(value) >= LIMIT:
        raise _too_large(text)
    return value


def _term(text: str, term: str) -> int:
    if power := _POWER.fullmatch(term):
        return _power(text, _literal(text, power[1]), _literal(text, power[2]))
    number = _DECIMAL.fullmatch(term)
    assert number is not None  # _TERM admits nothing else
    return _decimal(text, *number.groups())


def _too_large(text: str) -> ValueError:
    return ValueError(f"{text!r} is too large: numbers must be < {LIMIT_TEXT}")


def _literal(text: str, digits: str) -> int:
    """An unsigned digit string as an int, refused when it must reach LIMIT."""
    digits = digits.replace("_", "").lstrip("0") or "0"
    if len(digits) > _LIMIT_DIGITS:
        raise _too_large(text)
    return int(digits)


def _power(text: str, base: int, exponent: int) -> int:
    """base**exponent, refused before it is built when no offset (< LIMIT) can bring it
    back below LIMIT."""
    if base >= 2 and exponent * (base.bit_length() - 1) > LIMIT.bit_length():
        raise _too_large(text)
    if base < 2:  # 0**0 == 1, 0**e == 0, 1**e == 1, whatever the size of e
        return int(base ** min(exponent, 1))
    return int(base**exponent)


def _decimal(text: str, mantissa: str, exponent_sign: str, exponent: str | None) -> int:
    """The integer a decimal literal denotes exactly (1e100 and 1.5e3 are exact)."""
    digits = (exponent or "0").replace("_", "").lstrip("0") or "0"
    power = _MAX_EXPONENT if len(digits) > 10 else min(int(digits), _MAX_EXPONENT)
    value = decimal.Decimal(mantissa.replace("_", "")).scaleb(
        -power if exponent_sign == "-" else power, _EXACT
    )
    if value.is_zero():
        return 0
    if value.adjusted() >= _LIMIT_DIGITS:
        raise _too_large(text)
    if value != value.to_integral_value():
        raise ValueError(f"{text!r} is not an exact integer")
    return int(value)
