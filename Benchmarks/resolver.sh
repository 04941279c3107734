#!/usr/bin/env bash
# Recursive resolver answers from a warm cache: quercus-resolver against Unbound, both forwarding
# to the same NSD (so the cold path is equal and then out of the way), the same dnsperf query
# stream, interleaved (Unbound, ours, Unbound, ours …). Reports server CPU per query (user + system
# time from /proc across each window, summed over the process group), queries per second, loss and
# the rcode mix, and the median ratio. SMOKE=1: one short round. SCRATCH=DIR: build in DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH=$PATH:/usr/sbin
for tool in dnsperf nsd unbound taskset dig; do
  command -v "$tool" >/dev/null || { echo "resolver: $tool missing (make test installs the peers)"; exit 1; }
done
rounds=3 seconds=10
[ "${SMOKE:-}" = 1 ] && rounds=1 seconds=2
scratch=${SCRATCH:-.build}

swift build -c release --scratch-path "$scratch" --product quercus-resolver >/dev/null
ours_bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)/quercus-resolver
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true  # NSD writes its xfrd state as it stops
  rm -rf "$work"
}
trap cleanup EXIT

{
  printf '$ORIGIN bench.test.\n$TTL 86400\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n  IN NS ns1\nns1 IN A 192.0.2.1\n'
  for i in $(seq 0 999); do printf 'host%d IN A 192.0.2.%d\n' "$i" $((i % 250 + 1)); done
  for i in $(seq 0 99); do printf 'alias%d IN CNAME host%d\n' "$i" "$i"; done
} > "$work/bench.test.zone"
# Mostly positive answers, some through a CNAME, some NXDOMAIN and NODATA (negative cache).
for i in $(seq 0 999); do
  echo "host$i.bench.test A"
  [ $((i % 10)) = 0 ] && echo "missing$i.bench.test A"
  [ $((i % 20)) = 0 ] && echo "host$i.bench.test MX"
  [ $((i % 10)) = 5 ] && echo "alias$((i / 10)).bench.test A"
done > "$work/queries"

. Benchmarks/dnsperf.lib
nsd_port=$(free_port) unbound_port=$(free_port) ours_port=$(free_port)
nsd_config "$nsd_port" bench.test > "$work/nsd.conf"
cat > "$work/unbound.conf" <<CONF
server:
  interface: 127.0.0.1
  port: $unbound_port
  num-threads: 1
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$work"
  pidfile: "$work/unbound.pid"
  use-syslog: no
  logfile: "$work/unbound.log"
  module-config: "iterator"
  do-not-query-localhost: no
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  local-zone: "test." nodefault
  msg-cache-size: 64m
  rrset-cache-size: 64m
remote-control:
  control-enable: no
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@$nsd_port
CONF

# NSD on core 1 (it only serves the first pass); the resolvers on core 0 in their own process
# groups; dnsperf on core 1.
setsid taskset -c 1 nsd -d -c "$work/nsd.conf" & pids+=($!)
setsid taskset -c 0 unbound -d -c "$work/unbound.conf" & pids+=($!)
setsid taskset -c 0 "$ours_bin" --listen "127.0.0.1:$ours_port" --forward "127.0.0.1:$nsd_port" 2>"$work/ours.log" &
pids+=($!)
unbound_group=${pids[1]} ours_group=${pids[2]}
sleep 2

# Warm both caches with every question once.
for port in "$unbound_port" "$ours_port"; do
  taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries" -n 1 -c 1 -q 50 >/dev/null 2>&1
done

unbound_results=() ours_results=() ratios=() unbound_rates=() ours_rates=()
for round in $(seq 1 "$rounds"); do
  read -r unbound_us unbound_qps unbound_lost unbound_rcodes < <(measure "$unbound_group" "$unbound_port")
  read -r ours_us ours_qps ours_lost ours_rcodes < <(measure "$ours_group" "$ours_port")
  echo "round $round: Unbound $unbound_us µs/query ($unbound_qps qps, lost $unbound_lost, $unbound_rcodes); quercus-resolver $ours_us µs/query ($ours_qps qps, lost $ours_lost, $ours_rcodes)"
  [ "$unbound_rcodes" = "$ours_rcodes" ] || echo "resolver: WARNING: the rcode mix differs"
  unbound_results+=("$unbound_us") ours_results+=("$ours_us") unbound_rates+=("$unbound_qps") ours_rates+=("$ours_qps")
  ratios+=("$(python3 -c "print($ours_us/$unbound_us)")")
done
python3 - "${unbound_results[*]}" "${ours_results[*]}" "${ratios[*]}" "${unbound_rates[*]}" "${ours_rates[*]}" <<'PY'
import statistics, sys
unbound, ours, ratios, unbound_qps, ours_qps = ([float(x) for x in arg.split()] for arg in sys.argv[1:])
print(f"resolver (warm cache, 1,200 questions): Unbound {statistics.median(unbound):.2f} µs CPU/query "
      f"({statistics.median(unbound_qps):.0f} qps), quercus-resolver {statistics.median(ours):.2f} µs CPU/query "
      f"({statistics.median(ours_qps):.0f} qps), ratio {statistics.median(ratios):.2f} "
      f"(median of {len(ratios)} interleaved rounds)")
PY
