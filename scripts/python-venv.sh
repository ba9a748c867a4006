#!/usr/bin/env bash
# Create (or reuse) the Python virtualenv of the interop scripts and print its python's path as
# the last line of output.
#
#   scripts/python-venv.sh            venv at ${SLUICE_VENV:-${SLUICE_CACHE:-<repo>/.cache}/venv}
#
# Installs interop/requirements.txt (confluent-kafka with its Avro, JSON Schema and Protobuf
# serializers, and grpcio-tools, pinned). Idempotent:
# a venv whose stamp matches the requirements and the interpreter is reused without touching pip.
# PYTHON selects the interpreter that creates the venv (default python3).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SLUICE_VENV:-${SLUICE_CACHE:-$REPO/.cache}/venv}"
REQS="$REPO/interop/requirements.txt"
PYTHON="${PYTHON:-python3}"

log() { printf 'python-venv.sh: %s\n' "$*" >&2; }
die() { printf 'python-venv.sh: error: %s\n' "$*" >&2; exit 1; }

[[ $# -eq 0 ]] || { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
command -v "$PYTHON" >/dev/null || die "'$PYTHON' not found"
[[ -f "$REQS" ]] || die "missing $REQS"

stamp="$("$PYTHON" -c 'import sys; print(sys.version)' | head -n 1) $(sha256sum "$REQS" | cut -d' ' -f1)"
check='import confluent_kafka, confluent_kafka.schema_registry.avro, confluent_kafka.schema_registry.json_schema, confluent_kafka.schema_registry.protobuf, grpc_tools.protoc'

if [[ -x "$VENV/bin/python" && -f "$VENV/.sluice-stamp" && "$(cat "$VENV/.sluice-stamp")" == "$stamp" ]] \
  && "$VENV/bin/python" -c "$check" 2>/dev/null; then
  log "reusing $VENV"
  echo "$VENV/bin/python"
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating $VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV" || die "could not create the venv (on Debian: apt-get install python3-venv)"
fi
log "installing $REQS"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQS" >&2 \
  || die "pip install -r $REQS failed"
"$VENV/bin/python" -c "$check" || die "the confluent_kafka serializers or grpc_tools do not import"
echo "$stamp" >"$VENV/.sluice-stamp"
log "ready: confluent-kafka $("$VENV/bin/python" -c 'import confluent_kafka; print(confluent_kafka.__version__)')"
echo "$VENV/bin/python"
