#!/usr/bin/env python3
"""Confluent's JSON Schema and Protobuf serializers against Sluice: produce records a Sluice
pipeline consumes, and read the records it emits, registered in Sluice's registry.

Usage:
  schema_formats.py produce-json     --bootstrap B --registry URL --topic T --schema FILE --count N
  schema_formats.py produce-protobuf --bootstrap B --registry URL --topic T --proto FILE --message M --count N
  schema_formats.py read-json        --bootstrap B --registry URL --topic T --schema FILE --count N [--timeout S]
  schema_formats.py read-protobuf    --bootstrap B --registry URL --topic T --proto FILE --message M --count N [--timeout S]

produce-json writes signups (examples/json-schema/signup.schema.json) with JSONSerializer;
produce-protobuf writes order events (examples/protobuf/orders.proto, message OrderEvent) with
ProtobufSerializer. Both register their schema under <topic>-value (the serializers' default) and
key each record by its id. The records are a function of their index i (see signup() and order()),
so that the Go test knows what the pipeline must emit.

The Protobuf classes are generated at run time from the .proto with grpcio-tools (no system
protoc): grpc_tools.protoc compiles FILE into a temporary folder, whose *_pb2 module is imported.

read-json and read-protobuf read --count records from the earliest offset with JSONDeserializer
(validating against --schema) or ProtobufDeserializer (into message M), and print one JSON line
per record: {"key": K, "value": {field: value}}. Exit codes: 0 ok, 1 failure (a record that does
not decode, fewer than --count records before --timeout), 2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
import time
import uuid

from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

import cli

PLANS = ["free", "pro", "team"]
BASE_TS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def signup(i: int) -> dict:
    """The i-th signup: every third is free; every fourth has no seats."""
    s = {"user_id": f"user-{i}", "email": f"user-{i}@example.com", "plan": PLANS[i % 3], "ts": BASE_TS + i}
    if i % 4 != 0:
        s["seats"] = i % 5 + 1
    if i % 2 == 0:
        s["referrer"] = None
    return s


def order(i: int) -> dict:
    """The i-th order event: even ones are paid, odd ones placed; i % 3 + 1 lines."""
    return {
        "order_id": f"order-{i}",
        "customer_id": f"customer-{i % 7}",
        "status": "STATUS_PAID" if i % 2 == 0 else "STATUS_PLACED",
        "total": i * 1.25,
        "currency": "EUR",
        "ts_ms": BASE_TS + i,
        "lines": [{"sku": f"sku-{j}", "quantity": j + 1} for j in range(i % 3 + 1)],
    }


def proto_module(proto: str):
    """Compile proto with grpcio-tools into a temporary folder and import its _pb2 module."""
    from grpc_tools import protoc  # imported here: only the Protobuf commands need it
    import grpc_tools

    out = tempfile.mkdtemp(prefix="sluice-interop-pb2-")
    src_dir = os.path.dirname(os.path.abspath(proto))
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    rc = protoc.main(["grpc_tools.protoc", f"-I{src_dir}", f"-I{well_known}", f"--python_out={out}", os.path.abspath(proto)])
    if rc != 0:
        raise RuntimeError(f"grpc_tools.protoc failed on {proto} (exit {rc})")
    sys.path.insert(0, out)
    name = os.path.splitext(os.path.basename(proto))[0] + "_pb2"
    return importlib.import_module(name)


def message_dict(msg) -> dict:
    """A message's fields by name, as the Go test compares them (enums by name, repeated as lists)."""
    out = {}
    for f in msg.DESCRIPTOR.fields:
        v = getattr(msg, f.name)
        if f.enum_type is not None and not _repeated(f):
            v = f.enum_type.values_by_number[v].name
        elif _repeated(f):
            v = [message_dict(x) if hasattr(x, "DESCRIPTOR") else x for x in v]
        elif hasattr(v, "DESCRIPTOR"):
            v = message_dict(v)
        out[f.name] = v
    return out


def _repeated(f) -> bool:
    # protobuf >= 5 has is_repeated; older ones label == LABEL_REPEATED (3).
    return f.is_repeated if hasattr(f, "is_repeated") else f.label == 3


def produce(a: argparse.Namespace, serializer, make, key_of) -> int:
    producer = Producer({"bootstrap.servers": a.bootstrap, "enable.idempotence": True})
    failures = []

    def delivered(err, _msg):
        if err is not None:
            failures.append(err)

    for i in range(a.count):
        record = make(i)
        value = serializer(record, SerializationContext(a.topic, MessageField.VALUE))
        producer.produce(a.topic, key=key_of(i).encode(), value=value, on_delivery=delivered)
        producer.poll(0)
    remaining = producer.flush(60)
    if remaining or failures:
        print(f"schema_formats: {remaining} undelivered, failures {failures[:3]}", file=sys.stderr)
        return 1
    print(f"schema_formats: produced {a.count} records to {a.topic}", file=sys.stderr)
    return 0


def produce_json(a: argparse.Namespace) -> int:
    with open(a.schema, encoding="utf-8") as f:
        schema = f.read()
    ser = JSONSerializer(schema, SchemaRegistryClient({"url": a.registry}))
    return produce(a, ser, signup, lambda i: f"user-{i}")


def produce_protobuf(a: argparse.Namespace) -> int:
    pb2 = proto_module(a.proto)
    cls = getattr(pb2, a.message)
    ser = ProtobufSerializer(cls, SchemaRegistryClient({"url": a.registry}))

    def make(i: int):
        o = order(i)
        msg = cls(
            order_id=o["order_id"],
            customer_id=o["customer_id"],
            status=pb2.Status.Value(o["status"]),
            total=o["total"],
            currency=o["currency"],
        )
        msg.ts.FromMilliseconds(o["ts_ms"])
        for line in o["lines"]:
            msg.lines.add(sku=line["sku"], quantity=line["quantity"])
        return msg

    return produce(a, ser, make, lambda i: f"order-{i}")


def read(a: argparse.Namespace, deserializer, to_dict) -> int:
    consumer = Consumer(
        {
            "bootstrap.servers": a.bootstrap,
            "group.id": f"interop-schema-formats-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([a.topic])
    n = failed = 0
    deadline = time.monotonic() + a.timeout
    try:
        while n < a.count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
                    continue
                print(f"schema_formats: consumer error: {msg.error()}", file=sys.stderr)
                return 1
            key = msg.key().decode() if msg.key() is not None else None
            line = {"key": key}
            try:
                line["value"] = to_dict(deserializer(msg.value(), SerializationContext(msg.topic(), MessageField.VALUE)))
            except Exception as e:  # noqa: BLE001 - report every undecodable record
                failed += 1
                line["error"] = f"{type(e).__name__}: {e}"
            print(json.dumps(line, sort_keys=True), flush=True)
            n += 1
    finally:
        consumer.close()
    if n < a.count:
        print(f"schema_formats: only {n} of {a.count} records within {a.timeout}s", file=sys.stderr)
        return 1
    if failed:
        print(f"schema_formats: {failed} of {n} records did not decode", file=sys.stderr)
        return 1
    return 0


def read_json(a: argparse.Namespace) -> int:
    with open(a.schema, encoding="utf-8") as f:
        schema = f.read()
    deser = JSONDeserializer(schema, schema_registry_client=SchemaRegistryClient({"url": a.registry}))
    return read(a, deser, lambda v: v)


def read_protobuf(a: argparse.Namespace) -> int:
    cls = getattr(proto_module(a.proto), a.message)
    deser = ProtobufDeserializer(cls, {}, schema_registry_client=SchemaRegistryClient({"url": a.registry}))
    return read(a, deser, message_dict)


COMMANDS = {
    "produce-json": produce_json,
    "produce-protobuf": produce_protobuf,
    "read-json": read_json,
    "read-protobuf": read_protobuf,
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=sorted(COMMANDS))
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--registry", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--schema", help="JSON Schema file (json commands)")
    p.add_argument("--proto", help=".proto file (protobuf commands)")
    p.add_argument("--message", help="message type of --proto")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for --count records")
    a = p.parse_args(argv)
    if a.count < 1:
        p.error("--count must be >= 1")
    if a.command.endswith("json") and not a.schema:
        p.error(f"{a.command} needs --schema")
    if a.command.endswith("protobuf") and not (a.proto and a.message):
        p.error(f"{a.command} needs --proto and --message")
    return a


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    return COMMANDS[a.command](a)


if __name__ == "__main__":
    cli.run("schema_formats", main)
