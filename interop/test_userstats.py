"""Unit tests of the user-stats model (stdlib only): python3 -m unittest discover -s interop"""

import datetime as dt
import unittest

import userstats


def ev(et, amount, ts, country="absent"):
    e = {"user_id": "u", "event_type": et, "amount": amount, "ts": ts}
    if country != "absent":
        e["country"] = country
    return e


class ModelTest(unittest.TestCase):
    def test_rules(self):
        m = userstats.Model()
        self.assertEqual(m.apply("u", ev("signup", 0.0, 1000, "DE")), "processed")
        self.assertEqual(m.apply("u", ev("heartbeat", -5.0, 2000, "FR")), "filtered")
        self.assertEqual(m.apply("u", ev("purchase", -1.0, 3000, "FR")), "dead_lettered")
        self.assertEqual(m.apply("u", ev("purchase", 120.5, 900, None)), "processed")  # ts goes back
        self.assertEqual(m.apply("u", ev("purchase", 2.25, 800)), "processed")  # v1: no country
        m.poison()
        self.assertEqual(
            m.stats["u"],
            {
                "user_id": "u",
                "events": 3,
                "purchases": 2,
                "total_spent": 122.75,
                "last_event_type": "purchase",
                "last_country": "DE",  # the latest event that had one
                "last_ts": 800,  # offset order, not ts order
            },
        )
        self.assertEqual(
            m.counts["user-stats"], {"consumed": 6, "processed": 3, "filtered": 1, "dead_lettered": 2}
        )
        self.assertEqual(
            m.counts["big-purchases"], {"consumed": 6, "processed": 1, "filtered": 4, "dead_lettered": 1}
        )
        self.assertEqual(m.big_purchases["u"], [{"user_id": "u", "amount": 120.5, "country": None}])

    def test_datetime_ts_is_millis(self):
        m = userstats.Model()
        m.apply("u", ev("login", 0.0, dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)))
        self.assertEqual(m.stats["u"]["last_ts"], 1_767_225_600_000)

    def test_continue_from_expectation(self):
        import json

        m = userstats.Model()
        m.apply("u", ev("purchase", 10.1, 1000, "DE"))
        m2 = userstats.Model.from_expectation(json.loads(json.dumps(m.expectation())))
        m2.apply("u", ev("purchase", 20.2, 2000))
        m.apply("u", ev("purchase", 20.2, 2000))
        self.assertEqual(m2.expectation(), m.expectation())

    def test_diff(self):
        want = {"a": {"total_spent": 0.3, "events": 1}, "b": {"events": 2}}
        got = {"a": {"total_spent": 0.1 + 0.2, "events": 1}, "c": {"events": 1}}
        d = userstats.diff_stats(want, got, 0.0)
        self.assertEqual(len(d), 3)  # a.total_spent inexact, b missing, c unexpected
        self.assertEqual(len(userstats.diff_stats(want, got, 1e-9)), 2)


if __name__ == "__main__":
    unittest.main()
