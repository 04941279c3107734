#!/usr/bin/env bash
# CalDAV: quercus-caldav (git store) against Radicale and Xandikos, the same 1,000-event calendar
# (every 10th event weekly, 10 instances) in each, and the same wrk requests, interleaved
# (Radicale, Xandikos, ours, …) at 1 and 8 connections: GET of one event, a calendar-query REPORT
# over one month, PROPFIND Depth 1 on the calendar, then PUTs of new events (unique UIDs). Reports
# requests per second and server CPU per request (user + system time from /proc across each window,
# summed over the server's process group), and ours over the best peer: req/s ratio and CPU ratio
# (the peer's µs per request over ours). Goals (issue 9): REPORT and PROPFIND ≥10×, GET ≥5×, PUT
# with git ≥100/s. Peers run without authentication (Radicale --auth-type none; Xandikos has
# none); ours checks Basic credentials on every request. SMOKE=1: one short round over the first
# 100 events (ours is loaded through its only door, PUT, one git commit each).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk taskset curl git; do
  command -v "$tool" >/dev/null || { echo "caldav: $tool missing (make test installs the peers)"; exit 1; }
done
python3 -c 'import radicale, xandikos' 2>/dev/null || { echo "caldav: radicale or xandikos missing (make test installs the peers)"; exit 1; }
rounds=3 seconds=5 events=1000
[ "${SMOKE:-}" = 1 ] && rounds=1 seconds=1 events=100

swift build -c release --product quercus-caldav >/dev/null
ours_bin=$(swift build -c release --show-bin-path)/quercus-caldav
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
. Benchmarks/dnsperf.lib  # free_port, group_cpu_ticks
hz=$(getconf CLK_TCK)

# The calendar: events every 8 hours from 2031-01-01 (1,000 span the year), 30 to 75 minutes long;
# every 10th weekly with 10 instances.
python3 - "$work/events" "$events" <<'PY'
import os, sys
from datetime import datetime, timedelta
folder = sys.argv[1]
os.makedirs(folder)
for i in range(int(sys.argv[2])):
    start = datetime(2031, 1, 1, 8) + timedelta(hours=8 * i + i % 3)
    end = start + timedelta(minutes=30 + 15 * (i % 4))
    rrule = "RRULE:FREQ=WEEKLY;COUNT=10\r\n" if i % 10 == 0 else ""
    with open(f"{folder}/event-{i:04d}.ics", "w", newline="") as f:
        f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Quercus//bench//EN\r\nBEGIN:VEVENT\r\n"
                f"UID:bench-{i:04d}@quercus.test\r\nDTSTAMP:20310101T000000Z\r\n"
                f"DTSTART:{start:%Y%m%dT%H%M%S}Z\r\nDTEND:{end:%Y%m%dT%H%M%S}Z\r\n{rrule}"
                f"SUMMARY:Benchmark event {i}\r\nDESCRIPTION:Event {i} of the benchmark calendar\r\n"
                "END:VEVENT\r\nEND:VCALENDAR\r\n")
PY
sed 's/bench-0001@quercus.test/@UID@/' "$work/events/event-0001.ics" > "$work/put-template.ics"

cat > "$work/report.xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="20310301T000000Z" end="20310401T000000Z"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>
XML
cat > "$work/propfind.xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getetag/><D:getcontenttype/></D:prop></D:propfind>
XML
# One request repeated: METHOD, BODY (a file), DEPTH and AUTH from the environment.
cat > "$work/dav.lua" <<'LUA'
wrk.method = os.getenv("METHOD")
local body = os.getenv("BODY")
if body ~= nil and body ~= "" then
  local f = io.open(body, "rb")
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/xml; charset=utf-8"
end
local depth = os.getenv("DEPTH")
if depth ~= nil and depth ~= "" then wrk.headers["Depth"] = depth end
wrk.headers["Authorization"] = os.getenv("AUTH")
LUA
# PUT of a new event per request: the template's @UID@ becomes RUN-n, at COLLECTION/RUN-n.ics.
cat > "$work/put.lua" <<'LUA'
local f = io.open(os.getenv("TEMPLATE"), "rb")
local template = f:read("*a")
f:close()
local run, collection, n = os.getenv("RUN"), os.getenv("COLLECTION"), 0
local headers = {["Authorization"] = os.getenv("AUTH"), ["Content-Type"] = "text/calendar; charset=utf-8"}
request = function()
  n = n + 1
  local uid = run .. "-" .. n
  return wrk.format("PUT", collection .. uid .. ".ics", headers, (template:gsub("@UID@", uid)))
end
LUA

auth="Basic $(printf 'alice:bench-password' | base64)"
radicale_port=$(free_port) xandikos_port=$(free_port) ours_port=$(free_port)
names=(Radicale Xandikos quercus-caldav)
collections=(/alice/bench/ /user/calendars/calendar/ /calendars/alice/default/)
ports=("$radicale_port" "$xandikos_port" "$ours_port")
wait_http() { for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "caldav: nothing listens on $1"; exit 1; }

# Radicale reads a folder of .ics files: the calendar is copied in.
mkdir -p "$work/radicale/collection-root/alice/bench"
cp "$work/events/"*.ics "$work/radicale/collection-root/alice/bench/"
printf '{"tag": "VCALENDAR"}' > "$work/radicale/collection-root/alice/bench/.Radicale.props"
setsid taskset -c 0 python3 -m radicale --storage-filesystem-folder "$work/radicale" --auth-type none \
  --server-hosts "127.0.0.1:$radicale_port" --logging-level warning >"$work/radicale.log" 2>&1 & pids+=($!)
# Xandikos keeps each calendar in git: the calendar is one commit into the repository it creates.
setsid taskset -c 0 python3 -m xandikos serve -d "$work/xandikos" -l 127.0.0.1 -p "$xandikos_port" --defaults \
  --no-detect-systemd >"$work/xandikos.log" 2>&1 & pids+=($!)
# Ours: the git store, alice added through the admin command, the calendar PUT over HTTP.
printf 'bench-admin' > "$work/admin-password"
printf 'bench-password' > "$work/alice-password"
setsid taskset -c 0 "$ours_bin" --listen "127.0.0.1:$ours_port" --store "git:$work/ours.git" \
  --admin-password-file "$work/admin-password" >"$work/ours.log" 2>&1 & pids+=($!)
for port in "${ports[@]}"; do wait_http "$port"; done
"$ours_bin" admin --url "http://127.0.0.1:$ours_port" --admin-password-file "$work/admin-password" \
  add-user alice --password-file "$work/alice-password" >/dev/null
(
  cd "$work/xandikos/user/calendars/calendar"
  cp "$work/events/"*.ics .
  git add -A . && git -c user.name=bench -c user.email=bench@quercus.test commit -qm "$events events"
)
python3 - "http://127.0.0.1:$ours_port/calendars/alice/default/" "$auth" "$work/events" <<'PY'
import http.client, os, sys, threading, urllib.parse
prefix, auth, folder = sys.argv[1:4]
url = urllib.parse.urlsplit(prefix)
names, errors = sorted(os.listdir(folder)), []
def load(part):
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    for name in part:
        with open(os.path.join(folder, name), "rb") as f:
            body = f.read()
        connection.request("PUT", url.path + name, body, {"Content-Type": "text/calendar; charset=utf-8", "Authorization": auth})
        response = connection.getresponse()
        response.read()
        if response.status not in (201, 204):
            errors.append(f"{name}: {response.status} {response.reason}")
threads = [threading.Thread(target=load, args=(names[i::4],)) for i in range(4)]
for thread in threads: thread.start()
for thread in threads: thread.join()
if errors: sys.exit(f"caldav: loading ours: {len(errors)} PUTs failed, first: {errors[0]}")
PY
echo "caldav: $events events in each server (every 10th weekly), $rounds round(s) of ${seconds}-second wrk windows"
# Each server answers the month's REPORT once before anything is measured (Radicale builds its
# cache of the folder then), and must find the same events.
counts=()
for i in 0 1 2; do
  count=$(curl -sS --max-time 300 -X REPORT -H "Authorization: $auth" -H "Depth: 1" \
    -H "Content-Type: application/xml; charset=utf-8" --data-binary "@$work/report.xml" \
    "http://127.0.0.1:${ports[$i]}${collections[$i]}" | grep -c "BEGIN:VEVENT" || true)
  echo "${names[$i]}: the month's REPORT finds $count events"
  counts+=("$count")
done
[ "${counts[0]}" = "${counts[1]}" ] && [ "${counts[1]}" = "${counts[2]}" ] || echo "caldav: WARNING: the servers disagree on the month's events"

# measure GROUP URL CONNECTIONS SCRIPT -> "requests_per_second cpu_microseconds_per_request errors"
# for one wrk window (wrk on core 1), the request described by the environment (see dav.lua, put.lua).
measure() {
  local group=$1 url=$2 connections=$3 script=$4 before after out requests rps errors
  before=$(group_cpu_ticks "$group")
  out=$(taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" --timeout 30s -s "$script" "$url" 2>&1)
  after=$(group_cpu_ticks "$group")
  requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out")
  errors=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' <<<"$out")
  grep -q "Socket errors" <<<"$out" && errors="${errors:-0}+socket"
  python3 -c "print(f'{float(\"${rps:-0}\"):.1f} {($after - $before) / $hz * 1e6 / max(1, ${requests:-0}):.0f} ${errors:-0}')"
}

# summarize NAME GOAL ROUNDS...: each round is "r_rps r_us x_rps x_us o_rps o_us"; prints medians
# and ours over the best peer (req/s: ours / best; CPU: best peer's µs per request / ours).
summarize() {
  python3 - "$@" <<'PY'
import statistics, sys
name, goal, rounds = sys.argv[1], float(sys.argv[2]), [[float(x) for x in r.split()] for r in sys.argv[3:]]
median = lambda i: statistics.median(r[i] for r in rounds)
speed = statistics.median(r[4] / max(max(r[0], r[2]), 1e-9) for r in rounds)
cpu = statistics.median(min(r[1] if r[1] > 0 else 1e18, r[3] if r[3] > 0 else 1e18) / max(r[5], 1) for r in rounds)
verdict = "" if goal == 0 else f", goal ≥{goal:g}×: {'met' if speed >= goal else 'NOT met'}"
print(f"caldav {name}: Radicale {median(0):.1f} req/s {median(1):.0f} µs CPU/req, Xandikos {median(2):.1f} req/s "
      f"{median(3):.0f} µs, quercus-caldav {median(4):.1f} req/s {median(5):.0f} µs; ours/best peer {speed:.1f}× req/s, "
      f"{cpu:.1f}× less CPU per request{verdict} (median of {len(rounds)} interleaved rounds)")
PY
}

export AUTH=$auth
for test in GET REPORT PROPFIND; do
  case $test in
    GET) export METHOD=GET BODY= DEPTH=; path=event-$(printf %04d $((events / 2))).ics goal=5 ;;
    REPORT) export METHOD=REPORT BODY="$work/report.xml" DEPTH=1; path= goal=10 ;;
    PROPFIND) export METHOD=PROPFIND BODY="$work/propfind.xml" DEPTH=1; path= goal=10 ;;
  esac
  for connections in 1 8; do
    results=()
    for round in $(seq 1 "$rounds"); do
      line="" report="$test c$connections round $round:"
      for i in 0 1 2; do
        read -r rps us errors < <(measure "${pids[$i]}" "http://127.0.0.1:${ports[$i]}${collections[$i]}$path" "$connections" "$work/dav.lua")
        line+="$rps $us "
        report+=" ${names[$i]} $rps req/s $us µs/req"
        [ "$errors" = 0 ] || report+=" (ERRORS: $errors)"
        report+=";"
      done
      echo "$report"
      results+=("$line")
    done
    summarize "$test ($connections connection$([ "$connections" = 1 ] || echo s))" "$goal" "${results[@]}"
  done
done

# PUTs of new events, each server's calendar growing from the events loaded.
export TEMPLATE="$work/put-template.ics"
for connections in 1 8; do
  results=()
  for round in $(seq 1 "$rounds"); do
    line="" report="PUT c$connections round $round:"
    for i in 0 1 2; do
      export RUN="put-c$connections-r$round" COLLECTION=${collections[$i]}
      read -r rps us errors < <(measure "${pids[$i]}" "http://127.0.0.1:${ports[$i]}/" "$connections" "$work/put.lua")
      line+="$rps $us "
      report+=" ${names[$i]} $rps req/s $us µs/req"
      [ "$errors" = 0 ] || report+=" (ERRORS: $errors)"
      report+=";"
    done
    echo "$report"
    results+=("$line")
  done
  summarize "PUT ($connections connection$([ "$connections" = 1 ] || echo s))" 0 "${results[@]}"
  python3 -c "
import statistics, sys
rate = statistics.median(float(r.split()[4]) for r in sys.argv[1:])
print(f'caldav PUT with the git store ({$connections} connection(s)): {rate:.1f}/s, goal ≥100/s: ' + ('met' if rate >= 100 else 'NOT met'))
" "${results[@]}"
done
echo "caldav: ours keeps $(git --git-dir "$work/ours.git" rev-list --count HEAD) commits in its git store"
