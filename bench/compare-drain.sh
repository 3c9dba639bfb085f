#!/usr/bin/env bash
# Runs the drain scenario on amqpemu, on its engine (plain embedded
# JetStream) and on RabbitMQ, one after another in one session, for
# BENCHMARKS.md. RabbitMQ runs only while its benchmark does.
#
#   bench/compare-drain.sh [COUNT]     # default COUNT=3; output also in $OUT
#
# N (default 200000) is the drains' message count, IDLE (10000) the idle
# connections held, FANOUT_N (N/10) the fan-out's messages per group, so the
# fan-out makes as many deliveries (10 groups × FANOUT_N) as a drain of N.
#
# Needs Debian's rabbitmq-server package for the RabbitMQ part (skipped
# otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${1:-3}
N=${N:-200000}
FANOUT_N=${FANOUT_N:-$((N / 10))}
IDLE=${IDLE:-10000}
OUT=${OUT:-/tmp/amqpemu-drain-compare-$(date +%Y%m%d-%H%M%S).txt}

run() {
	echo "\$ $*"
	"$@"
}

# Every few seconds, processes above 5 % CPU that are not this run's (not in
# its session, and not the RabbitMQ node it starts): any means the figures
# were disturbed.
SID=$(ps -o sid= -p $$ | tr -d ' ')
watch_others() {
	while :; do
		top -b -n 2 -d 2 -w 200 | awk '/^top -/{f++} f==2&&/^ *[0-9]+ /&&$9>5{print $1, $9, $12}' |
			while read -r pid cpu comm; do
				sid=$(ps -o sid= -p "$pid" 2>/dev/null | tr -d ' ') || continue
				case "$comm" in beam.smp | epmd | erl_child_setup | inet_gethost) continue ;; esac
				[ "$sid" = "$SID" ] || echo "$(date +%T) pid $pid ($comm) ${cpu}% CPU"
			done
	done
}
watch_others >"$OUT.others" 2>/dev/null &
WATCH=$!
trap 'kill $WATCH 2>/dev/null' EXIT

{
	echo "# $(date -Is) on $(nproc) cores; go $(go env GOVERSION)"
	uptime
	echo "# busiest processes before the run:"
	ps -eo pid,pcpu,rss,comm --sort=-pcpu | head -6

	run go test -run '^$' -bench '^BenchmarkDrain$' -benchtime "${N}x" -count "$COUNT" ./amqp/brokerbackend
	# The same amqpemu scenario again with CPU and socket metrics, the engine's
	# ceiling, and the clients' floor (our server over the in-memory backend).
	run go test -run '^$' -bench '^Benchmark(AmqpemuDrain|JetStreamDrain|ClientFloorDrain)$' -benchtime "${N}x" -count "$COUNT" ./bench
	# The server alone: amqpemu and a standalone nats-server each in a process
	# of its own, only the server process's CPU per message counted
	# (srv-cpu-µs/msg), and the server's memory per idle AMQP connection.
	run go test -run '^$' -bench '^Benchmark(ServerProcessDrain|NATSServerProcessDrain)$' -benchtime "${N}x" -count "$COUNT" ./bench
	# Fan-out (10 groups on one product, one receiver each; msgs/s counts
	# deliveries) right after the single-group drains, one receiver and eight:
	# issue 9's ratio is fan-out msgs/s over single-group msgs/s of this session.
	run go test -run '^$' -bench '^BenchmarkServerProcessDrainOneReceiver$' -benchtime "${N}x" -count "$COUNT" ./bench
	run go test -run '^$' -bench '^BenchmarkFanoutDrain$' -benchtime "${FANOUT_N}x" -count "$COUNT" -timeout 30m ./bench
	run go test -run '^$' -bench '^BenchmarkIdleConnectionMemory$' -benchtime "${IDLE}x" -count 1 -timeout 30m ./bench

	if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
		trap 'bench/rabbitmq.sh stop' EXIT
		eval "$(bench/rabbitmq.sh start)"
		echo "# RabbitMQ $(dpkg-query -W -f='${Version}' rabbitmq-server) at $AMQPEMU_RABBITMQ_URL, beam.smp pid $AMQPEMU_RABBITMQ_PID"
		# srv-cpu-µs/msg and srv-rss-MiB are the beam.smp process's. The idle
		# connections run last: the node keeps the memory they took.
		run env AMQPEMU_RABBITMQ_URL="$AMQPEMU_RABBITMQ_URL" AMQPEMU_RABBITMQ_PID="$AMQPEMU_RABBITMQ_PID" \
			go test -run '^$' -bench '^BenchmarkRabbitMQDrain$' -benchtime "${N}x" -count "$COUNT" ./bench
		run env AMQPEMU_RABBITMQ_URL="$AMQPEMU_RABBITMQ_URL" AMQPEMU_RABBITMQ_PID="$AMQPEMU_RABBITMQ_PID" \
			go test -run '^$' -bench '^BenchmarkRabbitMQIdleConnectionMemory$' -benchtime "${IDLE}x" -count 1 -timeout 30m ./bench
	else
		echo "# RabbitMQ skipped: apt-get install rabbitmq-server"
	fi
	uptime
	echo "# other processes above 5 % CPU during the run:"
	cat "$OUT.others"
} 2>&1 | tee "$OUT"
echo "# output saved in $OUT"
