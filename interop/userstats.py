"""The user-stats rules of ARCHITECTURE.md, in plain Python, and helpers shared by the scripts.

This is the independent model the Go integration test compares Sluice against: it knows nothing
of Sluice's code, only the documented contract.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA_V2 = os.path.join(REPO, "schemas", "user_event.avsc")
SCHEMA_V1 = os.path.join(REPO, "testdata", "schemas", "user_event_v1.avsc")


def read_text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def to_millis(v: Any) -> Any:
    """timestamp-millis decodes to an aware datetime in fastavro; the contract speaks Unix ms."""
    if isinstance(v, _dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=_dt.timezone.utc)
        return int(round(v.timestamp() * 1000))
    return v


def jsonable(v: Any) -> Any:
    """Make a decoded Avro value printable as JSON (datetimes become Unix ms, bytes become text)."""
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, _dt.datetime):
        return to_millis(v)
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8", errors="backslashreplace")
    return v


class Model:
    """Applies events in partition (= production-per-key) order, as the pipelines must."""

    def __init__(self) -> None:
        self.stats: dict[str, dict[str, Any]] = {}
        self.big_purchases: dict[str, list[dict[str, Any]]] = {}
        # Per pipeline: consumed = processed + filtered + dead_lettered.
        self.counts = {
            name: {"consumed": 0, "processed": 0, "filtered": 0, "dead_lettered": 0}
            for name in ("user-stats", "big-purchases")
        }

    def _count(self, pipeline: str, outcome: str) -> None:
        self.counts[pipeline]["consumed"] += 1
        self.counts[pipeline][outcome] += 1

    def poison(self) -> None:
        """An undecodable record: dead letter (stage decode) in both pipelines."""
        self._count("user-stats", "dead_lettered")
        self._count("big-purchases", "dead_lettered")

    def apply(self, key: str, ev: dict[str, Any]) -> str:
        """Returns what user-stats does with the event: filtered, dead_lettered or processed."""
        if ev["event_type"] == "purchase" and ev["amount"] >= 100:
            self.big_purchases.setdefault(key, []).append(
                {"user_id": ev["user_id"], "amount": ev["amount"], "country": ev.get("country")}
            )
            self._count("big-purchases", "processed")
        else:
            self._count("big-purchases", "filtered")
        if ev["event_type"] == "heartbeat":
            outcome = "filtered"
        elif ev["amount"] < 0:
            outcome = "dead_lettered"
        else:
            outcome = "processed"
            s = self.stats.get(key)
            if s is None:
                s = {
                    "user_id": key,
                    "events": 0,
                    "purchases": 0,
                    "total_spent": 0.0,
                    "last_event_type": "",
                    "last_country": None,
                    "last_ts": 0,
                }
                self.stats[key] = s
            s["events"] += 1
            if ev["event_type"] == "purchase":
                s["purchases"] += 1
                s["total_spent"] += ev["amount"]
            s["last_event_type"] = ev["event_type"]
            if ev.get("country") is not None:
                s["last_country"] = ev["country"]
            s["last_ts"] = to_millis(ev["ts"])
        self._count("user-stats", outcome)
        return outcome

    @classmethod
    def from_expectation(cls, exp: dict[str, Any]) -> "Model":
        """Continue from an earlier expectation (a second batch after a restart or crash)."""
        m = cls()
        m.stats = exp["stats"]
        m.counts = exp["counts"]
        m.big_purchases = exp["big_purchases"]
        return m

    def expectation(self) -> dict[str, Any]:
        return {
            "stats": self.stats,
            "counts": self.counts,
            "big_purchases": self.big_purchases,
        }


def load_expectation(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def diff_stats(want: dict[str, dict], got: dict[str, dict], rel_tol: float) -> list[str]:
    """Human-readable differences between expected and observed last values per key."""
    import math

    out: list[str] = []
    for key in sorted(set(want) | set(got)):
        w, g = want.get(key), got.get(key)
        if w is None:
            out.append(f"unexpected key {key!r}: {json.dumps(g, sort_keys=True)}")
            continue
        if g is None:
            out.append(f"missing key {key!r}: want {json.dumps(w, sort_keys=True)}")
            continue
        for field in sorted(set(w) | set(g)):
            wv, gv = w.get(field), g.get(field)
            if isinstance(wv, float) or isinstance(gv, float):
                if isinstance(wv, (int, float)) and isinstance(gv, (int, float)) and math.isclose(
                    wv, gv, rel_tol=rel_tol, abs_tol=rel_tol
                ):
                    continue
            elif wv == gv:
                continue
            out.append(f"{key!r}.{field}: want {wv!r}, got {gv!r}")
    return out
