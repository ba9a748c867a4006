#!/usr/bin/env bash
# A throw-away PostgreSQL for the outbox tests, CI and users, from the Debian packages.
#
#   scripts/postgres.sh install                      install PostgreSQL (apt-get install -y postgresql,
#                                                    with sudo when not root) unless initdb is found
#   scripts/postgres.sh start [--port P] [--fresh]   create a cluster with initdb in the run dir (once)
#                                                    and start it on 127.0.0.1:P as the current user;
#                                                    last line of output = its DSN
#   scripts/postgres.sh stop [--clean]               stop it (pg_ctl stop -m fast); --clean wipes the run dir
#   scripts/postgres.sh status                       exit 0 only if it runs; prints its DSN
#   scripts/postgres.sh dsn                          print the DSN of the run dir's cluster
#   scripts/postgres.sh env                          export lines for the tests and sluice:
#                                                    eval "$(scripts/postgres.sh env)"
#
# Environment:
#   SLUICE_POSTGRES_DIR  run dir: data, socket and log (default <repo>/.cache/postgres-run)
#   SLUICE_PG_BIN        folder of initdb and pg_ctl (default: PATH, then /usr/lib/postgresql/*/bin)
#
# The cluster trusts local connections (it listens on loopback only and lives in a throw-away
# run dir), its superuser is the current user, and its database is "sluice". Default port 15432:
# below Linux's ephemeral range, like scripts/kafka.sh's. PostgreSQL refuses to run as root:
# as root, the script runs initdb and the server as the "postgres" user the package creates.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${SLUICE_POSTGRES_DIR:-$REPO/.cache/postgres-run}"
DB=sluice

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { printf 'postgres.sh: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# pg_bin: the folder holding initdb and pg_ctl, or nothing (exit 1).
pg_bin() {
  local d
  if [[ -n "${SLUICE_PG_BIN:-}" ]]; then
    [[ -x "$SLUICE_PG_BIN/initdb" ]] && { echo "$SLUICE_PG_BIN"; return 0; }
    return 1
  fi
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v initdb)"
    return 0
  fi
  # Debian keeps them out of PATH, one folder per major version: take the newest.
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && { echo "$d"; return 0; }
  done
  return 1
}

# tool NAME: the path of a PostgreSQL program (psql, createdb) next to initdb, on PATH, or in
# Debian's folders.
tool() {
  local d
  for d in "$(pg_bin)" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$d/$1" ]] && { echo "$d/$1"; return 0; }
  done
  command -v "$1" || die "$1 not found"
}

cmd_install() {
  [[ $# -eq 0 ]] || usage
  local bin
  if bin="$(pg_bin)"; then
    log "PostgreSQL found: $("$bin/initdb" --version)"
    echo "$bin"
    return 0
  fi
  command -v apt-get >/dev/null || die "initdb not found and no apt-get: install PostgreSQL (initdb, pg_ctl) yourself, or set SLUICE_PG_BIN"
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || die "initdb not found; installing PostgreSQL needs root (no sudo)"
    sudo=(sudo -n)
  fi
  log "installing PostgreSQL from the Debian packages"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2 \
    || { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2; } \
    || die "apt-get install postgresql failed"
  bin="$(pg_bin)" || die "postgresql installed, but initdb is still not found"
  echo "$bin"
}

# as_owner CMD...: runs CMD as the cluster's owner: the current user, or postgres under root.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root and there is no postgres user to run the server as"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

owner() { if [[ "$(id -u)" == 0 ]]; then echo postgres; else id -un; fi; }

port() { cat "$RUN_DIR/port" 2>/dev/null || true; }

dsn() { echo "postgres://$(owner)@127.0.0.1:$1/$DB?sslmode=disable"; }

running() {
  local bin
  bin="$(pg_bin)" || return 1
  [[ -d "$RUN_DIR/data" ]] || return 1
  as_owner "$bin/pg_ctl" status -D "$RUN_DIR/data" >/dev/null 2>&1
}

# ensure_db PORT: creates the database of the DSN unless it exists.
ensure_db() {
  if ! as_owner "$(tool psql)" -h "$RUN_DIR" -p "$1" -U "$(owner)" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
    as_owner "$(tool createdb)" -h "$RUN_DIR" -p "$1" -U "$(owner)" "$DB" || die "createdb $DB failed"
  fi
}

cmd_start() {
  local p=15432 fresh=0 bin
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --port) p="${2:?--port needs a value}"; shift 2 ;;
      --fresh) fresh=1; shift ;;
      *) usage ;;
    esac
  done
  [[ "$p" =~ ^[0-9]+$ ]] && ((p > 0 && p < 65536)) || die "bad --port $p"
  bin="$(pg_bin)" || bin="$(cmd_install)"
  if running; then
    ((fresh == 0)) || die "--fresh while the cluster runs: run scripts/postgres.sh stop first"
    [[ "$(port)" == "$p" ]] || die "a cluster on port $(port) runs in $RUN_DIR: run scripts/postgres.sh stop first"
    log "already running"
    ensure_db "$p"
    dsn "$p"
    return 0
  fi
  ((fresh)) && rm -rf "$RUN_DIR"
  mkdir -p "$RUN_DIR"
  [[ "$(id -u)" != 0 ]] || chown postgres "$RUN_DIR"
  if [[ ! -f "$RUN_DIR/data/PG_VERSION" ]]; then
    rm -rf "$RUN_DIR/data"
    as_owner "$bin/initdb" -D "$RUN_DIR/data" -U "$(owner)" --auth=trust --encoding=UTF8 --no-locale \
      >"$RUN_DIR/initdb.log" 2>&1 || { cat "$RUN_DIR/initdb.log" >&2; die "initdb failed"; }
    log "created a cluster in $RUN_DIR/data ($("$bin/initdb" --version))"
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    die "port $p on 127.0.0.1 is already in use"
  fi
  echo "$p" >"$RUN_DIR/port"
  # The socket lives in the run dir: /var/run/postgresql belongs to the package's user.
  as_owner "$bin/pg_ctl" start -D "$RUN_DIR/data" -l "$RUN_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $p -k $RUN_DIR -c max_connections=100 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null || { tail -n 30 "$RUN_DIR/server.log" >&2; die "the server did not start"; }
  ensure_db "$p"
  log "running on 127.0.0.1:$p (log: $RUN_DIR/server.log)"
  dsn "$p"
}

cmd_stop() {
  local clean=0 bin
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --clean) clean=1; shift ;;
      *) usage ;;
    esac
  done
  if running; then
    bin="$(pg_bin)"
    as_owner "$bin/pg_ctl" stop -D "$RUN_DIR/data" -m fast -w >/dev/null
    log "stopped"
  else
    log "not running"
  fi
  if ((clean)); then
    rm -rf "$RUN_DIR"
    log "removed $RUN_DIR"
  fi
}

cmd_status() {
  [[ $# -eq 0 ]] || usage
  if running; then
    echo "running in $RUN_DIR on 127.0.0.1:$(port)"
    dsn "$(port)"
    return 0
  fi
  echo "no running cluster in $RUN_DIR"
  return 1
}

cmd_dsn() {
  [[ -n "$(port)" ]] || die "no cluster in $RUN_DIR"
  dsn "$(port)"
}

cmd_env() {
  cmd_dsn >/dev/null
  echo "export SLUICE_TEST_POSTGRES_DSN='$(cmd_dsn)'"
  echo "export SLUICE_OUTBOX_DSN='$(cmd_dsn)'"
}

main() {
  [[ $# -ge 1 ]] || usage
  local cmd="$1"; shift
  case "$cmd" in
    install) cmd_install "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    dsn) cmd_dsn "$@" ;;
    env) cmd_env "$@" ;;
    *) usage ;;
  esac
}

main "$@"
