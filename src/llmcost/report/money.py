"""Formatting numbers for people (tables, Markdown) and for machines (JSON)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")


def usd(value: Decimal | None) -> str:
    """``$1,234.56``; sub-cent amounts keep four significant decimals so they do not read as $0."""
    if value is None:
        return "unpriced"
    sign = "-" if value < 0 else ""
    size = abs(value)
    if value != 0 and size < CENT:
        return f"{sign}${size:.4f}" if size >= Decimal("0.0001") else f"{sign}${float(size):.2e}"
    return f"{sign}${size.quantize(CENT, ROUND_HALF_UP):,}"


def json_usd(value: Decimal | None) -> float | None:
    """USD for JSON: a number rounded to the micro-dollar (cents stay exact)."""
    return None if value is None else float(value.quantize(MICRO, ROUND_HALF_UP))


def pct(value: Decimal | float) -> str:
    return f"{float(value):.1f}%"


def count(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def json_count(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(float(value), 3)


def cents(value: Decimal) -> Decimal:
    """``value`` rounded to the cent, as ``usd`` shows amounts of a cent or more."""
    return value.quantize(CENT, ROUND_HALF_UP)


def adds_up(parts: list[Decimal], total: Decimal) -> bool:
    """Whether the parts, each rounded to the cent, add up to the rounded total (as a reader checks)."""
    return sum((cents(p) for p in parts), Decimal(0)) == cents(total)
