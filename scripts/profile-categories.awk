# Where phonegate's CPU goes, by kind of work, from a Go CPU profile:
#
#   go tool pprof -traces -lines PROFILE | awk -f scripts/profile-categories.awk
#
# Every sample goes to exactly one category, so the shares add up to 100%:
# first by the goroutine's root (background GC, the log writer), then by the
# innermost frame of a known kind (an allocation inside the log line is the
# log line's; a stack copy or a GC assist is the runtime's wherever it
# happens), and what is left by its innermost frame in grpc-go (transport,
# server) or the scheduler. scripts/compare.sh --profile prints it.
function dur(s) {
  if (s ~ /ms$/) return substr(s, 1, length(s) - 2) / 1000
  if (s ~ /(us|µs)$/) { sub(/(us|µs)$/, "", s); return s / 1e6 }
  if (s ~ /ns$/) return substr(s, 1, length(s) - 2) / 1e9
  if (s ~ /s$/) return substr(s, 1, length(s) - 1)
  return s
}
function classify(   i, f) {
  # Goroutines whose root says what they are.
  for (i = 1; i <= nf; i++) {
    f = fr[i]
    if (f ~ /^runtime\.(gcBgMarkWorker|bgsweep|bgscavenge) /) return "GC: background mark, sweep, scavenge"
    if (f ~ /\/filter\/logwriter\.go/) return "decision log line (slog JSON, queue, write)"
  }
  # The innermost frame of a known kind.
  for (i = 1; i <= nf; i++) {
    f = fr[i]
    if (f ~ /^runtime\.(gcAssistAlloc|gcDrain|gcStart|sweepone|deductSweepCredit|gcMarkDone|gcMarkTermination|markroot|wbBufFlush|gcWriteBarrier)/) return "GC: assists, sweep credit, write barriers"
    if (f ~ /^runtime\.(newstack|morestack|copystack) /) return "runtime.newstack (goroutine stack growth)"
    if (f ~ /^(syscall\.|internal\/runtime\/syscall\.|runtime\.(write1|read|futex|epollwait|netpoll) )/) return "syscalls (socket read/write, futex, epoll)"
    if (f ~ /prometheus/) return "gRPC metrics interceptor (prometheus)"
    if (f ~ /^log\/slog\.|filter\.\(\*Server\)\.logDecision /) return "decision log line (slog JSON, queue, write)"
    if (f ~ /^cel\.dev\/|\/policy\//) return "policy and CEL rules"
    if (f ~ /\/filter\/(body|extract|form|graphql|json|phonekey|tree|walk)\.go|go-json-experiment/) return "extraction (body read, JSON walk)"
    if (f ~ /\/insight\/|golang-lru|phonenumbers|iploc/) return "insight (cache, velocity, IP country)"
    if (f ~ /\/filter\/(response|responsewire|prebuilt)\.go|structpb\./) return "response building (headers, metadata, bytes)"
    if (f ~ /\/filter\/(wirerequest|request|codec)\.go/) return "request decode and view"
    if (f ~ /\/filter\//) return "filter: check, hash, other"
    if (f ~ /codecV2\)\.Marshal /) return "proto encode of the response"
    if (f ~ /codecV2\)\.Unmarshal /) return "proto decode of the request"
  }
  for (i = 1; i <= nf; i++) {
    f = fr[i]
    if (f ~ /^(google\.golang\.org\/grpc|golang\.org\/x\/net\/http2)/) return "grpc-go transport and server (framing, HPACK, streams)"
    if (f ~ /^runtime\.(schedule|findRunnable|park_m|goexit0|mcall|notesleep|notewakeup|wakep|startm|stopm|mstart|sysmon|usleep|osyield|stealWork|runqgrab)/) return "scheduler"
  }
  return "other"
}
function flush() { if (nf > 0) { c = classify(); sum[c] += v; total += v }; nf = 0 }
/^-+\+-+$/ { flush(); next }
/^ +[0-9.]+(ns|us|µs|ms|s) +[^ ]/ { flush(); v = dur($1); $1 = ""; sub(/^ +/, ""); fr[++nf] = $0; next }
nf > 0 && /^ +[^ ]/ { sub(/^ +/, ""); fr[++nf] = $0; next }
END {
  flush()
  for (c in sum) printf "%6.1f%%  %7.2fs  %s\n", sum[c] * 100 / total, sum[c], c | "sort -rn"
  close("sort -rn")
  printf "%6.1f%%  %7.2fs  total\n", 100, total
}
