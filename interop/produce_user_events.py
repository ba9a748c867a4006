#!/usr/bin/env python3
"""Produce UserEvents to user-topic with Confluent's client and AvroSerializer, and write what the
reference pipelines must produce from them.

Usage:
  produce_user_events.py --bootstrap B --registry URL [--topic user-topic] --count N [--seed S]
                         [--users U] [--v1-ratio R] [--poison P] [--partitions N]
                         [--replication R] [--partitioner murmur2_random] [--expect FILE]
                         [--continue-from FILE]

Writer schemas: v1 (testdata/schemas/user_event_v1.avsc) and v2 (schemas/user_event.avsc) are
registered under subject <topic>-value in that order (v1 first, so BACKWARD compatibility holds
in the order a real team would evolve), then each event is serialized with one of them at random
(--v1-ratio). Keys are user ids (UTF-8). --poison P adds P undecodable values (bad magic byte,
unknown schema id, truncated frame, null value) at random positions; they must be dead-lettered.
The topic is created with --partitions if it does not exist (the test broker does not auto-create).
--continue-from FILE starts the model from an earlier --expect file, so that a second batch (say,
produced while sluice was down) yields the expectation for everything produced so far; use
another --seed for it.

--expect FILE receives JSON:
  {"stats":  {user_id: {user_id, events, purchases, total_spent, last_event_type,
                        last_country, last_ts (Unix ms)}},      # last user-stats value per key
   "counts": {"user-stats"|"big-purchases": {"consumed", "processed", "filtered", "dead_lettered"}},
   "big_purchases": {user_id: [{"user_id", "amount", "country"}, ...]}}  # in per-key order
Exit codes: 0 ok, 1 failure (delivery error, registry error), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import random
import struct
import sys

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, StringSerializer

import cli
import userstats

EVENT_TYPES = ["signup", "login", "purchase", "purchase", "purchase", "logout", "heartbeat", "view"]
COUNTRIES = ["DE", "FR", "US", "JP", "BR", None]
BASE_TS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers, host:port[,...]")
    p.add_argument("--registry", required=True, help="schema registry URL")
    p.add_argument("--topic", default="user-topic")
    p.add_argument("--count", type=int, required=True, help="number of events (poison excluded)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--users", type=int, default=20, help="distinct user ids")
    p.add_argument("--v1-ratio", type=float, default=0.4, help="share of events written with schema v1")
    p.add_argument("--poison", type=int, default=0, help="undecodable values to add")
    p.add_argument("--partitions", type=int, default=3, help="partitions if the topic is created")
    p.add_argument("--replication", type=int, default=1, help="replication if the topic is created")
    p.add_argument(
        "--partitioner",
        default="murmur2_random",
        help="librdkafka partitioner: murmur2_random (Java clients), fnv1a_random (sarama), consistent_random",
    )
    p.add_argument("--schema-v1", default=userstats.SCHEMA_V1)
    p.add_argument("--schema-v2", default=userstats.SCHEMA_V2)
    p.add_argument("--expect", help="write the expected outputs here as JSON")
    p.add_argument("--continue-from", help="an earlier --expect file to continue from")
    a = p.parse_args(argv)
    if a.count < 0 or a.users < 1 or a.poison < 0 or not 0 <= a.v1_ratio <= 1:
        p.error("--count and --poison must be >= 0, --users >= 1, --v1-ratio in [0, 1]")
    return a


def ensure_topic(bootstrap: str, topic: str, partitions: int, replication: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    md = admin.list_topics(timeout=15)
    if topic in md.topics and md.topics[topic].error is None:
        return
    fut = admin.create_topics([NewTopic(topic, partitions, replication)], operation_timeout=15)[topic]
    try:
        fut.result(timeout=30)
    except KafkaException as e:
        if e.args[0].name() != "TOPIC_ALREADY_EXISTS":
            raise


def make_event(rng: random.Random, i: int, user: str, v2: bool) -> dict:
    et = rng.choice(EVENT_TYPES)
    if et == "purchase":
        amount = round(rng.uniform(1, 250), 2)
    elif et == "heartbeat":
        amount = 0.0
    else:
        amount = float(rng.choice([0, 0, 0, 1.5]))
    if rng.random() < 0.06:
        amount = -round(rng.uniform(0.01, 50), 2)  # invalid: dead letter (unless a heartbeat)
    # ts mostly grows, but sometimes goes back: "latest" must mean offset order, not ts.
    ts = BASE_TS + i * 1000 + rng.randint(-5000, 500)
    ev = {"user_id": user, "event_type": et, "amount": amount, "ts": ts}
    if v2:
        ev["country"] = rng.choice(COUNTRIES)
    return ev


def poison_value(rng: random.Random, kind: int, good: bytes) -> bytes | None:
    if kind == 0:
        return b"\x01" + good[1:]  # bad magic byte
    if kind == 1:
        return b"\x00" + struct.pack(">I", 2_000_000_000 + rng.randint(0, 1000)) + good[5:]  # unknown id
    if kind == 2:
        return good[: max(6, len(good) // 2)]  # truncated payload
    return None  # null value


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    rng = random.Random(a.seed)
    sr = SchemaRegistryClient({"url": a.registry})
    subject = f"{a.topic}-value"
    v1_text, v2_text = userstats.read_text(a.schema_v1), userstats.read_text(a.schema_v2)
    # Register in evolution order so the registry assigns v1 the lower version.
    v1_id = sr.register_schema(subject, Schema(v1_text, "AVRO"))
    v2_id = sr.register_schema(subject, Schema(v2_text, "AVRO"))
    conf = {"auto.register.schemas": True, "use.latest.version": False}
    ser_v1 = AvroSerializer(sr, v1_text, conf=conf)
    ser_v2 = AvroSerializer(sr, v2_text, conf=conf)
    keys = StringSerializer("utf_8")

    ensure_topic(a.bootstrap, a.topic, a.partitions, a.replication)
    producer = Producer(
        {
            "bootstrap.servers": a.bootstrap,
            "partitioner": a.partitioner,
            "enable.idempotence": True,  # keeps per-key order across retries
            "linger.ms": 5,
        }
    )
    failures: list[str] = []

    def on_delivery(err, msg) -> None:
        if err is not None:
            failures.append(f"{msg.key()!r}: {err}")

    users = [f"user-{n:03d}" for n in range(a.users)]
    poison_at = set(rng.sample(range(a.count + a.poison), a.poison)) if a.poison else set()
    model = userstats.Model.from_expectation(userstats.load_expectation(a.continue_from)) if a.continue_from \
        else userstats.Model()
    written = {"v1": 0, "v2": 0, "poison": 0}
    i = 0
    for pos in range(a.count + a.poison):
        user = rng.choice(users)
        is_v1 = rng.random() < a.v1_ratio
        ev = make_event(rng, i, user, v2=not is_v1)
        ctx = SerializationContext(a.topic, MessageField.VALUE)
        value = (ser_v1 if is_v1 else ser_v2)(ev, ctx)
        if pos in poison_at:
            value = poison_value(rng, written["poison"] % 4, value)
            model.poison()
            written["poison"] += 1
        else:
            model.apply(user, ev)
            written["v1" if is_v1 else "v2"] += 1
            i += 1
        producer.produce(a.topic, key=keys(user, SerializationContext(a.topic, MessageField.KEY)),
                         value=value, on_delivery=on_delivery)
        producer.poll(0)
    remaining = producer.flush(60)
    if remaining or failures:
        for f in failures[:20]:
            print(f"delivery failed: {f}", file=sys.stderr)
        print(f"{len(failures)} failed, {remaining} undelivered", file=sys.stderr)
        return 1
    if a.expect:
        with open(a.expect, "w", encoding="utf-8") as f:
            json.dump(model.expectation(), f, indent=1, sort_keys=True)
            f.write("\n")
    summary = dict(written, topic=a.topic, subject=subject, schema_ids={"v1": v1_id, "v2": v2_id},
                   counts=model.counts)
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    cli.run("produce_user_events", main)
