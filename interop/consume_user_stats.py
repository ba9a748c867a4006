#!/usr/bin/env python3
"""Read the user-stats output with Confluent's AvroDeserializer and compare the last value per key
with the expectation written by produce_user_events.py.

Usage:
  consume_user_stats.py --bootstrap B --registry URL [--topic user-stats] --expect FILE
                        [--timeout S] [--settle S] [--tolerance T]

Reads from the earliest offset with a fresh consumer group (nothing is committed), keeping the
last value per key (a null value deletes the key). As soon as the last values equal the "stats"
of FILE it keeps reading for --settle seconds (default 1) to catch late or extra records, then
exits 0. Otherwise, at --timeout (default 60 s) it prints the differences and exits 1.
last_ts is compared as Unix milliseconds; total_spent with relative tolerance --tolerance
(default 0: exact). Exit codes: 0 match, 1 mismatch or error, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaError
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

import cli
import userstats


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--registry", required=True)
    p.add_argument("--topic", default="user-stats")
    p.add_argument("--expect", required=True, help="JSON written by produce_user_events.py --expect")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--settle", type=float, default=1.0, help="seconds to keep reading after a match")
    p.add_argument("--tolerance", type=float, default=0.0, help="relative tolerance for doubles")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    want = userstats.load_expectation(a.expect)["stats"]
    deser = AvroDeserializer(SchemaRegistryClient({"url": a.registry}))
    consumer = Consumer(
        {
            "bootstrap.servers": a.bootstrap,
            "group.id": f"interop-user-stats-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([a.topic])
    got: dict[str, dict] = {}
    records = 0
    start = time.monotonic()
    deadline = start + a.timeout
    matched_at = None
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None:
                if msg.error():
                    code = msg.error().code()
                    if code in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
                        continue  # the topic may not exist yet: sluice creates it
                    print(f"consume_user_stats: consumer error: {msg.error()}", file=sys.stderr)
                    return 1
                records += 1
                key = msg.key().decode("utf-8") if msg.key() is not None else None
                if msg.value() is None:
                    got.pop(key, None)
                    continue
                value = deser(msg.value(), SerializationContext(msg.topic(), MessageField.VALUE))
                got[key] = userstats.jsonable(value)
                if records % 1000:
                    continue  # compare when idle, and every 1000 records
            if not userstats.diff_stats(want, got, a.tolerance):
                if matched_at is None:
                    matched_at = time.monotonic()
                if time.monotonic() - matched_at >= a.settle:
                    print(
                        f"consume_user_stats: {len(got)} keys match after {records} records "
                        f"({time.monotonic() - start:.1f}s)"
                    )
                    return 0
            else:
                matched_at = None
    finally:
        consumer.close()
    diff = userstats.diff_stats(want, got, a.tolerance)
    print(
        f"consume_user_stats: no match after {a.timeout}s: read {records} records, "
        f"{len(got)} keys, {len(want)} expected, {len(diff)} differences:",
        file=sys.stderr,
    )
    for line in diff[:50]:
        print("  " + line, file=sys.stderr)
    if len(diff) > 50:
        print(f"  ... and {len(diff) - 50} more", file=sys.stderr)
    return 1


if __name__ == "__main__":
    cli.run("consume_user_stats", main)
