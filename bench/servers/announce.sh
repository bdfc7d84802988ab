#!/usr/bin/env bash
# announce.sh PORT COMMAND...: runs COMMAND (a server that prints nothing when ready, such as ncat or socat) and
# prints "listening tcp://127.0.0.1:PORT" once the port accepts connections, as run.sh waits for. COMMAND replaces
# this shell (exec), so run.sh measures the server's own process.
port=$1; shift
hexport=$(printf '%04X' "$port")
# Double fork: the watcher must not be the server's child (ncat counts its --exec children and asserts when an
# unknown child exits).
( (
    # Look for the listening socket in /proc/net/tcp (state 0A) rather than connecting: a probe connection would
    # start a child (ncat --exec, socat fork) that the measurement would then include.
    for _ in $(seq 1 400); do
        if awk -v p=":$hexport" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' /proc/net/tcp 2>/dev/null; then
            echo "listening tcp://127.0.0.1:$port"
            exit 0
        fi
        sleep 0.05
    done
) & )
exec "$@"
