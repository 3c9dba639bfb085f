#!/usr/bin/env bash
# One amqpemu node vs two amqpemu nodes on a three-node NATS JetStream
# cluster (Replicas 3), side by side in one run, for BENCHMARKS.md:
#
#   bench/cluster.sh [ROUNDS]      # default 2; output also in $OUT
#
# Per round and topology: a drain of N (default 50000) pre-loaded messages
# by 8 receivers (on two nodes, 4 on each), and end-to-end latency at RATE
# (default 10000) msgs/s for 10 s, sent to node 1, received on both. Then
# the recovery: at 2000 msgs/s, the stream's leader among the NATS nodes is
# killed (SIGKILL) and the per-second received counts show how long the
# receivers went without messages.
#
# Everything runs on loopback ports from 47000 up; the binaries are built
# from this checkout (nats-server from the module amqpemu embeds).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-2}
N=${N:-50000}
RATE=${RATE:-10000}
OUT=${OUT:-/tmp/amqpemu-cluster-bench-$(date +%Y%m%d-%H%M%S).txt}
WORK=$(mktemp -d)
BIN=$WORK/bin
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

mkdir -p "$BIN"
go build -o "$BIN/amqpemu" ./cmd/amqpemu
go build -o "$BIN/nats-server" github.com/nats-io/nats-server/v2

log() { echo "$*" | tee -a "$OUT"; }

# serve NAME DATA AMQP HTTP FLAGS…: an amqpemu node, ready when /healthz is.
serve() {
	local name=$1 data=$2 amqp=$3 http=$4
	shift 4
	"$BIN/amqpemu" serve --data "$data" --amqp "127.0.0.1:$amqp" --http "127.0.0.1:$http" --amqps off \
		--stomp off --stomps off --mqtt off --log-level warn --log-format json "$@" 2>"$WORK/$name.log" &
	PIDS+=($!)
	for _ in $(seq 100); do
		"$BIN/amqpemu" health --server "http://127.0.0.1:$http" >/dev/null 2>&1 && return
		sleep 0.2
	done
	echo "$name did not get ready:" >&2
	tail "$WORK/$name.log" >&2
	exit 1
}

# nats NAME CLIENT ROUTE: a clustered nats-server node.
nats() {
	"$BIN/nats-server" --name "$1" -a 127.0.0.1 -p "$2" --js --sd "$WORK/$1" --cluster_name bench \
		--cluster "nats://127.0.0.1:$3" --routes nats://127.0.0.1:47101,nats://127.0.0.1:47102,nats://127.0.0.1:47103 \
		-m "$4" 2>"$WORK/$1.log" &
	PIDS+=($!)
	NATS_PID[$1]=$!
}
declare -A NATS_PID

bench() { "$BIN/amqpemu" bench --progress 0 --json "$@"; }

# summary JSON…: the fields of a bench result that the table needs.
summary() {
	python3 -c 'import json,sys
r=json.load(sys.stdin)
l=r.get("latency") or {}
print("sent %d received %d in %.2fs, receive rate %.0f msgs/s; p50 %s p90 %s p99 %s max %s ms" % (r["sent"], r["received"],
  r["elapsedSeconds"], r["receiveRate"], l.get("p50Ms"), l.get("p90Ms"), l.get("p99Ms"), l.get("maxMs")))'
}

# drain URL1 URL2: pre-load N into DEFAULT_GROUP through URL1, then drain
# it with 4 receivers on each URL at once.
drain() {
	bench --url "$1" --address /pk1/dev1/user/update --receivers 0 --count "$N" --inflight 256 >/dev/null
	bench --url "$1" --receive-address DEFAULT_GROUP --senders 0 --receivers 4 --count $((N / 2)) --idle 3s >"$WORK/d1.json" &
	local p1=$!
	bench --url "$2" --receive-address DEFAULT_GROUP --senders 0 --receivers 4 --count $((N / 2)) --idle 3s >"$WORK/d2.json"
	wait $p1
	# Timed by the slower side's receivers (from their start to their last
	# message: the idle wait after it is left out).
	log "  drain of $N by 8 receivers: $(python3 -c 'import json,sys
t=max(json.load(open(f))["elapsedSeconds"] for f in sys.argv[2:])
print("%.0f msgs/s (%.2fs)" % (int(sys.argv[1])/t, t))' "$N" "$WORK/d1.json" "$WORK/d2.json")"
	log "    node 1's receivers: $(summary <"$WORK/d1.json")"
	log "    node 2's receivers: $(summary <"$WORK/d2.json")"
}

# latency URL1 URL2: RATE msgs/s for 10 s sent to URL1, received by 2
# receivers on each.
latency() {
	bench --url "$2" --receive-address DEFAULT_GROUP --senders 0 --receivers 2 --duration 13s --idle 2s >"$WORK/l2.json" &
	local p2=$!
	sleep 0.5
	bench --url "$1" --address /pk1/dev1/user/update --receive-address DEFAULT_GROUP --rate "$RATE" --duration 10s --receivers 2 >"$WORK/l1.json"
	wait $p2
	log "  latency at $RATE msgs/s, sender on node 1: $(summary <"$WORK/l1.json")"
	log "    node 2's receivers: $(summary <"$WORK/l2.json")"
}

log "# bench/cluster.sh $ROUNDS, N=$N, RATE=$RATE, $(date -u +%FT%TZ), $(nproc) cores, commit $(git rev-parse --short HEAD)"
for round in $(seq "$ROUNDS"); do
	log "## round $round: one node, embedded JetStream"
	serve single "$WORK/single-$round" 47001 47002
	drain amqp://127.0.0.1:47001 amqp://127.0.0.1:47001
	latency amqp://127.0.0.1:47001 amqp://127.0.0.1:47001
	kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'

	log "## round $round: two amqpemu nodes on a three-node NATS cluster, Replicas 3"
	rm -rf "$WORK"/s1 "$WORK"/s2 "$WORK"/s3
	nats s1 47201 47101 47301
	nats s2 47202 47102 47302
	nats s3 47203 47103 47303
	urls=nats://127.0.0.1:47201,nats://127.0.0.1:47202,nats://127.0.0.1:47203
	for m in 47301 47302 47303; do # each answers its monitoring port once it listens
		for _ in $(seq 100); do curl -sf "http://127.0.0.1:$m/varz" >/dev/null && break; sleep 0.1; done
	done
	serve c1 "$WORK/c1-$round" 47011 47012 --nats-url "$urls" --replicas 3 --server-name c1
	serve c2 "$WORK/c2-$round" 47021 47022 --nats-url "$urls" --replicas 3 --server-name c2
	drain amqp://127.0.0.1:47011 amqp://127.0.0.1:47021
	latency amqp://127.0.0.1:47011 amqp://127.0.0.1:47021

	if [ "$round" = "$ROUNDS" ]; then
		log "## recovery: the stream leader killed at 2000 msgs/s"
		leader=$(curl -s http://127.0.0.1:47301/jsz?streams=true | python3 -c 'import json,sys
j=json.load(sys.stdin)
for a in j.get("account_details",[]):
  for s in a.get("stream_detail",[]):
    if s["name"]=="AMQPEMU": print(s["cluster"]["leader"])')
		log "  stream leader: $leader"
		"$BIN/amqpemu" bench --url amqp://127.0.0.1:47021 --receive-address DEFAULT_GROUP --senders 0 --receivers 2 \
			--duration 24s --idle 0 --timeout 40s --progress 250ms 2>"$WORK/rec-progress.txt" >/dev/null &
		rp=$!
		sleep 0.5
		"$BIN/amqpemu" bench --url amqp://127.0.0.1:47011 --address /pk1/dev1/user/update --receivers 0 --rate 2000 \
			--duration 20s --timeout 40s --progress 0 --json >"$WORK/rec-send.json" 2>"$WORK/rec-send.err" &
		sp=$!
		sleep 8
		log "  killed $leader at $(date +%T.%N | cut -c1-12)"
		kill -9 "${NATS_PID[$leader]}"
		wait $sp || true
		wait $rp || true
		log "  sender: $(summary <"$WORK/rec-send.json" 2>/dev/null || cat "$WORK/rec-send.err")"
		log "  receiver progress (every 250 ms):"
		tr '\r' '\n' <"$WORK/rec-progress.txt" | grep -v '^$' | sed 's/^/    /' | tee -a "$OUT"
	fi
	kill "${PIDS[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	PIDS=()
done
log "# results in $OUT"
