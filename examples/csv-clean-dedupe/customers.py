"""Cleaning rules for customers.csv, used by customers.workflow.json.

Plain functions, named in the workflow as ``customers:<function>`` and imported from this
folder when the workflow runs: nothing to install. Each receives one CSV row (an object
of strings by column) and returns a value; none of them keeps state, so the standard
``map``, ``filter`` and ``split`` components can call them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

Row = dict[str, Any]

COLUMNS = ("customer_id", "name", "email", "country", "signup_date", "plan")
PLANS = ("free", "pro", "team")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d %b %Y")
COUNTRY_NAMES = {
    "ENGLAND": "GB",
    "FINLAND": "FI",
    "NETHERLANDS": "NL",
    "NORWAY": "NO",
    "UNITED KINGDOM": "GB",
    "UNITED STATES": "US",
    "USA": "US",
}
NAME_PARTICLES = {"da", "de", "der", "di", "la", "le", "van", "von"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def has_content(row: Row) -> bool:
    """False for a row whose every cell is blank (a spreadsheet's empty line: `,,,,,`)."""
    return any(str(cell).strip() for cell in row.values())


def _name(text: str) -> str:
    """Collapse whitespace; capitalise words typed all in one case (`grace HOPPER`),
    leave mixed-case words alone (`McCarthy`, `Berners-Lee`) and particles lower."""
    words = text.split()
    fixed = []
    for index, word in enumerate(words):
        if index > 0 and word.lower() in NAME_PARTICLES:
            fixed.append(word.lower())
        elif word.islower() or word.isupper():
            fixed.append(word.capitalize())
        else:
            fixed.append(word)
    return " ".join(fixed)


def _date(text: str) -> str:
    """ISO 8601 (`2023-01-09`) from any of DATE_FORMATS; unparseable text is kept."""
    for pattern in DATE_FORMATS:
        try:
            parsed: date = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return parsed.isoformat()
    return text


def _country(text: str) -> str:
    code = text.strip().upper()
    return COUNTRY_NAMES.get(code, code)


def normalise(row: Row) -> Row:
    """Trim every cell, fix the name's case and spacing, lower-case the email, turn
    country names into ISO codes and dates into ISO dates; an empty plan is `free`."""
    cells = {column: str(row.get(column, "")).strip() for column in COLUMNS}
    return {
        "customer_id": cells["customer_id"],
        "name": _name(cells["name"]),
        "email": cells["email"].lower(),
        "country": _country(cells["country"]),
        "signup_date": _date(cells["signup_date"]),
        "plan": cells["plan"].lower() or "free",
    }


def problem_of(row: Row) -> str | None:
    """Why a normalised row cannot be loaded, or None when it can."""
    if not row["customer_id"]:
        return "missing customer_id"
    if not row["email"]:
        return "missing email"
    if not EMAIL.match(row["email"]):
        return f"invalid email `{row['email']}`"
    if not row["signup_date"]:
        return "missing signup_date"
    try:
        date.fromisoformat(row["signup_date"])
    except ValueError:
        return f"invalid signup_date `{row['signup_date']}`"
    if not re.fullmatch(r"[A-Z]{2}", row["country"]):
        return f"unknown country `{row['country']}`"
    if row["plan"] not in PLANS:
        return f"unknown plan `{row['plan']}`"
    return None


def is_valid(row: Row) -> bool:
    return problem_of(row) is None


def with_reason(row: Row) -> Row:
    """The row plus a `reason` column, for the rejects file."""
    return {**row, "reason": problem_of(row)}
