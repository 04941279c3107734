#!/usr/bin/env bash
# Authoritative DNS over UDP and TCP: quercus-dns serve against NSD, the same 1,000-name zone and
# the same dnsperf query stream, interleaved (NSD, ours, NSD, ours …). Reports server CPU per query
# (user + system time from /proc across each window, summed over the server's process group, since
# NSD forks), queries per second, loss and the rcode mix. SMOKE=1: one short round.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in dnsperf nsd taskset; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "dns-serve: $tool missing (make test installs the peers)"; exit 1; }
done
PATH=$PATH:/usr/sbin
rounds=3 seconds=10
[ "${SMOKE:-}" = 1 ] && rounds=1 seconds=2

swift build -c release --product quercus-dns >/dev/null
ours_bin=$(swift build -c release --show-bin-path)/quercus-dns
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true  # NSD writes its xfrd state as it stops
  rm -rf "$work"
}
trap cleanup EXIT

{
  printf '$ORIGIN bench.test.\n$TTL 3600\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n  IN NS ns1\nns1 IN A 192.0.2.1\n'
  for i in $(seq 0 999); do printf 'host%d IN A 192.0.2.%d\n' "$i" $((i % 250 + 1)); done
} > "$work/bench.test.zone"
# Mostly hits, some NXDOMAIN and NODATA, as an authoritative server sees.
for i in $(seq 0 999); do
  echo "host$i.bench.test A"
  [ $((i % 10)) = 0 ] && echo "missing$i.bench.test A"
  [ $((i % 20)) = 0 ] && echo "host$i.bench.test MX"
done > "$work/queries"

. Benchmarks/dnsperf.lib
ours_port=$(free_port) nsd_port=$(free_port)
nsd_config "$nsd_port" bench.test "  minimal-responses: yes" > "$work/nsd.conf"

# Servers on core 0 in their own process groups; dnsperf on core 1.
setsid taskset -c 0 nsd -d -c "$work/nsd.conf" & pids+=($!)
setsid taskset -c 0 "$ours_bin" serve --listen "127.0.0.1:$ours_port" --zone "bench.test=$work/bench.test.zone" \
  2>"$work/ours.log" & pids+=($!)
nsd_group=${pids[0]} ours_group=${pids[1]}
sleep 2

for mode in udp tcp; do
  nsd_results=() ours_results=() ratios=() nsd_rates=() ours_rates=()
  for round in $(seq 1 "$rounds"); do
    read -r nsd_us nsd_qps nsd_lost nsd_rcodes < <(measure "$nsd_group" "$nsd_port" "$mode")
    read -r ours_us ours_qps ours_lost ours_rcodes < <(measure "$ours_group" "$ours_port" "$mode")
    echo "$mode round $round: NSD $nsd_us µs/query ($nsd_qps qps, lost $nsd_lost, $nsd_rcodes); quercus-dns $ours_us µs/query ($ours_qps qps, lost $ours_lost, $ours_rcodes)"
    [ "$nsd_rcodes" = "$ours_rcodes" ] || echo "dns-serve: WARNING: the rcode mix differs"
    nsd_results+=("$nsd_us") ours_results+=("$ours_us") nsd_rates+=("$nsd_qps") ours_rates+=("$ours_qps")
    ratios+=("$(python3 -c "print($ours_us/$nsd_us)")")
  done
  python3 - "$mode" "${nsd_results[*]}" "${ours_results[*]}" "${ratios[*]}" "${nsd_rates[*]}" "${ours_rates[*]}" <<'PY'
import statistics, sys
mode = sys.argv[1].upper()
nsd, ours, ratios, nsd_qps, ours_qps = ([float(x) for x in arg.split()] for arg in sys.argv[2:])
print(f"dns serve ({mode}, 1,000-name zone): NSD {statistics.median(nsd):.2f} µs CPU/query "
      f"({statistics.median(nsd_qps):.0f} qps), quercus-dns {statistics.median(ours):.2f} µs CPU/query "
      f"({statistics.median(ours_qps):.0f} qps), ratio {statistics.median(ratios):.2f} "
      f"(median of {len(ratios)} interleaved rounds)")
PY
done
