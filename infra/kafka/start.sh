#!/usr/bin/env bash
# Starts a real Apache Kafka broker (KRaft, one combined broker+controller) on
# 127.0.0.1 for the integration tests. The jars come from Maven Central via
# infra/kafka/pom.xml into a cache outside git ($ORCHARD_CACHE).
#
#   infra/kafka/start.sh DIR PORT     -> starts, waits until ready, writes DIR/pid
#   infra/kafka/stop.sh DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: start.sh DIR PORT}
port=${2:?usage: start.sh DIR PORT}
cport=$((port + 1))
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
cache=${ORCHARD_CACHE:-$HOME/.cache/orchard}/kafka-$version
if [ ! -f "$cache/libs/kafka_2.13-$version.jar" ]; then
  echo "fetching Apache Kafka $version from Maven Central into $cache" >&2
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$cache/libs" >&2
fi
mkdir -p "$dir/logs"
cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
cat > "$dir/log4j2.properties" <<'PROPS'
rootLogger.level=WARN
rootLogger.appenderRef.file.ref=FILE
appender.file.type=File
appender.file.name=FILE
appender.file.fileName=${sys:kafka.logs.dir}/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=%d %p %c{1} %m%n
PROPS
cp="$cache/libs/*"
jvm=(java -Xms512m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Dkafka.logs.dir="$dir/logs"
     -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$cp")
if [ ! -f "$dir/data/meta.properties" ]; then
  cluster=$("${jvm[@]}" kafka.tools.StorageTool random-uuid)
  "${jvm[@]}" kafka.tools.StorageTool format -t "$cluster" -c "$dir/server.properties" --standalone >"$dir/logs/format.log" 2>&1 ||
    "${jvm[@]}" kafka.tools.StorageTool format -t "$cluster" -c "$dir/server.properties" >"$dir/logs/format.log" 2>&1
fi
for p in "$port" "$cport"; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
    echo "port $p on 127.0.0.1 is already in use: cannot start the test broker there" >&2; exit 1
  fi
done
start_broker() {
  nohup "${jvm[@]}" kafka.Kafka "$dir/server.properties" >"$dir/logs/stdout.log" 2>&1 &
  echo $! > "$dir/pid"
  for _ in $(seq 1 120); do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
      echo "Apache Kafka $version broker (KRaft) ready on 127.0.0.1:$port"
      return 0
    fi
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "Kafka broker exited; its logs:" >&2; tail -n 40 "$dir"/logs/*.log >&2 || true; return 1
    fi
    sleep 0.5
  done
  echo "Kafka broker did not open 127.0.0.1:$port in 60 s" >&2; return 1
}
start_broker || { echo "starting the broker once more" >&2; sleep 2; start_broker; }
