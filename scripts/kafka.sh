#!/usr/bin/env bash
# Real Apache Kafka (KRaft) for CI and users, run from Maven Central jars on the machine's JDK.
#
#   scripts/kafka.sh install                         fetch the pinned Kafka jars into the cache
#   scripts/kafka.sh start [--nodes N] [--port P] [--timeout S] [--fresh] [--sasl] [--tls]
#                                                    start N combined controller+broker nodes on
#                                                    127.0.0.1; last line of output = bootstrap list;
#                                                    --sasl: SCRAM-SHA-512 (user sluice), --tls: TLS
#                                                    with a CA made by keytool; both: SASL_SSL
#   scripts/kafka.sh env                             the variables the tests (SLUICE_TEST_*) and sluice
#                                                    (SLUICE_*) need for the running cluster, as
#                                                    export lines: eval "$(scripts/kafka.sh env)"
#   scripts/kafka.sh stop [--clean | --node I] [--timeout S]
#                                                    SIGTERM, wait, SIGKILL; --clean wipes the run dir;
#                                                    --node stops node I only (start restarts it)
#   scripts/kafka.sh status                          what runs; exit 0 only if every node runs
#   scripts/kafka.sh bootstrap                       print the bootstrap list of the running cluster
#   scripts/kafka.sh run-class CLASS [ARGS...]       run a Kafka tool class on the cached classpath
#
# Environment:
#   SLUICE_KAFKA_VERSION  Kafka version (default below); a cache folder per version
#   SLUICE_CACHE          cache root (default <repo>/.cache); jars in $SLUICE_CACHE/kafka-<v>/libs
#   SLUICE_KAFKA_DIR      run dir: configs, data and logs (default <repo>/.cache/kafka-run)
#   SLUICE_KAFKA_HEAP     JVM heap options per node (default "-Xms128m -Xmx512m")
#   JAVA_HOME / MVN       java and maven to use (default: java and mvn on PATH)
#
# Ports: node i (1..N) listens for clients on P+i-1 and for the controller quorum on P+100+i-1.
# Default P=19092: below Linux's ephemeral range (32768-60999), where any outgoing connection on a
# busy machine can hold the port and make the broker's bind fail with "Address already in use".
# auto.create.topics.enable=false: sluice must create its outputs and dead-letter topics, and goka
# its table topics, through the admin API; a test on this broker proves that it does.
# With --sasl or --tls, clients connect to the CLIENT listener on P+i-1 (SASL_PLAINTEXT, SSL or
# SASL_SSL) and the nodes talk to each other on a plaintext INTERNAL listener on P+200+i-1. The
# SCRAM user is created when the storage is formatted (kafka-storage format --add-scram); the
# certificates (a CA, a broker certificate for localhost and 127.0.0.1, the CA as PEM for Go
# clients) are made by the JDK's keytool in <run dir>/tls. Passwords are random, per run dir.
set -euo pipefail

# Pinned: the newest 4.x whose jars resolve on Maven Central and whose apache/kafka image
# docker-compose.yml uses. Override with SLUICE_KAFKA_VERSION (4.0.0 .. 4.4.0 resolve).
KAFKA_VERSION="${SLUICE_KAFKA_VERSION:-4.3.1}"
# Artifacts beyond kafka_2.13's own runtime closure: the CLI tools, and an SLF4J 1.x binding to
# log4j2 so that the broker writes its log to a file (kafka_2.13 brings slf4j-api 1.7 and
# log4j-core, but no binding between them). The binding takes the log4j version that Kafka's
# own pom picks; log4j-bom aligns api, core and binding.
case "$KAFKA_VERSION" in
  4.0.*) LOG4J_VERSION="2.24.3" ;;
  4.1.*) LOG4J_VERSION="2.25.3" ;;
  4.3.*) LOG4J_VERSION="2.25.4" ;;
  *) LOG4J_VERSION="2.25.5" ;;
esac
LOG4J_VERSION="${SLUICE_LOG4J_VERSION:-$LOG4J_VERSION}"
EXTRA_ARTIFACTS=(
  "org.apache.kafka:kafka-server:${KAFKA_VERSION}"
  "org.apache.kafka:kafka-metadata:${KAFKA_VERSION}"
  "org.apache.kafka:kafka-storage:${KAFKA_VERSION}"
  "org.apache.kafka:kafka-tools:${KAFKA_VERSION}"
  "org.apache.logging.log4j:log4j-slf4j-impl:${LOG4J_VERSION}"
)
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.6.1"

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SLUICE_CACHE:-$REPO/.cache}"
KAFKA_HOME="$CACHE/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_HOME/libs"
RUN_DIR="${SLUICE_KAFKA_DIR:-$REPO/.cache/kafka-run}"
HEAP="${SLUICE_KAFKA_HEAP:--Xms128m -Xmx512m}"
if [[ -n "${JAVA_HOME:-}" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA="java"; fi
MVN="${MVN:-mvn}"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { printf 'kafka.sh: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# ---------------------------------------------------------------- install

# The stamp names exactly what was resolved, so a change of version or artifact list re-resolves.
install_stamp() {
  printf '%s\n' "kafka_2.13:$KAFKA_VERSION" "${EXTRA_ARTIFACTS[@]}" "log4j-bom:$LOG4J_VERSION" "$DEPENDENCY_PLUGIN"
}

write_pom() {
  local deps="" a g n v
  for a in "org.apache.kafka:kafka_2.13:${KAFKA_VERSION}" "${EXTRA_ARTIFACTS[@]}"; do
    IFS=: read -r g n v <<<"$a"
    deps+="    <dependency><groupId>$g</groupId><artifactId>$n</artifactId><version>$v</version></dependency>"$'\n'
  done
  cat >"$KAFKA_HOME/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/kafka.sh install: the runtime classpath of Apache Kafka $KAFKA_VERSION. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.sluice</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-bom</artifactId>
        <version>$LOG4J_VERSION</version><type>pom</type><scope>import</scope>
      </dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
$deps  </dependencies>
</project>
EOF
}

cmd_install() {
  [[ $# -eq 0 ]] || usage
  if [[ -f "$KAFKA_HOME/.installed" ]] && [[ "$(cat "$KAFKA_HOME/.installed")" == "$(install_stamp)" ]] \
    && compgen -G "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null; then
    log "Kafka $KAFKA_VERSION already installed ($(ls "$LIBS" | wc -l) jars)"
    echo "$LIBS"
    return 0
  fi
  command -v "$MVN" >/dev/null || die "maven ('$MVN') is not on PATH; install it (apt-get install maven)"
  mkdir -p "$KAFKA_HOME"
  write_pom
  local tmp="$KAFKA_HOME/libs.tmp" mvnlog="$KAFKA_HOME/mvn.log"
  rm -rf "$tmp"
  log "resolving Apache Kafka $KAFKA_VERSION and its runtime dependencies from Maven Central"
  if ! "$MVN" -B -f "$KAFKA_HOME/pom.xml" "$DEPENDENCY_PLUGIN:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mvnlog" 2>&1; then
    grep -E '^\[ERROR\]' "$mvnlog" >&2 || tail -n 40 "$mvnlog" >&2
    die "maven could not fetch Kafka $KAFKA_VERSION (full log: $mvnlog)"
  fi
  compgen -G "$tmp/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null \
    || die "maven succeeded but kafka_2.13-$KAFKA_VERSION.jar is missing from $tmp (log: $mvnlog)"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  install_stamp >"$KAFKA_HOME/.installed"
  log "installed $(ls "$LIBS" | wc -l) jars into $LIBS"
  echo "$LIBS"
}

require_installed() {
  [[ -f "$KAFKA_HOME/.installed" ]] || die "Kafka $KAFKA_VERSION is not installed: run scripts/kafka.sh install"
}

# ---------------------------------------------------------------- helpers

node_dir() { echo "$RUN_DIR/node-$1"; }

# pid of node $1 if its process runs, else nothing (exit 1).
node_pid() {
  local f pid
  f="$(node_dir "$1")/kafka.pid"
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: it must be a java process started for this node.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "node-$1/server.properties" || return 1
  echo "$pid"
}

# Layout of the current run dir: "nodes port" (empty if none).
layout() { cat "$RUN_DIR/layout" 2>/dev/null || true; }

bootstrap_list() {
  local nodes="$1" port="$2" i out=""
  for ((i = 1; i <= nodes; i++)); do out+="${out:+,}127.0.0.1:$((port + i - 1))"; done
  echo "$out"
}

run_class() {
  local cls="$1"; shift
  "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$RUN_DIR/tools-log4j2.properties" \
    -cp "$LIBS/*" "$cls" "$@"
}

write_tools_log4j() {
  mkdir -p "$RUN_DIR"
  cat >"$RUN_DIR/tools-log4j2.properties" <<'EOF'
# CLI tools log warnings to stderr only.
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
EOF
}

write_node_config() {
  local i="$1" nodes="$2" port="$3" dir voters="" j rf minisr sec proto
  dir="$(node_dir "$i")"
  for ((j = 1; j <= nodes; j++)); do voters+="${voters:+,}$j@127.0.0.1:$((port + 100 + j - 1))"; done
  rf=$((nodes < 3 ? nodes : 3))
  minisr=$((rf > 1 ? 2 : 1))
  sec="$(security)"
  mkdir -p "$dir/data" "$dir/logs"
  {
    echo "# Generated by scripts/kafka.sh start: node $i of $nodes, combined KRaft controller + broker."
    echo "process.roles=broker,controller"
    echo "node.id=$i"
    echo "controller.quorum.voters=$voters"
    echo "controller.listener.names=CONTROLLER"
    if [[ "$sec" == plaintext ]]; then
      echo "listeners=PLAINTEXT://127.0.0.1:$((port + i - 1)),CONTROLLER://127.0.0.1:$((port + 100 + i - 1))"
      echo "advertised.listeners=PLAINTEXT://127.0.0.1:$((port + i - 1))"
      echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
      echo "inter.broker.listener.name=PLAINTEXT"
    else
      proto="$(protocol)"
      echo "listeners=CLIENT://127.0.0.1:$((port + i - 1)),INTERNAL://127.0.0.1:$((port + 200 + i - 1)),CONTROLLER://127.0.0.1:$((port + 100 + i - 1))"
      echo "advertised.listeners=CLIENT://127.0.0.1:$((port + i - 1)),INTERNAL://127.0.0.1:$((port + 200 + i - 1))"
      echo "listener.security.protocol.map=CLIENT:$proto,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT"
      echo "inter.broker.listener.name=INTERNAL"
    fi
    if [[ "$sec" == *sasl* ]]; then
      echo "sasl.enabled.mechanisms=SCRAM-SHA-512"
      echo "listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
    fi
    if [[ "$sec" == *tls* ]]; then
      echo "ssl.keystore.type=PKCS12"
      echo "ssl.keystore.location=$RUN_DIR/tls/broker.p12"
      echo "ssl.keystore.password=$(cat "$RUN_DIR/tls/password")"
      echo "ssl.key.password=$(cat "$RUN_DIR/tls/password")"
      echo "ssl.client.auth=none"
    fi
  } >"$dir/server.properties"
  cat >>"$dir/server.properties" <<EOF
log.dirs=$dir/data
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$minisr
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$minisr
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.segment.bytes=16777216
log.retention.hours=168
log.cleaner.dedupe.buffer.size=8388608
delete.topic.enable=true
EOF
  cat >"$dir/log4j2.properties" <<EOF
# Broker log to $dir/logs/server.log; state changes and requests at WARN.
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $dir/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = WARN
EOF
}

storage_tool_class() {
  local c
  for c in kafka.tools.StorageTool org.apache.kafka.tools.StorageTool; do
    if unzip -l "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" "${c//.//}.class" >/dev/null 2>&1 \
      || unzip -l "$LIBS/kafka-tools-$KAFKA_VERSION.jar" "${c//.//}.class" >/dev/null 2>&1; then
      echo "$c"; return 0
    fi
  done
  echo kafka.tools.StorageTool
}

tail_logs() {
  local nodes="$1" i d
  for ((i = 1; i <= nodes; i++)); do
    d="$(node_dir "$i")"
    for f in "$d/logs/server.log" "$d/logs/stdout.log"; do
      [[ -s "$f" ]] || continue
      printf -- '--- last lines of %s\n' "$f" >&2
      tail -n 30 "$f" >&2
    done
  done
}

# ---------------------------------------------------------------- security

SASL_USER=sluice

# security_name SASL TLS: the name a run dir records: plaintext, sasl, tls or sasl+tls.
security_name() {
  case "$1$2" in
    00) echo plaintext ;;
    10) echo sasl ;;
    01) echo tls ;;
    11) echo sasl+tls ;;
  esac
}

# The security the run dir was made with (plaintext for one made before --sasl and --tls existed).
security() { cat "$RUN_DIR/security" 2>/dev/null || echo plaintext; }

# Kafka's name of the clients' security protocol.
protocol() {
  case "$(security)" in
    sasl) echo SASL_PLAINTEXT ;;
    tls) echo SSL ;;
    sasl+tls) echo SASL_SSL ;;
    *) echo PLAINTEXT ;;
  esac
}

random_secret() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }

# make_secrets writes what the run dir's security needs: the SCRAM password, the certificates,
# and client.properties for Kafka's own tools (the readiness probe, run-class ... --command-config).
make_secrets() {
  local sec
  sec="$(security)"
  : >"$RUN_DIR/client.properties"
  [[ "$sec" == plaintext ]] && return 0
  echo "security.protocol=$(protocol)" >>"$RUN_DIR/client.properties"
  if [[ "$sec" == *sasl* ]]; then
    (umask 077 && random_secret >"$RUN_DIR/sasl-password")
    {
      echo "sasl.mechanism=SCRAM-SHA-512"
      echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$SASL_USER\" password=\"$(cat "$RUN_DIR/sasl-password")\";"
    } >>"$RUN_DIR/client.properties"
  fi
  if [[ "$sec" == *tls* ]]; then
    make_certificates
    {
      echo "ssl.truststore.type=PKCS12"
      echo "ssl.truststore.location=$RUN_DIR/tls/truststore.p12"
      echo "ssl.truststore.password=$(cat "$RUN_DIR/tls/password")"
    } >>"$RUN_DIR/client.properties"
  fi
  chmod 600 "$RUN_DIR/client.properties"
}

# make_certificates: with the JDK's keytool, a CA, a broker certificate it signs for localhost and
# 127.0.0.1 (PKCS12 keystore), a truststore with the CA for Java clients, and the CA as PEM
# (keytool -exportcert -rfc) for Go clients.
make_certificates() {
  local d="$RUN_DIR/tls" pw keytool san="SAN=dns:localhost,ip:127.0.0.1"
  if [[ -n "${JAVA_HOME:-}" ]]; then keytool="$JAVA_HOME/bin/keytool"; else keytool="keytool"; fi
  command -v "$keytool" >/dev/null || die "keytool (the JDK's) is not on PATH"
  mkdir -p "$d"
  (umask 077 && random_secret >"$d/password")
  pw="$(cat "$d/password")"
  {
    "$keytool" -genkeypair -alias ca -keyalg RSA -keysize 2048 -validity 365 -dname "CN=sluice test CA" \
      -ext bc:c -keystore "$d/ca.p12" -storetype PKCS12 -storepass "$pw" -keypass "$pw"
    "$keytool" -exportcert -rfc -alias ca -keystore "$d/ca.p12" -storepass "$pw" -file "$d/ca.pem"
    "$keytool" -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 365 -dname "CN=localhost" \
      -ext "$san" -keystore "$d/broker.p12" -storetype PKCS12 -storepass "$pw" -keypass "$pw"
    "$keytool" -certreq -alias broker -keystore "$d/broker.p12" -storepass "$pw" -file "$d/broker.csr"
    "$keytool" -gencert -rfc -alias ca -keystore "$d/ca.p12" -storepass "$pw" -validity 365 \
      -infile "$d/broker.csr" -outfile "$d/broker.pem" \
      -ext "$san" -ext ku:c=digitalSignature,keyEncipherment -ext eku=serverAuth
    "$keytool" -importcert -noprompt -alias ca -file "$d/ca.pem" -keystore "$d/broker.p12" -storepass "$pw"
    "$keytool" -importcert -alias broker -file "$d/broker.pem" -keystore "$d/broker.p12" -storepass "$pw"
    "$keytool" -importcert -noprompt -alias ca -file "$d/ca.pem" -keystore "$d/truststore.p12" \
      -storetype PKCS12 -storepass "$pw"
  } >"$d/keytool.log" 2>&1 || { cat "$d/keytool.log" >&2; die "making the certificates with keytool failed"; }
  log "made a CA and a broker certificate for localhost and 127.0.0.1 in $d (CA as PEM: $d/ca.pem)"
}

# env_lines BOOTSTRAP: the variables of the tests and of sluice for the cluster, NAME=value.
env_lines() {
  local bs="$1" sec
  sec="$(security)"
  echo "SLUICE_TEST_BROKERS=$bs"
  echo "SLUICE_BROKERS=$bs"
  if [[ "$sec" == *tls* ]]; then
    echo "SLUICE_TEST_KAFKA_TLS=true"
    echo "SLUICE_TEST_KAFKA_TLS_CA_FILE=$RUN_DIR/tls/ca.pem"
    echo "SLUICE_KAFKA_TLS=true"
    echo "SLUICE_KAFKA_CA_FILE=$RUN_DIR/tls/ca.pem"
  fi
  if [[ "$sec" == *sasl* ]]; then
    echo "SLUICE_TEST_KAFKA_SASL_MECHANISM=SCRAM-SHA-512"
    echo "SLUICE_TEST_KAFKA_SASL_USERNAME=$SASL_USER"
    echo "SLUICE_TEST_KAFKA_SASL_PASSWORD=$(cat "$RUN_DIR/sasl-password")"
    echo "SLUICE_SASL_MECHANISM=SCRAM-SHA-512"
    echo "SLUICE_SASL_USERNAME=$SASL_USER"
    echo "SLUICE_SASL_PASSWORD=$(cat "$RUN_DIR/sasl-password")"
  fi
}

cmd_env() {
  [[ $# -eq 0 ]] || usage
  local old
  old="$(layout)"
  [[ -n "$old" ]] || die "no cluster in $RUN_DIR"
  env_lines "$(bootstrap_list ${old})" | sed 's/^/export /'
}

# ---------------------------------------------------------------- start

cmd_start() {
  local nodes=1 port=19092 timeout=120 fresh=0 sasl=0 tls=0 asked=0
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --nodes) nodes="${2:?--nodes needs a value}"; shift 2 ;;
      --port) port="${2:?--port needs a value}"; shift 2 ;;
      --timeout) timeout="${2:?--timeout needs a value}"; shift 2 ;;
      --fresh) fresh=1; shift ;;
      --sasl) sasl=1; asked=1; shift ;;
      --tls) tls=1; asked=1; shift ;;
      *) usage ;;
    esac
  done
  [[ "$nodes" =~ ^[1-9][0-9]*$ ]] || die "--nodes must be a positive integer"
  [[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port + 200 + nodes < 65536)) || die "bad --port $port"
  require_installed

  # The security of a run dir is fixed when it is formatted: a plain `start` restarts a cluster
  # as it was made; asking for another one needs --fresh.
  local want had
  want="$(security_name "$sasl" "$tls")"
  had="$(security)"
  if ((fresh == 0)) && [[ -f "$RUN_DIR/cluster.id" ]]; then
    if ((asked == 0)); then
      want="$had"
    elif [[ "$want" != "$had" ]]; then
      die "the cluster in $RUN_DIR was made with '$had', not '$want': add --fresh to remake it"
    fi
  fi

  local old running=0 i
  old="$(layout)"
  if [[ -n "$old" ]]; then
    for ((i = 1; i <= ${old%% *}; i++)); do node_pid "$i" >/dev/null && running=1; done
  fi
  if ((running)); then
    if [[ "$old" != "$nodes $port" ]]; then
      die "a cluster with layout '$old' (nodes port) is running in $RUN_DIR: run scripts/kafka.sh stop first"
    fi
    ((fresh == 0)) || die "--fresh while nodes run: run scripts/kafka.sh stop first"
    if cmd_status >/dev/null 2>&1; then
      log "already running ($nodes node(s))"
      bootstrap_list "$nodes" "$port"
      return 0
    fi
    # Some nodes run, some do not (a test stopped or killed them): start the missing ones.
  fi
  if ((fresh)) || [[ -n "$old" && "$old" != "$nodes $port" ]]; then
    [[ -n "$old" ]] && log "wiping $RUN_DIR (layout was '$old', now '$nodes $port')"
    rm -rf "$RUN_DIR"
  fi
  mkdir -p "$RUN_DIR"
  write_tools_log4j
  if [[ ! -f "$RUN_DIR/cluster.id" ]]; then
    echo "$want" >"$RUN_DIR/security"
    make_secrets
  fi

  # The controller ports and client ports must be free (a leftover broker of another run dir?).
  for ((i = 1; i <= nodes; i++)); do
    node_pid "$i" >/dev/null && continue
    local p
    for p in $((port + i - 1)) $((port + 100 + i - 1)) $((port + 200 + i - 1)); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        die "port $p on 127.0.0.1 is already in use"
      fi
    done
  done

  for ((i = 1; i <= nodes; i++)); do write_node_config "$i" "$nodes" "$port"; done

  # Format storage once per run dir; a restart keeps the data (crash/restart tests rely on it).
  if [[ ! -f "$RUN_DIR/cluster.id" ]]; then
    local st cid
    st="$(storage_tool_class)"
    cid="$(run_class "$st" random-uuid)"
    local scram=()
    if [[ "$(security)" == *sasl* ]]; then
      scram=(--add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$(cat "$RUN_DIR/sasl-password")]")
    fi
    for ((i = 1; i <= nodes; i++)); do
      run_class "$st" format -t "$cid" -c "$(node_dir "$i")/server.properties" "${scram[@]}" >"$(node_dir "$i")/logs/format.log" 2>&1 \
        || { cat "$(node_dir "$i")/logs/format.log" >&2; die "formatting storage of node $i failed"; }
    done
    echo "$cid" >"$RUN_DIR/cluster.id"
    echo "$nodes $port" >"$RUN_DIR/layout"
    log "formatted KRaft storage for $nodes node(s), cluster id $cid"
  fi

  local d started=0
  for ((i = 1; i <= nodes; i++)); do
    node_pid "$i" >/dev/null && continue
    started=$((started + 1))
    d="$(node_dir "$i")"
    # setsid: the broker outlives this script and ignores the caller's terminal signals.
    # shellcheck disable=SC2086
    setsid "$JAVA" $HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$d/log4j2.properties" -Dkafka.logs.dir="$d/logs" \
      -cp "$LIBS/*" kafka.Kafka "$d/server.properties" \
      </dev/null >"$d/logs/stdout.log" 2>&1 &
    echo $! >"$d/kafka.pid"
  done
  log "started $started of $nodes node(s); waiting up to ${timeout}s for all to serve requests"

  local bs probe_pid rc deadline
  bs="$(bootstrap_list "$nodes" "$port")"
  run_class_ready "$bs" "$nodes" "$timeout" "$RUN_DIR/client.properties" >"$RUN_DIR/ready.log" 2>&1 &
  probe_pid=$!
  deadline=$((SECONDS + timeout + 15))
  while kill -0 "$probe_pid" 2>/dev/null; do
    for ((i = 1; i <= nodes; i++)); do
      if ! node_pid "$i" >/dev/null; then
        kill "$probe_pid" 2>/dev/null || true
        wait "$probe_pid" 2>/dev/null || true
        tail_logs "$nodes"
        die "node $i exited during startup"
      fi
    done
    if ((SECONDS > deadline)); then kill "$probe_pid" 2>/dev/null || true; fi
    sleep 0.3
  done
  rc=0; wait "$probe_pid" || rc=$?
  if ((rc != 0)); then
    cat "$RUN_DIR/ready.log" >&2
    tail_logs "$nodes"
    die "cluster not ready after ${timeout}s (nodes left running: scripts/kafka.sh stop)"
  fi
  log "ready: $(tail -n 1 "$RUN_DIR/ready.log") (security: $(security))"
  if [[ "$(security)" != plaintext ]]; then
    log "clients: eval \"\$(scripts/kafka.sh env)\" sets these variables for the tests and for sluice"
    env_lines "$bs"
  fi
  echo "$bs"
}

# The readiness probe: an Admin client that waits until describeCluster reports all N brokers
# and a metadata request for the internal topics list succeeds.
run_class_ready() {
  # exec: the background job's pid is then java's own, so a kill reaches it.
  exec "$JAVA" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$RUN_DIR/tools-log4j2.properties" \
    -cp "$LIBS/*" "$REPO/scripts/kafka/KafkaReady.java" "$@"
}

# ---------------------------------------------------------------- stop / status

cmd_stop() {
  local clean=0 timeout=30 only=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --clean) clean=1; shift ;;
      --node) only="${2:?--node needs a value}"; shift 2 ;;
      --timeout) timeout="${2:?--timeout needs a value}"; shift 2 ;;
      *) usage ;;
    esac
  done
  local old nodes i pid pids=()
  old="$(layout)"
  nodes="${old%% *}"
  [[ -z "$only" || "$clean" == 0 ]] || die "--clean and --node exclude each other"
  for ((i = 1; i <= ${nodes:-0}; i++)); do
    [[ -z "$only" || "$only" == "$i" ]] || continue
    if pid="$(node_pid "$i")"; then pids+=("$pid"); fi
  done
  if ((${#pids[@]})); then
    # All at once: a combined node shutting down alone after the quorum is gone would wait.
    kill -TERM "${pids[@]}" 2>/dev/null || true
    local deadline=$((SECONDS + timeout)) alive
    while :; do
      alive=()
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
      ((${#alive[@]})) || break
      if ((SECONDS >= deadline)); then
        log "still running after ${timeout}s, sending SIGKILL to ${alive[*]}"
        kill -KILL "${alive[@]}" 2>/dev/null || true
        sleep 0.5
        break
      fi
      sleep 0.2
    done
    log "stopped ${#pids[@]} node(s)"
  else
    log "no node running"
  fi
  for ((i = 1; i <= ${nodes:-0}; i++)); do
    [[ -z "$only" || "$only" == "$i" ]] || continue
    rm -f "$(node_dir "$i")/kafka.pid"
  done
  if ((clean)); then
    rm -rf "$RUN_DIR"
    log "removed $RUN_DIR"
  fi
}

cmd_status() {
  local old nodes port i pid up=0
  old="$(layout)"
  if [[ -z "$old" ]]; then
    echo "no cluster in $RUN_DIR (Kafka $KAFKA_VERSION)"
    return 1
  fi
  read -r nodes port <<<"$old"
  echo "Kafka $KAFKA_VERSION, run dir $RUN_DIR, cluster id $(cat "$RUN_DIR/cluster.id" 2>/dev/null || echo '?'), clients over $(protocol)"
  for ((i = 1; i <= nodes; i++)); do
    if pid="$(node_pid "$i")"; then
      echo "node $i: running, pid $pid, 127.0.0.1:$((port + i - 1))"
      up=$((up + 1))
    else
      echo "node $i: stopped (127.0.0.1:$((port + i - 1)))"
    fi
  done
  ((up == nodes)) || return 1
  bootstrap_list "$nodes" "$port"
}

cmd_bootstrap() {
  local old
  old="$(layout)"
  [[ -n "$old" ]] || die "no cluster in $RUN_DIR"
  bootstrap_list ${old}
}

main() {
  [[ $# -ge 1 ]] || usage
  local cmd="$1"; shift
  case "$cmd" in
    install) cmd_install "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    bootstrap) cmd_bootstrap "$@" ;;
    env) cmd_env "$@" ;;
    run-class)
      [[ $# -ge 1 ]] || usage
      require_installed
      [[ -f "$RUN_DIR/tools-log4j2.properties" ]] || write_tools_log4j
      run_class "$@" ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
