# Server lifecycle for the benchmark scripts (sourced by bench/server/run.sh
# and bench/python/run.sh): one server at a time, on a free 127.0.0.1 port,
# with a fresh temp data dir, stopped (and its dir removed) by stop_server.
#
# The caller defines log() and sets BENCH_LOG_DIR (server output goes to
# BENCH_LOG_DIR/NAME.log), and calls stop_server from its EXIT trap.
# start_server sets SERVER_PID, SERVER_DIR, SERVER_PORT and SERVER_URL.

SERVER_PID=""
SERVER_DIR=""

# A port nothing listens on right now (the kernel's pick for port 0).
free_port() {
  if command -v /usr/bin/python3 >/dev/null; then
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
  fi
}

# stop_server: SIGTERM, a bounded wait (10 s) for a clean exit, then SIGKILL.
stop_server() {
  local i
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
  if [[ -n "$SERVER_DIR" ]]; then
    rm -rf "$SERVER_DIR"
    SERVER_DIR=""
  fi
}

# start_server NAME BIN: starts `BIN run --path DIR --host 127.0.0.1 --port P`
# (ksdb and the reference `chroma` take the same flags) and waits, bounded
# (60 s), for /api/v2/heartbeat; exits the script if the server dies or
# never answers.
start_server() {
  local name="$1" bin="$2" i
  SERVER_PORT="$(free_port)"
  SERVER_DIR="$(mktemp -d -t "ksdb-bench-$name-XXXXXX")"
  "$bin" run --path "$SERVER_DIR" --host 127.0.0.1 --port "$SERVER_PORT" \
    >"$BENCH_LOG_DIR/$name.log" 2>&1 &
  SERVER_PID=$!
  SERVER_URL="http://127.0.0.1:$SERVER_PORT"
  for ((i = 0; i < 600; i++)); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "$name exited before it was ready:"; cat "$BENCH_LOG_DIR/$name.log" >&2
      exit 1
    fi
    if curl -sf -o /dev/null "$SERVER_URL/api/v2/heartbeat"; then
      log "$name ready at $SERVER_URL"
      return 0
    fi
    sleep 0.1
  done
  log "$name not ready after 60 s:"; cat "$BENCH_LOG_DIR/$name.log" >&2
  exit 1
}
