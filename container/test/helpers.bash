# shellcheck shell=bash
# Shared bats setup: a bare git remote with one commit on main, a fake DevFlow API on 127.0.0.1,
# the stub claude, and the environment the control plane gives the task, with short timings.

# Used by the .bats files that load this one.
# shellcheck disable=SC2034
CONTAINER_DIR=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
FIXTURES=$BATS_TEST_DIRNAME/fixtures

setup_workspace() {
  TEST_ROOT=$(mktemp -d "${BATS_TMPDIR:-/tmp}/devflow-container.XXXXXX")
  export HOME=$TEST_ROOT/home
  mkdir -p "$HOME"
  export GIT_CONFIG_NOSYSTEM=1
  REMOTE=$TEST_ROOT/remote.git
  git init --quiet --bare --initial-branch=main "$REMOTE"
  local seed=$TEST_ROOT/seed
  git init --quiet --initial-branch=main "$seed"
  printf '# demo\n' >"$seed/README.md"
  git -C "$seed" add README.md
  git -C "$seed" -c user.name=Seed -c user.email=seed@example.com commit --quiet -m "initial commit"
  git -C "$seed" push --quiet "$REMOTE" main

  export SESSION_ID=s-abcdefghij0123456789
  export REPO=acme/demo
  export BRANCH=main
  export REPO_URL=$REMOTE
  # What the agent and the credential helper get from the entrypoint's bootstrap call.
  export DEVFLOW_SESSION_TOKEN=session-token
  # The entrypoint's proof for the fake API's bootstrap route (a local runtime's nonce file).
  export DEVFLOW_BOOTSTRAP_FILE=$TEST_ROOT/bootstrap-nonce
  printf bootstrap-nonce >"$DEVFLOW_BOOTSTRAP_FILE"
  chmod 600 "$DEVFLOW_BOOTSTRAP_FILE"
  export BOOTSTRAP_BACKOFF_MS=50
  export GIT_AUTHOR_NAME="Ada Lovelace"
  export GIT_AUTHOR_EMAIL=ada@example.com
  export WORKSPACE_DIR=$TEST_ROOT/workspace
  export REPO_DIR=$WORKSPACE_DIR/demo
  export STATE_DIR=$TEST_ROOT/state
  export CLAUDE_BIN=$FIXTURES/claude
  export STUB_CLAUDE_LOG=$TEST_ROOT/claude.jsonl
  export CODE_SERVER_BIN=$TEST_ROOT/no-code-server
  export POLL_WAIT_SECONDS=0
  export BACKOFF_INITIAL_MS=50
  export BACKOFF_MAX_MS=200
  export EVENT_FLUSH_INTERVAL_SECONDS=0.1
  export HEARTBEAT_INTERVAL_SECONDS=1
  export CLONE_BACKOFF_MS=50
  export API_CONNECT_TIMEOUT_SECONDS=1
  unset ANTHROPIC_API_KEY
  API_STATE=$TEST_ROOT/api
  mkdir -p "$API_STATE"
}

start_api() {
  FAKE_API_TOKEN=session-token python3 "$FIXTURES/fake-api.py" "$API_STATE" 3>&- &
  API_PID=$!
  local _
  for _ in $(seq 1 100); do
    [ -f "$API_STATE/port" ] && break
    sleep 0.05
  done
  [ -f "$API_STATE/port" ] || { echo "the fake API did not start" >&2; return 1; }
  DEVFLOW_API_URL="http://127.0.0.1:$(cat "$API_STATE/port")/prod"
  export DEVFLOW_API_URL
}

stop_api() {
  if [ -n "${API_PID:-}" ]; then
    kill "$API_PID" 2>/dev/null || true
    wait "$API_PID" 2>/dev/null || true
    API_PID=
  fi
}

teardown_workspace() {
  stop_api
  rm -rf "$TEST_ROOT"
}

# queue_prompt ID TEXT [BRANCH]
queue_prompt() {
  local seq
  seq=$(($(find "$API_STATE/queue" "$API_STATE/claimed" -name '*.json' 2>/dev/null | wc -l) + 1))
  jq -n --arg id "$1" --arg text "$2" --arg branch "${3:-}" --arg session "$SESSION_ID" --argjson seq "$seq" \
    '{id: $id, sessionId: $session, seq: $seq, text: $text, status: "QUEUED", pr: "none", attempt: 1,
      createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z"} + (if $branch != "" then {branch: $branch} else {} end)' \
    >"$API_STATE/queue/$(printf '%04d' "$seq")-$1.json"
}

# The requests the fake API received, filtered by a jq condition on {method, path, body}.
requests() {
  jq -c "select($1)" "$API_STATE/requests.jsonl" 2>/dev/null
}

results_for() {
  requests ".method == \"POST\" and (.path | endswith(\"/prompts/$1/result\"))"
}

clone_workspace() {
  mkdir -p "$WORKSPACE_DIR"
  git clone --quiet --branch main "$REMOTE" "$REPO_DIR"
}

remote_file() {
  git --git-dir="$REMOTE" show "$1:$2"
}
