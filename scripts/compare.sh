#!/usr/bin/env bash
# Compare what a check costs phonegate with the floor: scripts/emptyauthz, an
# ext_authz server that answers OK at once, over the same loopback gRPC, with
# the same Envoy-shaped CheckRequests, driven by ghz.
#
#   scripts/compare.sh [options] [-- phonegate serve flags...]
#   scripts/compare.sh --env 'GOGC=200 GOMEMLIMIT=80MiB' -- --log-level warn
#   scripts/compare.sh --distinct 8000
#
# What is sent: by default one CheckRequest, filter/testdata/load/check.json (a
# JSON signup body with one number), every check: one number, cached after
# the first check and past the velocity thresholds after its twentieth, so
# the figures are the cost of everything around the engine for a hot number.
# With --distinct N, N requests of the same shape from scripts/distinct, each
# with its own valid mobile (GB, US, CA, DE, FR, IN, BR), x-request-id and
# source address (198.18.0.0/15: IP country unknown, as for check.json's
# 203.0.113.7); ghz sends check k of a run request k mod N. The warm-up then
# sends at least N checks, so with N up to phonegate's cache size (8,192 by
# default) every measured check is a cache hit; with N above it, part of the
# checks are misses. The miss % column counts them
# (phonegate_insight_cache_misses_total a check). Each number is seen about
# (warm-up + all runs' checks) / N times within the 10-minute velocity
# window: below its 20-check threshold for N of thousands.
#
# Closed-loop runs (-n checks, -c callers over --connections connections)
# alternate phonegate (A) and the empty server (B): A B A B ..., --pairs
# pairs, so that the machine's noise falls on both alike. Each server's CPU
# time (utime+stime from /proc/PID/stat, all its threads) is read before and
# after each run: server CPU µs per check is the figure to compare, since ghz
# shares the cores and its own cost caps req/s. Then --rate-pairs A B pairs at
# a fixed --rps report latency p50/p99 at that rate. ghz's own CPU per check is
# shown too (bash's `times`), and phonegate's garbage collections a thousand
# checks and its cache misses (go_gc_duration_seconds_count and
# phonegate_insight_cache_*_total from its /metrics, read outside the CPU
# window). ghz parses each distinct request once a run (a run is a process),
# on its first use: with --distinct, ghz's CPU a check includes that.
#
# Options:
#   --pairs N          closed-loop A/B pairs                          (3)
#   -n N               checks per closed-loop run                     (20000)
#   -c N               ghz concurrency                                (8)
#   --connections N    ghz connections                                (2)
#   --rps N            rate of the fixed-rate runs; 0 skips them      (2000)
#   --rate-n N         checks per fixed-rate run                      (20000)
#   --rate-pairs N     fixed-rate A/B pairs                           (1)
#   --distinct N       send N distinct requests (see above), at most
#                      131,070; 0 sends check.json alone              (0)
#   --warmup N         unmeasured checks sent to each server first;
#                      at least N with --distinct N                   (2000)
#   --empty-sized      the empty server answers with a response of the size
#                      and shape of phonegate's (emptyauthz -sized): the
#                      floor for that response, client decoding included
#   --env 'K=V ...'    environment of phonegate, e.g. GOGC, GOMEMLIMIT
#                      (default $PHONEGATE_ENV; the empty server gets none)
#   --profile FILE     afterwards, a CPU profile of phonegate under
#                      closed-loop load, written to FILE (phonegate gets --pprof),
#                      its top functions and its share by kind of work
#   --profile-seconds S  how long the profile runs                   (10)
#   --port-base P      phonegate gRPC on P, HTTP on P+1, empty on P+2 (19101)
#   --server-log FILE  phonegate's log (default /dev/null, as in BENCHMARKS.md)
#   --timeout SECS     longest one ghz run may take                   (120)
#
# Loopback only; needs Go, the module proxy (ghz v0.93.0 is installed into a
# temporary directory) and awk. Both servers are stopped on exit. With the
# defaults it takes about two minutes on 2 cores once the module cache is warm.
set -euo pipefail
cd "$(dirname "$0")/.."

pairs=3 n=20000 c=8 conns=2 rps=2000 rate_n=20000 rate_pairs=1 warmup=2000 distinct=0
pg_env=${PHONEGATE_ENV:-} profile="" profile_s=10 port=19101 server_log=/dev/null run_timeout=120
pg_args=() empty_args=()
need() { [[ $# -ge 2 && -n $2 ]] || { echo "compare.sh: $1 needs a value" >&2; exit 2; }; }
posint() { [[ $2 =~ ^[0-9]+$ ]] || { echo "compare.sh: $1 $2: want a whole number" >&2; exit 2; }; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --pairs) need "$@"; posint "$1" "$2"; pairs=$2; shift 2 ;;
    -n) need "$@"; posint "$1" "$2"; n=$2; shift 2 ;;
    -c) need "$@"; posint "$1" "$2"; c=$2; shift 2 ;;
    --connections) need "$@"; posint "$1" "$2"; conns=$2; shift 2 ;;
    --rps) need "$@"; posint "$1" "$2"; rps=$2; shift 2 ;;
    --rate-n) need "$@"; posint "$1" "$2"; rate_n=$2; shift 2 ;;
    --rate-pairs) need "$@"; posint "$1" "$2"; rate_pairs=$2; shift 2 ;;
    --warmup) need "$@"; posint "$1" "$2"; warmup=$2; shift 2 ;;
    --distinct) need "$@"; posint "$1" "$2"; distinct=$2; shift 2 ;;
    --env) [[ $# -ge 2 ]] || { echo "compare.sh: --env needs a value" >&2; exit 2; }; pg_env=$2; shift 2 ;;
    --profile) need "$@"; profile=$2; shift 2 ;;
    --empty-sized) empty_args=(-sized); shift ;;
    --profile-seconds) need "$@"; posint "$1" "$2"; profile_s=$2; shift 2 ;;
    --port-base) need "$@"; posint "$1" "$2"; port=$2; shift 2 ;;
    --server-log) need "$@"; server_log=$2; shift 2 ;;
    --timeout) need "$@"; posint "$1" "$2"; run_timeout=$2; shift 2 ;;
    --) shift; pg_args=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
(( pairs >= 1 && n >= 1 && c >= 1 && conns >= 1 )) || { echo "compare.sh: --pairs, -n, -c and --connections must be at least 1" >&2; exit 2; }
# scripts/distinct gives each request its own address in 198.18.0.0/15.
(( distinct <= 131070 )) || { echo "compare.sh: --distinct $distinct: at most 131070" >&2; exit 2; }
for kv in $pg_env; do
  [[ $kv =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || { echo "compare.sh: --env $kv: want NAME=VALUE" >&2; exit 2; }
done
pg_grpc=127.0.0.1:$port pg_http_port=$((port + 1)) empty_port=$((port + 2))
empty_grpc=127.0.0.1:$empty_port

work=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { (: <>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# http_200 PORT PATH: a GET answered 200, with nothing but bash.
http_200() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
    IFS= read -r line <&3
    [[ $line == HTTP/1.?" 200 "* ]]
  ) 2>/dev/null
}
# counters PORT: phonegate's garbage collections, insight cache hits and
# misses so far, from /metrics, as "gc hits misses" (-1 for one not found).
counters() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    awk 'BEGIN { v["go_gc_duration_seconds_count"] = v["phonegate_insight_cache_hits_total"] = v["phonegate_insight_cache_misses_total"] = -1 }
      $1 in v { v[$1] = $2 + 0 }
      END { printf "%d %d %d\n", v["go_gc_duration_seconds_count"], v["phonegate_insight_cache_hits_total"], v["phonegate_insight_cache_misses_total"] }' <&3
  ) 2>/dev/null || echo -1 -1 -1
}
# cpu_ticks PID: utime+stime of every thread of PID, in clock ticks. The
# fields are counted after the command name's closing parenthesis.
cpu_ticks() {
  local stat f
  stat=$(<"/proc/$1/stat")
  read -r -a f <<<"${stat##*) }"
  echo $((f[11] + f[12]))
}
# children_cpu_s: user+system seconds of the children this shell has waited
# for (bash's `times`, second line). `times` runs in this shell, not in a
# command substitution: a forked subshell has no children's time of its own.
children_cpu_s() {
  times >"$work/times"
  awk 'NR == 2 {
    s = 0
    for (i = 1; i <= 2; i++) { split($i, p, "m"); sub(/s$/, "", p[2]); s += p[1] * 60 + p[2] }
    printf "%.3f\n", s
  }' "$work/times"
}

for p in "$port" "$pg_http_port" "$empty_port"; do
  if port_open "$p"; then echo "compare.sh: 127.0.0.1:$p is in use (try --port-base)" >&2; exit 1; fi
done

echo "== installing ghz v0.93.0 and building phonegate and emptyauthz ($(go version | awk '{print $3}'))"
GOBIN="$work" go install github.com/bojand/ghz/cmd/ghz@v0.93.0
go build -o "$work/phonegate" ./cmd/phonegate
go build -o "$work/emptyauthz" ./scripts/emptyauthz
data=filter/testdata/load/check.json
if ((distinct > 0)); then
  go run ./scripts/distinct -n "$distinct" -o "$work/distinct.json"
  data=$work/distinct.json
  ((warmup >= distinct)) || warmup=$distinct
fi
clk_tck=$(getconf CLK_TCK)

pprof_flag=()
[[ -n $profile ]] && pprof_flag=(--pprof)
# env(1) execs phonegate, so $! is phonegate's own pid.
# shellcheck disable=SC2086 # pg_env is a list of NAME=VALUE words
env $pg_env "$work/phonegate" serve --grpc-addr "$pg_grpc" --http-addr "127.0.0.1:$pg_http_port" \
  "${pprof_flag[@]}" "${pg_args[@]}" >/dev/null 2>"$server_log" &
pg_pid=$!
pids+=("$pg_pid")
"$work/emptyauthz" -addr "$empty_grpc" "${empty_args[@]}" >/dev/null 2>&1 &
empty_pid=$!
pids+=("$empty_pid")
for _ in $(seq 300); do
  http_200 "$pg_http_port" /readyz && port_open "$empty_port" && break
  kill -0 "$pg_pid" 2>/dev/null || { echo "compare.sh: phonegate exited at start (see --server-log)" >&2; exit 1; }
  sleep 0.1
done
http_200 "$pg_http_port" /readyz || { echo "compare.sh: phonegate not ready after 30 s" >&2; exit 1; }
port_open "$empty_port" || { echo "compare.sh: emptyauthz not listening after 30 s" >&2; exit 1; }

echo "== phonegate: env [${pg_env}] serve flags [${pg_args[*]}]"
echo "== empty server: flags [${empty_args[*]}]"
if ((distinct > 0)); then
  echo "== requests: $distinct distinct (scripts/distinct), ghz sends check k of a run request k mod $distinct"
else
  echo "== requests: $data, one number repeated"
fi
echo "== closed loop: -n $n -c $c --connections $conns, $pairs pairs; fixed rate: --rps $rps -n $rate_n, $rate_pairs pairs"
echo "== machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)"

ghz_base=(--insecure --call envoy.service.auth.v3.Authorization/Check
  -D "$data" -c "$c" --connections "$conns")
results=$work/results.tsv
: >"$results"
# measure NAME PID ADDR RUN MODE [ghz flags...]: one ghz run, one row of results.
measure() {
  local name=$1 pid=$2 addr=$3 run=$4 mode=$5
  shift 5
  local out=$work/ghz-$run-$name.json t0 t1 c0 c1 k0=(-1 -1 -1) k1=(-1 -1 -1)
  [[ $name == phonegate ]] && read -r -a k0 <<<"$(counters "$pg_http_port")"
  children_cpu_s >"$work/c0"
  t0=$(cpu_ticks "$pid")
  if ! timeout "$run_timeout" "$work/ghz" "${ghz_base[@]}" --format json "$@" "$addr" >"$out"; then
    echo "compare.sh: ghz run $run against $name failed or took over ${run_timeout}s" >&2
    exit 1
  fi
  t1=$(cpu_ticks "$pid")
  children_cpu_s >"$work/c1"
  c0=$(<"$work/c0") c1=$(<"$work/c1")
  [[ $name == phonegate ]] && read -r -a k1 <<<"$(counters "$pg_http_port")"
  # ghz's JSON is one line; the report's fields are found by their names
  # (the options object, first, has an "rps" too: the report's follows "slowest").
  awk -v name="$name" -v run="$run" -v mode="$mode" -v ticks=$((t1 - t0)) -v tck="$clk_tck" -v g0="${k0[0]}" -v g1="${k1[0]}" \
    -v m0="${k0[2]}" -v m1="${k1[2]}" \
    -v ccpu="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" '
    function field(pat,   m) {
      if (!match($0, pat)) return ""
      m = substr($0, RSTART, RLENGTH); sub(/.*:/, "", m); return m
    }
    {
      count = field("\"count\":[0-9]+")
      ok = field("\"statusCodeDistribution\":\\{[^}]*\"OK\":[0-9]+"); if (ok == "") ok = 0
      rate = field("\"slowest\":[0-9]+,\"rps\":[0-9.eE+-]+")
      p50 = field("\"percentage\":50,\"latency\":[0-9]+")
      p99 = field("\"percentage\":99,\"latency\":[0-9]+")
      gcs = g0 < 0 || g1 < 0 ? "-" : sprintf("%.2f", (g1 - g0) * 1000 / count)
      misses = m0 < 0 || m1 < 0 ? "-" : sprintf("%.1f", (m1 - m0) * 100 / count)
      printf "%s\t%s\t%s\t%d\t%d\t%.0f\t%.3f\t%.3f\t%.1f\t%.1f\t%s\t%s\n", run, name, mode, count, count - ok, rate,
        p50 / 1e6, p99 / 1e6, ticks * 1e6 / tck / count, ccpu * 1e6 / count, gcs, misses
    }' "$out" >>"$results"
  tail -n 1 "$results" | awk -F'\t' '{ printf "%-4s %-10s %-6s %7d %6d %8d %9.3f %9.3f %11.1f %10.1f %6s %6s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }'
  if [[ $(tail -n 1 "$results" | cut -f5) != 0 ]]; then
    echo "compare.sh: $name answered some checks with an error (see above); its numbers are not comparable" >&2
  fi
}

echo "== warm-up: $warmup unmeasured checks each"
read -r -a w0 <<<"$(counters "$pg_http_port")"
timeout "$run_timeout" "$work/ghz" "${ghz_base[@]}" -n "$warmup" "$pg_grpc" >/dev/null
read -r -a w1 <<<"$(counters "$pg_http_port")"
timeout "$run_timeout" "$work/ghz" "${ghz_base[@]}" -n "$warmup" "$empty_grpc" >/dev/null
# Each distinct number's first check is a miss: the misses of the warm-up
# show how many distinct numbers phonegate saw.
echo "== phonegate's insight cache over the warm-up: $((w1[2] - w0[2])) misses, $((w1[1] - w0[1])) hits"

# Background work (timers, the log writer) would be counted as checks' CPU.
i0=$(cpu_ticks "$pg_pid") e0=$(cpu_ticks "$empty_pid")
sleep 5
i1=$(cpu_ticks "$pg_pid") e1=$(cpu_ticks "$empty_pid")
awk -v p=$((i1 - i0)) -v e=$((e1 - e0)) -v t="$clk_tck" \
  'BEGIN { printf "== idle CPU over 5 s: phonegate %.0f ms, empty %.0f ms\n", p * 1000 / t, e * 1000 / t }'

printf '%-4s %-10s %-6s %7s %6s %8s %9s %9s %11s %10s %6s %6s\n' run server mode checks errors 'req/s' 'p50 ms' 'p99 ms' 'srv µs/chk' 'ghz µs/chk' 'GC/1k' 'miss %'
run=0
for _ in $(seq "$pairs"); do
  run=$((run + 1)); measure phonegate "$pg_pid" "$pg_grpc" "$run" closed -n "$n"
  run=$((run + 1)); measure empty "$empty_pid" "$empty_grpc" "$run" closed -n "$n"
done
if ((rps > 0)); then
  for _ in $(seq "$rate_pairs"); do
    run=$((run + 1)); measure phonegate "$pg_pid" "$pg_grpc" "$run" rate --rps "$rps" -n "$rate_n"
    run=$((run + 1)); measure empty "$empty_pid" "$empty_grpc" "$run" rate --rps "$rps" -n "$rate_n"
  done
fi

echo "== summary (medians over runs)"
awk -F'\t' '
  function median(list,   a, k, i, j, t) {
    k = split(list, a, " ")
    for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
  }
  { key = $3 SUBSEP $2; cpu[key] = cpu[key] " " $9; rate[key] = rate[key] " " $6; p50[key] = p50[key] " " $7; p99[key] = p99[key] " " $8; ghz[key] = ghz[key] " " $10
    if ($11 != "-") gc[key] = gc[key] " " $11
    if ($12 != "-") miss[key] = miss[key] " " $12 }
  $3 == "closed" && $2 == "phonegate" { pg = $9 }
  $3 == "closed" && $2 == "empty" { ratios = ratios " " pg / $9; pairs = pairs sprintf(" %.2f", pg / $9) }
  END {
    for (m = 1; m <= 2; m++) {
      mode = m == 1 ? "closed" : "rate"
      for (s = 1; s <= 2; s++) {
        srv = s == 1 ? "phonegate" : "empty"; key = mode SUBSEP srv
        if (!(key in cpu)) continue
        printf "%-6s %-10s req/s %6.0f  p50 %6.3f ms  p99 %6.3f ms  server %6.1f µs/check  ghz %6.1f µs/check%s%s\n",
          mode, srv, median(rate[key]), median(p50[key]), median(p99[key]), median(cpu[key]), median(ghz[key]),
          key in gc ? sprintf("  GC %.2f/1k checks", median(gc[key])) : "",
          key in miss ? sprintf("  cache misses %.1f%%", median(miss[key])) : ""
      }
    }
    printf "server CPU a check, phonegate/empty, closed loop: pairs%s, median %.2f\n", pairs, median(ratios)
  }' "$results"
for pid in "$pg_pid" "$empty_pid"; do
  printf '%s: %s\n' "$(cat "/proc/$pid/comm")" "$(awk '/^Vm(HWM|RSS)/ { printf "%s %d MiB  ", $1, $2 / 1024 }' "/proc/$pid/status")"
done

if [[ -n $profile ]]; then
  echo "== profile: $profile_s s of phonegate's CPU under closed-loop load (-c $c --connections $conns) -> $profile"
  timeout "$run_timeout" "$work/ghz" "${ghz_base[@]}" -z "$((profile_s + 3))s" "$pg_grpc" >/dev/null &
  ghz_pid=$!
  sleep 1
  go tool pprof -seconds "$profile_s" -proto -output "$profile" "http://127.0.0.1:$pg_http_port/debug/pprof/profile" 2>/dev/null
  wait "$ghz_pid"
  go tool pprof -top -nodecount 25 "$profile" 2>/dev/null
  echo "== where it goes (scripts/profile-categories.awk)"
  go tool pprof -traces -lines "$profile" 2>/dev/null | awk -f scripts/profile-categories.awk
fi
