"""Print the customers table of output/shop.db, as the workflow left it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

DATABASE = Path(__file__).resolve().parent / "output" / "shop.db"


def main() -> None:
    db = sqlite3.connect(DATABASE)
    rows = db.execute("SELECT id, name, segment, score FROM customers ORDER BY id").fetchall()
    db.close()
    print(f"{'id':<3} {'name':<18} {'segment':<8} score")
    for customer_id, name, segment, score in rows:
        print(f"{customer_id:<3} {name:<18} {segment or '-':<8} {'-' if score is None else score}")


if __name__ == "__main__":
    main()
