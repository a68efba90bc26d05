"""Create the example's SQLite database, output/shop.db: eight customers, not yet scored.

Run it from anywhere; it replaces an earlier output/shop.db.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

DATABASE = Path(__file__).resolve().parent / "output" / "shop.db"

CUSTOMERS = [
    (1, "Ada Lovelace", "ada@analytical.example", 4812.50),
    (2, "Grace Hopper", "grace@cobol.example", 1290.00),
    (3, "Alan Turing", "alan@bletchley.example", 310.25),
    (4, "Katherine Johnson", "katherine@nasa.example", 2675.00),
    (5, "Edsger Dijkstra", "edsger@eindhoven.example", 88.40),
    (6, "Barbara Liskov", "barbara@mit.example", 5020.00),
    (7, "Donald Knuth", "don@stanford.example", 640.00),
    (8, "Frances Allen", "fran@ibm.example", 1999.99),
]


def main() -> None:
    DATABASE.parent.mkdir(exist_ok=True)
    DATABASE.unlink(missing_ok=True)
    with sqlite3.connect(DATABASE) as db:
        db.execute(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, "
            "lifetime_spend REAL, segment TEXT, score INTEGER)"
        )
        db.executemany(
            "INSERT INTO customers (id, name, email, lifetime_spend) VALUES (?, ?, ?, ?)",
            CUSTOMERS,
        )
    db.close()
    print(f"created output/shop.db: {len(CUSTOMERS)} customers, none scored yet")


if __name__ == "__main__":
    main()
