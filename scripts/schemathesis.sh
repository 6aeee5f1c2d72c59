#!/usr/bin/env bash
# Fuzzes the JSON API against its own OpenAPI document with Schemathesis: every check, stateful
# (links) testing included, a fixed seed and bounded examples, so that a run takes about a
# minute on 2 cores (plus the first install and build). Exits non-zero on any failure or warning.
#   scripts/schemathesis.sh
# Knobs: ST_SEED (default 2, a seed whose stateful phase follows most of the links) and
#        ST_MAX_EXAMPLES (per operation and phase, default 150).
# Settings, and the reason for each exception: scripts/schemathesis/schemathesis.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
SEED="${ST_SEED:-2}"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-150}"
CONFIG=scripts/schemathesis/schemathesis.toml
AUTH=scripts/schemathesis/auth.json

# Where cargo puts its output: CARGO_TARGET_DIR, .cargo/config, or target/.
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"

VENV="$TARGET_DIR/schemathesis-$ST_VERSION"
if [ ! -x "$VENV/bin/schemathesis" ]; then
  echo "Installing schemathesis $ST_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

cargo build --quiet --bin multitoken
APP="$TARGET_DIR/debug/multitoken"

WORK="$(mktemp -d)"
SERVER_PID=
stop() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap stop EXIT
trap 'exit 1' INT TERM

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"

# A fresh SQLite database; bcrypt at its lowest cost, since the run logs in hundreds of times.
# The failed-login limits are raised far past what the run can reach: the fuzzer sends many
# wrong passwords, for alice's username among others, and at the default limits (10 per
# username, 100 per address in 15 minutes) every later login, including the ones that renew
# the run's own token, would be a 429, and the rest of the run would test only the throttle.
# (tests/throttle.rs covers the throttle itself.) Likewise max_tokens: past 50 personal tokens
# every creation would be a 409, and the links from a new token to its regeneration would never
# be followed (tests/tokens.rs covers the cap).
ROCKET_ADDRESS=127.0.0.1 \
  ROCKET_PORT="$PORT" \
  ROCKET_LOG_LEVEL=critical \
  ROCKET_DATABASES="{db={url=\"sqlite://$WORK/st.sqlite3\"}}" \
  ROCKET_AUTH='{bcrypt_cost=4, login_max_failures=1000000, login_max_failures_per_ip=1000000, max_tokens=1000000}' \
  "$APP" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 100); do
  curl -fs "$BASE/api/ready" >/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; echo "the app did not start"; exit 1; }
  sleep 0.1
done
curl -fs "$BASE/api/ready" >/dev/null || { cat "$WORK/server.log"; echo "the app is not ready"; exit 1; }

# The users of the auth file, and a token for each (curl), to check the credentials before the
# fuzzer relies on them: Schemathesis then logs in by itself (see $CONFIG).
python3 -c '
import json, sys
for entry in json.load(open(sys.argv[1]))["auth"]:
    creds = entry["loginEndpointAuth"]["payloadUserPwd"]
    print(json.dumps({"username": creds["username"], "password": creds["password"]}))
' "$AUTH" | while read -r credentials; do
  curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "$credentials" "$BASE/api/users"
  token="$(curl -fsS -H 'Content-Type: application/json' -d "$credentials" "$BASE/api/auth/login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$BASE/api/me"
done

# Hypothesis (the generator under Schemathesis) keeps caches in .hypothesis/ of the working
# folder unless told otherwise: not in the repository.
export HYPOTHESIS_STORAGE_DIRECTORY="$WORK/hypothesis"

echo "Schemathesis $ST_VERSION against $BASE/api/openapi.json (seed $SEED, $MAX_EXAMPLES examples)"
status=0
"$VENV/bin/schemathesis" --config-file "$CONFIG" --no-color run "$BASE/api/openapi.json" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --seed "$SEED" \
  --max-examples "$MAX_EXAMPLES" \
  --generation-database none \
  --workers 2 \
  --request-timeout 10 || status=$?

if [ "$status" -ne 0 ] && [ -s "$WORK/server.log" ]; then
  echo "--- server log (last 50 lines)"
  tail -n 50 "$WORK/server.log"
fi
exit "$status"
