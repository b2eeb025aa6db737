#!/usr/bin/env bash
# Provision and start a single-node Apache Kafka 3.9.1 broker (KRaft) on 127.0.0.1.
# Jars come from Maven Central through mvn (scripts/kafka/pom.xml); a second run reuses the jars
# and an already running broker.  Usage: scripts/kafka.sh [start|stop|status]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="${AIRSPIN_CACHE:-$root/.cache}/kafka"
port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-9093}"
libs="$cache/libs"
# A second broker (the broker-restart test runs one) gets its own folder for config, data and logs.
instance="${KAFKA_INSTANCE_DIR:-$cache}"
data="$instance/data"
pidfile="$instance/broker.pid"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

fetch_jars() {
  [ -f "$libs/.complete" ] && return
  command -v mvn >/dev/null || { echo "kafka.sh: mvn is needed to fetch Kafka's jars" >&2; exit 1; }
  rm -rf "$libs"
  mvn -q -B -f "$root/scripts/kafka/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$libs"
  touch "$libs/.complete"
}

write_config() {
  mkdir -p "$instance" "$data"
  cat > "$instance/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# One node: no reason to wait for more members before the first rebalance.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
  cat > "$instance/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$instance/broker.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
PROPS
}

start() {
  if running || port_open; then echo "kafka: already running on 127.0.0.1:$port"; return; fi
  fetch_jars
  write_config
  local java_cmd=(java -Xms256m -Xmx1g -Dlog4j.configuration="file:$instance/log4j.properties" -cp "$libs/*")
  if [ ! -f "$data/meta.properties" ]; then
    "${java_cmd[@]}" kafka.tools.StorageTool format --ignore-formatted \
      -t "$("${java_cmd[@]}" kafka.tools.StorageTool random-uuid)" -c "$instance/server.properties" >/dev/null
  fi
  nohup "${java_cmd[@]}" kafka.Kafka "$instance/server.properties" >"$instance/stdout.log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 120); do
    if port_open; then echo "kafka: started on 127.0.0.1:$port (pid $(cat "$pidfile"))"; return; fi
    running || { echo "kafka: broker exited; see $instance/broker.log" >&2; tail -20 "$instance/stdout.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "kafka: broker did not open 127.0.0.1:$port within 60 s" >&2; exit 1
}

stop() {
  if running; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 60); do running || break; sleep 0.5; done
    running && kill -9 "$(cat "$pidfile")"
  fi
  rm -f "$pidfile"
  echo "kafka: stopped"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if running || port_open; then echo "kafka: running"; else echo "kafka: stopped"; exit 1; fi ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
