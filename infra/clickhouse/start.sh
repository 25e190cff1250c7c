#!/usr/bin/env bash
# Starts Debian's clickhouse-server (installed with apt-get when missing) on
# loopback with a minimal config, for the integration tests and `make run`.
#
#   infra/clickhouse/start.sh DIR TCP_PORT HTTP_PORT  -> starts, waits until ready, writes DIR/pid
#   infra/clickhouse/stop.sh DIR
set -euo pipefail
dir=${1:?usage: start.sh DIR TCP_PORT HTTP_PORT}
tcp=${2:?usage: start.sh DIR TCP_PORT HTTP_PORT}
http=${3:?usage: start.sh DIR TCP_PORT HTTP_PORT}
server=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
if [ ! -x "$server" ]; then
  echo "installing Debian's clickhouse-server" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 && apt-get install -y -q clickhouse-server clickhouse-client >&2
fi
dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas" "$dir/logs"
cat > "$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/logs/server.log</log><errorlog>$dir/logs/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>$tcp</tcp_port>
  <http_port>$http</http_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <mark_cache_size>67108864</mark_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <profiles><default><allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type></default></profiles>
  <quotas><default></default></quotas>
</yandex>
XML
nohup "$server" --config-file="$dir/config.xml" >"$dir/logs/stdout.log" 2>&1 &
echo $! > "$dir/pid"
for _ in $(seq 1 100); do
  if v=$(clickhouse-client --port "$tcp" --query "SELECT version()" 2>/dev/null); then
    echo "ClickHouse server $v ready on 127.0.0.1:$tcp"
    exit 0
  fi
  if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "clickhouse-server exited; its log:" >&2; tail -n 20 "$dir"/logs/*.log >&2 || true; exit 1
  fi
  sleep 0.2
done
echo "clickhouse-server did not answer on 127.0.0.1:$tcp in 20 s" >&2; exit 1
