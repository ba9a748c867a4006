#!/usr/bin/env python3
"""Read Avro records (Confluent wire format) with Confluent's AvroDeserializer and print them as
JSON lines: proves that records Sluice wrote are readable by Confluent's own client.

Usage:
  read_avro.py --bootstrap B --registry URL --topic T --count N [--timeout S] [--group G]

Each line: {"partition": P, "offset": O, "key": "<utf-8 key or null>", "schema_id": ID,
            "value": {...decoded record; timestamp-millis as Unix ms...}}
A record that does not decode prints {"partition", "offset", "key", "error": "..."} instead.
Reads from the earliest offset with a fresh consumer group (nothing is committed) until N records
have been read. Exit codes: 0 when N records were read and all decoded, 1 when fewer arrived
before --timeout (default 30 s) or any failed to decode, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import struct
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
    p.add_argument("--topic", required=True)
    p.add_argument("--count", type=int, required=True, help="records to read")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for --count records")
    p.add_argument("--group", help="consumer group (default: a fresh one)")
    a = p.parse_args(argv)
    if a.count < 1:
        p.error("--count must be >= 1")
    return a


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    deser = AvroDeserializer(SchemaRegistryClient({"url": a.registry}))
    consumer = Consumer(
        {
            "bootstrap.servers": a.bootstrap,
            "group.id": a.group or f"interop-read-avro-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([a.topic])
    read = failed = 0
    deadline = time.monotonic() + a.timeout
    try:
        while read < a.count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                if msg.error().code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    continue  # not created yet: keep waiting until the timeout
                print(f"read_avro: consumer error: {msg.error()}", file=sys.stderr)
                return 1
            key = msg.key().decode("utf-8", errors="backslashreplace") if msg.key() is not None else None
            line = {"partition": msg.partition(), "offset": msg.offset(), "key": key}
            raw = msg.value()
            try:
                if raw is None:
                    raise ValueError("null value")
                value = deser(raw, SerializationContext(msg.topic(), MessageField.VALUE))
                line["schema_id"] = struct.unpack(">I", raw[1:5])[0]
                line["value"] = userstats.jsonable(value)
            except Exception as e:  # noqa: BLE001 - report every undecodable record
                failed += 1
                line["error"] = f"{type(e).__name__}: {e}"
            print(json.dumps(line, sort_keys=True), flush=True)
            read += 1
    finally:
        consumer.close()
    if read < a.count:
        print(f"read_avro: only {read} of {a.count} records within {a.timeout}s", file=sys.stderr)
        return 1
    if failed:
        print(f"read_avro: {failed} of {read} records did not decode", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    cli.run("read_avro", main)
