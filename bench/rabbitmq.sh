#!/usr/bin/env bash
# Runs a throw-away RabbitMQ node on loopback for the RabbitMQ benchmarks
# (BenchmarkRabbitMQDrain, BenchmarkRabbitMQIdleConnectionMemory).
#
#   eval "$(bench/rabbitmq.sh start)"
#             # prints: export AMQPEMU_RABBITMQ_URL=amqp://guest:guest@127.0.0.1:PORT/
#             #         export AMQPEMU_RABBITMQ_PID=PID   (the node's beam.smp)
#   bench/rabbitmq.sh stop    # stops the node and its epmd, removes its files
#   bench/rabbitmq.sh status
#
# Needs Debian's rabbitmq-server package (apt-get install rabbitmq-server, as
# root; the package's own service is not used). Everything the node writes
# (mnesia, logs, cookie, config) lives under one directory in /tmp, and every
# listener is bound to 127.0.0.1: AMQP (RABBITMQ_NODE_PORT), Erlang
# distribution (RABBITMQ_DIST_PORT), epmd (ERL_EPMD_ADDRESS/ERL_EPMD_PORT) and
# the CLI tools' distribution ports. The management plugin is disabled.
# The node gets the hard limit of open files (ulimit -Hn) as its soft limit,
# so it can hold 10,000 connections where the hard limit allows.
set -euo pipefail

STATE=${AMQPEMU_RABBITMQ_STATE:-/tmp/amqpemu-rabbitmq.env}
RMQ_BIN=/usr/lib/rabbitmq/bin

die() { echo "rabbitmq.sh: $*" >&2; exit 1; }

# port_free PORT: nothing listens on PORT (TCP, any address).
port_free() { ! ss -Htln "sport = :$1" | grep -q .; }

# pick_port LOW HIGH: a free port in [LOW, HIGH).
pick_port() {
	local p i
	for i in $(seq 1 50); do
		p=$(( $1 + RANDOM % ($2 - $1) ))
		if port_free "$p"; then echo "$p"; return; fi
	done
	die "no free port in $1-$2"
}

# env_for_node: the environment the server and the CLI tools share.
env_for_node() {
	export HOME="$BASE"  # the Erlang cookie lives here
	export RABBITMQ_NODENAME="$NODE"
	export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
	export RABBITMQ_NODE_PORT="$PORT"
	export RABBITMQ_DIST_PORT="$DIST_PORT"
	export RABBITMQ_MNESIA_BASE="$BASE/mnesia"
	export RABBITMQ_LOG_BASE="$BASE/log"
	export RABBITMQ_CONFIG_FILE="$BASE/rabbitmq.conf"
	export RABBITMQ_ADVANCED_CONFIG_FILE="$BASE/advanced.config"
	export RABBITMQ_CONF_ENV_FILE="$BASE/rabbitmq-env.conf"
	export RABBITMQ_ENABLED_PLUGINS_FILE="$BASE/enabled_plugins"
	export RABBITMQ_PLUGINS_EXPAND_DIR="$BASE/plugins-expand"
	export RABBITMQ_PID_FILE="$BASE/rabbit.pid"
	export ERL_EPMD_ADDRESS=127.0.0.1
	export ERL_EPMD_PORT="$EPMD_PORT"
	# Distribution listeners on loopback only, for the node and for the CLI.
	export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
	export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
	export RABBITMQ_CTL_DIST_PORT_MIN="$CTL_PORT"
	export RABBITMQ_CTL_DIST_PORT_MAX="$((CTL_PORT + 10))"
}

ctl() { "$RMQ_BIN/rabbitmqctl" -n "$NODE" "$@"; }

# exports: the lines to eval, once the node is up. The pid (of beam.smp) is
# the one the node wrote to RABBITMQ_PID_FILE.
exports() {
	local pid
	pid=$(cat "$BASE/rabbit.pid" 2>/dev/null) || die "no pid file $BASE/rabbit.pid"
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = beam.smp ] || die "pid $pid in $BASE/rabbit.pid is not a running beam.smp"
	echo "export AMQPEMU_RABBITMQ_URL=amqp://guest:guest@127.0.0.1:$PORT/"
	echo "export AMQPEMU_RABBITMQ_PID=$pid"
}

start() {
	[ -x "$RMQ_BIN/rabbitmq-server" ] || die "rabbitmq-server is not installed (apt-get install rabbitmq-server)"
	if [ -f "$STATE" ]; then
		# shellcheck disable=SC1090
		. "$STATE"
		env_for_node
		if ctl status >/dev/null 2>&1; then
			exports
			return
		fi
		die "$STATE exists but its node $NODE does not answer; run: $0 stop"
	fi
	BASE=$(mktemp -d /tmp/amqpemu-rabbitmq.XXXXXX)
	PORT=$(pick_port 20000 25000)
	DIST_PORT=$(pick_port 25000 30000)
	EPMD_PORT=$(pick_port 30000 32000)
	CTL_PORT=$(pick_port 40000 45000)
	NODE="amqpemu-bench-$PORT@localhost"
	mkdir -p "$BASE/mnesia" "$BASE/log"
	cat >"$BASE/rabbitmq.conf" <<-EOF
		listeners.tcp.1 = 127.0.0.1:$PORT
		loopback_users.guest = true
	EOF
	: >"$BASE/rabbitmq-env.conf"
	echo '[].' >"$BASE/enabled_plugins" # no management plugin, no other plugin
	cat >"$STATE" <<-EOF
		BASE=$BASE
		PORT=$PORT
		DIST_PORT=$DIST_PORT
		EPMD_PORT=$EPMD_PORT
		CTL_PORT=$CTL_PORT
		NODE=$NODE
	EOF
	env_for_node
	# Detached, holding none of our descriptors (so $(rabbitmq.sh start) returns).
	(cd "$BASE" && ulimit -n "$(ulimit -Hn)" && exec setsid "$RMQ_BIN/rabbitmq-server") >"$BASE/log/stdout.log" 2>&1 </dev/null &
	for _ in $(seq 1 120); do
		if ctl status >/dev/null 2>&1; then
			ctl await_startup >/dev/null
			# Everything this node and its epmd listen on must be loopback.
			if ss -Htlnp | grep -E 'beam|epmd' | awk '{print $4}' | grep -vqE '^(127\.0\.0\.1|\[::1\]):'; then
				ss -Htlnp | grep -E 'beam|epmd' >&2
				stop
				die "a listener was not on loopback; stopped"
			fi
			exports
			return
		fi
		sleep 1
	done
	tail -20 "$BASE/log/stdout.log" >&2 || true
	die "node $NODE did not start within 120 s (logs in $BASE/log)"
}

stop() {
	[ -f "$STATE" ] || { echo "rabbitmq.sh: not running" >&2; return; }
	# shellcheck disable=SC1090
	. "$STATE"
	env_for_node
	local pid=""
	[ -f "$BASE/rabbit.pid" ] && pid=$(cat "$BASE/rabbit.pid")
	# With the pid file, rabbitmqctl stop waits for the OS process to exit.
	if [ -n "$pid" ]; then
		ctl stop "$BASE/rabbit.pid" >/dev/null 2>&1 || true
	else
		ctl stop >/dev/null 2>&1 || true
	fi
	for _ in $(seq 1 30); do
		if port_free "$PORT" && port_free "$DIST_PORT" && { [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; }; then
			break
		fi
		sleep 1
	done
	# The epmd the node started on our port (and only that one).
	epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
	rm -rf "$BASE" "$STATE"
}

status() {
	[ -f "$STATE" ] || { echo "not running"; return 1; }
	# shellcheck disable=SC1090
	. "$STATE"
	env_for_node
	ctl status
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*) die "usage: $0 start|stop|status" ;;
esac
