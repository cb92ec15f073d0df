"""The sweep's results: SQLite, one row per design point, keyed by a hash of the model, the point and the data.

A point is written once, whole, when all its tasks are done, so a sweep stopped at any moment resumes by
running only the points that have no row.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

SCHEMA = """CREATE TABLE IF NOT EXISTS points (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    label TEXT NOT NULL,
    settings TEXT NOT NULL,
    figures TEXT NOT NULL,
    finished REAL NOT NULL
)"""


class ResultStore:
    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def done(self) -> set[str]:
        with self._connect() as db:
            return {key for (key,) in db.execute("SELECT key FROM points")}

    def figures(self) -> dict[str, dict]:
        """Every stored point's figures, by key."""
        with self._connect() as db:
            return {key: json.loads(f) for key, f in db.execute("SELECT key, figures FROM points")}

    def add(self, key: str, model: str, label: str, settings: dict, figures: dict) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?, ?, ?)",
                (key, model, label, json.dumps(settings, default=str), json.dumps(figures), time.time()),
            )

    def rows(self) -> list[dict]:
        with self._connect() as db:
            found = db.execute("SELECT key, model, label, settings, figures FROM points ORDER BY finished").fetchall()
        return [{"key": k, "model": m, "label": label, "settings": json.loads(s), **json.loads(f)} for k, m, label, s, f in found]
