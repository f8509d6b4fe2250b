# Shared by scripts/bench-pages and scripts/bench-explorer (sourced):
# start_server DIR [serve args…] starts the release server on a free port
# in DIR and sets B to its base URL; time_page PATH [SESSION] requests a
# page N times and prints the median and the slowest (curl's time_total:
# server time plus a loopback round trip).

start_server() { # data-dir [extra serve args]
  local d=$1
  shift
  SHUCANG_LOG=warn ./target/release/shucang serve --listen 127.0.0.1:0 --data-dir "$d" "$@" \
    >"$d/stdout" 2>"$d/stderr" &
  pid=$!
  for _ in $(seq 1 600); do
    grep -q "listening on" "$d/stdout" 2>/dev/null && break
    sleep 0.1
  done
  B=$(sed -n 's/^shucang listening on //p' "$d/stdout")
  [ -n "$B" ] || { echo "error: server did not start" >&2; cat "$d/stderr" >&2; exit 1; }
}

time_page() { # path [session]
  local cookie=() times code
  [ -n "${2:-}" ] && cookie=(-H "cookie: shucang_session=$2")
  code=$(curl -s -o /dev/null -w '%{http_code}' "${cookie[@]}" "$B$1")
  times=$(for _ in $(seq 1 "$n"); do
    curl -s -o /dev/null -w '%{time_total}\n' "${cookie[@]}" "$B$1"
  done | sort -n)
  awk -v p="$1" -v c="$code" -v n="$n" '{a[NR]=$1*1000} END {
    printf "%-44s %s  median %6.2f ms  max %6.2f ms  (n=%d)\n", substr(p, 1, 44), c, a[int((NR+1)/2)], a[NR], n
  }' <<<"$times"
}
