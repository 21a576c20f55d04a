#!/usr/bin/env bash
# The workspace container's entrypoint (run under dumb-init so signals reach it).
#
# Checks the task environment, gets the agent token and the editor password from the bootstrap
# call (they never travel in the task's environment), clones the repository (retrying transient failures) with the DevFlow
# git credential helper configured for it, runs the repository's own setup once (lib/repo-setup.mjs:
# .devflow/setup.sh or the devcontainer.json lifecycle commands, with its containerEnv/remoteEnv;
# a failure ends the workspace with status 4 and the command's last lines in the log), writes
# code-server's config with the session password hashed, then runs code-server and ai-workflow.sh
# side by side. When either ends, or on TERM, both
# are stopped within STOP_TIMEOUT_SECONDS (under ECS's stop timeout), the agent first being given
# the chance to push what a running prompt has committed.
#
# Without code-server (a host process started by `devflow local`), only the agent runs and the
# editor is reported unavailable. Every path and command can be overridden by the environment.
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
DEVFLOW_LIB_DIR=${DEVFLOW_LIB_DIR:-$SCRIPT_DIR/lib}
# shellcheck source=lib/devflow-common.sh
. "$DEVFLOW_LIB_DIR/devflow-common.sh"
# shellcheck source=lib/checkpoint.sh
. "$DEVFLOW_LIB_DIR/checkpoint.sh"
DEVFLOW_LOG_NAME=entrypoint
# The warm pool's path (DEVFLOW_WARM_ID set: a task started with no session).
# shellcheck source=lib/warm-pool.sh
. "$DEVFLOW_LIB_DIR/warm-pool.sh"

WORKSPACE_DIR=${WORKSPACE_DIR:-$HOME/workspace}
STATE_DIR=${STATE_DIR:-$HOME/.devflow}
NODE_BIN=${NODE_BIN:-node}
# The entrypoint's exit status when the repository's setup failed.
SETUP_FAILED_EXIT_STATUS=4
AI_WORKFLOW_BIN=${AI_WORKFLOW_BIN:-$SCRIPT_DIR/ai-workflow.sh}
CREDENTIAL_HELPER_BIN=${CREDENTIAL_HELPER_BIN:-$SCRIPT_DIR/devflow-git-credential}
CODE_SERVER_BIN=${CODE_SERVER_BIN:-code-server}
CODE_SERVER_CONFIG=${CODE_SERVER_CONFIG:-$HOME/.config/code-server/config.yaml}
EDITOR_BIND_ADDR=${EDITOR_BIND_ADDR:-0.0.0.0:8080}
ARGON2_BIN=${ARGON2_BIN:-argon2}
CLONE_ATTEMPTS=${CLONE_ATTEMPTS:-5}
CLONE_BACKOFF_MS=${CLONE_BACKOFF_MS:-2000}
STOP_TIMEOUT_SECONDS=${STOP_TIMEOUT_SECONDS:-25}
BOOTSTRAP_ATTEMPTS=${BOOTSTRAP_ATTEMPTS:-8}
BOOTSTRAP_BACKOFF_MS=${BOOTSTRAP_BACKOFF_MS:-1000}
# ECS's container credentials endpoint (the task role); AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is set by ECS.
CREDENTIALS_ENDPOINT=${CREDENTIALS_ENDPOINT:-http://169.254.170.2}

STOPPING=0
AGENT_PID=
EDITOR_PID=
SETUP_PID=

# shellcheck disable=SC2317 # invoked by the trap
on_stop_signal() {
  log "stop requested"
  STOPPING=1
  # repo-setup.mjs stops the commands it runs.
  [ -z "$SETUP_PID" ] || kill -TERM "$SETUP_PID" 2>/dev/null || true
}

check_environment() {
  require_env SESSION_ID REPO BRANCH DEVFLOW_API_URL
  if ! [[ "$REPO" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]]; then
    log "error: REPO must be owner/name, got '$REPO'"
    exit 2
  fi
  require_commands "$GIT_BIN" "$CURL_BIN" "$JQ_BIN"
  [ -n "${ANTHROPIC_API_KEY:-}" ] || log "warning: ANTHROPIC_API_KEY is not set; Claude Code needs it unless it is logged in another way"
  REPO_URL=${REPO_URL:-https://github.com/$REPO.git}
  REPO_DIR=${REPO_DIR:-$WORKSPACE_DIR/${REPO##*/}}
  export REPO_URL REPO_DIR WORKSPACE_DIR STATE_DIR
}

# The environment the repository's setup asked for (containerEnv, remoteEnv), for the editor and the
# agent: NUL-separated NAME=VALUE records, a bare NAME to unset it.
load_setup_environment() {
  local record
  [ -f "$1" ] || return 0
  while IFS= read -r -d '' record; do
    if [[ "$record" == *=* ]]; then
      export "${record%%=*}=${record#*=}"
    else
      unset "$record"
    fi
  done <"$1"
}

# Once per clone: the setup's result.json says it ran; a restart of the task on the same clone
# only loads its environment again.
run_repository_setup() {
  local dir=$STATE_DIR/setup status=0
  if [ -f "$dir/result.json" ] && [ "$("$JQ_BIN" -r .status "$dir/result.json" 2>/dev/null)" != failed ]; then
    log "the repository's setup already ran for this clone"
    load_setup_environment "$dir/env"
    return 0
  fi
  if [ ! -f "$REPO_DIR/.devflow/setup.sh" ] && [ ! -e "$REPO_DIR/.devcontainer" ] && [ ! -f "$REPO_DIR/.devcontainer.json" ]; then
    mkdir -p "$dir"
    printf '{"status":"none","source":null,"commands":[],"ignored":[]}\n' >"$dir/result.json"
    return 0
  fi
  require_commands "$NODE_BIN"
  rm -rf "$dir"
  log "running the repository's setup"
  "$NODE_BIN" "$DEVFLOW_LIB_DIR/repo-setup.mjs" "$REPO_DIR" "$dir" &
  SETUP_PID=$!
  while :; do
    status=0
    wait "$SETUP_PID" 2>/dev/null || status=$?
    kill -0 "$SETUP_PID" 2>/dev/null || break
  done
  SETUP_PID=
  [ "$STOPPING" -eq 0 ] || exit 0
  if [ "$status" -ne 0 ]; then
    log "error: the repository's setup failed ($("$JQ_BIN" -r '.source // "setup"' "$dir/result.json" 2>/dev/null)): $("$JQ_BIN" -r '.failed.message // "it did not finish"' "$dir/result.json" 2>/dev/null); its last lines:"
    "$JQ_BIN" -r '.failed.lastLines[]? | "  | " + .' "$dir/result.json" >&2 2>/dev/null || tail -n 20 "$dir/output.log" >&2
    log "fix the setup in the repository (or run it by hand in the editor of a new session), then start a new session"
    exit "$SETUP_FAILED_EXIT_STATUS"
  fi
  log "the repository's setup succeeded ($("$JQ_BIN" -r '.source' "$dir/result.json"))"
  load_setup_environment "$dir/env"
}

# A value going into curl's config on stdin: no quote, backslash or line break can get in.
config_safe() {
  [[ "$1" =~ ^[A-Za-z0-9._~+/=:-]+$ ]]
}

# The curl config lines that prove which task this is: a one-use nonce from a local runtime (read
# from its 0600 file, which is then removed), or SigV4 with the task role's credentials.
bootstrap_proof() {
  local creds region
  if [ -n "${BOOTSTRAP_NONCE:-}" ]; then
    printf 'header = "Authorization: Bearer %s"\n' "$BOOTSTRAP_NONCE"
    return 0
  fi
  if [ -z "${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-}" ]; then
    DIE_STATUS=2 die "no way to prove this task to the API: neither DEVFLOW_BOOTSTRAP_FILE (local runtime) nor AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (ECS task role) is set"
  fi
  creds=$("$CURL_BIN" --silent --show-error --fail --max-time 5 "${CREDENTIALS_ENDPOINT%/}$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || return 1
  region=${DEVFLOW_API_REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}
  [ -n "$region" ] || region=$(sed -n 's|^https://[^/]*\.execute-api\.\([a-z0-9-]*\)\.amazonaws\.com.*|\1|p' <<<"$DEVFLOW_API_URL")
  [ -n "$region" ] || DIE_STATUS=2 die "cannot tell the API's region: set AWS_REGION"
  # shellcheck disable=SC2016 # a jq program
  "$JQ_BIN" -r --arg region "$region" '
    if ([.AccessKeyId, .SecretAccessKey, .Token] | all(type == "string" and test("^[A-Za-z0-9._~+/=:-]+$")))
    then "user = \"\(.AccessKeyId):\(.SecretAccessKey)\"\naws-sigv4 = \"aws:amz:\($region):execute-api\"\nheader = \"x-amz-security-token: \(.Token)\""
    else error("malformed credentials") end' <<<"$creds" 2>/dev/null
}

# The task's first call (DESIGN.md): the API checks the proof against the session's task and
# answers the agent token and the editor password, once. Transient failures are retried.
bootstrap_workspace() {
  local dir out proof attempt delay_ms=$BOOTSTRAP_BACKOFF_MS code
  dir=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/devflow-bootstrap.XXXXXX") || die "cannot create a private temporary directory"
  out=$dir/response.json
  if [ -n "${DEVFLOW_BOOTSTRAP_FILE:-}" ]; then
    BOOTSTRAP_NONCE=$(cat "$DEVFLOW_BOOTSTRAP_FILE" 2>/dev/null) || DIE_STATUS=2 die "cannot read the bootstrap nonce file $DEVFLOW_BOOTSTRAP_FILE"
    rm -f "$DEVFLOW_BOOTSTRAP_FILE" 2>/dev/null || true
    config_safe "$BOOTSTRAP_NONCE" || DIE_STATUS=2 die "the bootstrap nonce in $DEVFLOW_BOOTSTRAP_FILE is malformed"
  fi
  for attempt in $(seq 1 "$BOOTSTRAP_ATTEMPTS"); do
    [ "$STOPPING" -eq 0 ] || { rm -rf "$dir"; exit 0; }
    API_STATUS=000
    proof=$(bootstrap_proof)
    code=$?
    [ "$code" -ne 2 ] || exit 2
    if [ "$code" -eq 0 ]; then
      printf '%s\n' "$proof" | "$CURL_BIN" -K - --silent --show-error --output "$out" --write-out '%{http_code}' --max-time 30 \
        --connect-timeout "${API_CONNECT_TIMEOUT_SECONDS:-5}" -X POST -H 'Accept: application/json' \
        "${DEVFLOW_API_URL%/}/agent/sessions/${SESSION_ID}/bootstrap" >"$dir/status" 2>"$dir/err"
      API_STATUS=$(cat "$dir/status" 2>/dev/null)
    fi
    case $API_STATUS in
      200)
        DEVFLOW_SESSION_TOKEN=$("$JQ_BIN" -r '.token // empty' "$out")
        EDITOR_PASSWORD=$("$JQ_BIN" -r '.editorPassword // empty' "$out")
        rm -rf "$dir"
        # BOOTSTRAP_NONCE stays in this shell (never exported): the checkpoint calls prove the task with it.
        [ -n "$DEVFLOW_SESSION_TOKEN" ] || DIE_STATUS=1 die "the bootstrap call answered no token"
        export DEVFLOW_SESSION_TOKEN EDITOR_PASSWORD
        check_session_token
        log "bootstrapped the session"
        return 0
        ;;
      401 | 403 | 409)
        code=$("$JQ_BIN" -r '.error.code // empty' "$out" 2>/dev/null)
        if [ "$code" != SESSION_NOT_READY ]; then
          log "error: the API refused the bootstrap call ($API_STATUS ${code:-}): $(api_error_message "$out")"
          rm -rf "$dir"
          exit 2
        fi
        ;;
    esac
    log "bootstrap call failed (attempt $attempt of $BOOTSTRAP_ATTEMPTS, status $API_STATUS)"
    if [ "$attempt" -lt "$BOOTSTRAP_ATTEMPTS" ]; then
      sleep "$(ms_to_seconds "$delay_ms")" &
      wait "$!" 2>/dev/null || true
      delay_ms=$((delay_ms * 2))
    fi
  done
  rm -rf "$dir"
  die "could not bootstrap the session after $BOOTSTRAP_ATTEMPTS attempts; check that the task reaches $DEVFLOW_API_URL"
}

clone_repository() {
  local attempt delay_ms=$CLONE_BACKOFF_MS
  local -a config=()
  if [ -d "$REPO_DIR/.git" ]; then
    log "reusing the clone in $REPO_DIR"
    return 0
  fi
  # Only HTTPS remotes need the helper; the empty value first drops any helper configured globally.
  case $REPO_URL in
    https://*) config=(--config credential.helper= --config "credential.helper=$CREDENTIAL_HELPER_BIN") ;;
  esac
  mkdir -p "$(dirname "$REPO_DIR")"
  for attempt in $(seq 1 "$CLONE_ATTEMPTS"); do
    [ "$STOPPING" -eq 0 ] || exit 0
    if "$GIT_BIN" clone --quiet --branch "$BRANCH" "${config[@]}" -- "$REPO_URL" "$REPO_DIR" 2>"$WORKSPACE_DIR/.clone.err"; then
      rm -f "$WORKSPACE_DIR/.clone.err"
      log "cloned $REPO ($BRANCH) into $REPO_DIR"
      return 0
    fi
    log "clone of $REPO_URL ($BRANCH) failed (attempt $attempt of $CLONE_ATTEMPTS): $(tr '\n' ' ' <"$WORKSPACE_DIR/.clone.err" | head -c 500)"
    rm -rf "$REPO_DIR"
    if [ "$attempt" -lt "$CLONE_ATTEMPTS" ]; then
      sleep "$(ms_to_seconds "$delay_ms")" &
      wait "$!" 2>/dev/null || true
      delay_ms=$((delay_ms * 2))
    fi
  done
  log "error: could not clone $REPO_URL (branch $BRANCH) after $CLONE_ATTEMPTS attempts; check that the branch exists and the GitHub App can read the repository"
  exit 1
}

# Writes code-server's config with an argon2 hash of the session password (code-server accepts
# `hashed-password` in the PHC format), so the password itself is never stored.
write_editor_config() {
  local salt hash
  if [ -z "${EDITOR_PASSWORD:-}" ]; then
    log "error: EDITOR_PASSWORD is not set; the control plane sets the editor's password when it starts the task"
    exit 2
  fi
  require_commands "$ARGON2_BIN"
  salt=$(head -c 18 /dev/urandom | base64 | tr -d '+/=')
  hash=$(printf '%s' "$EDITOR_PASSWORD" | "$ARGON2_BIN" "$salt" -id -e) || die "could not hash the editor password with $ARGON2_BIN"
  mkdir -p "$(dirname "$CODE_SERVER_CONFIG")"
  (
    umask 077
    printf 'bind-addr: %s\nauth: password\nhashed-password: "%s"\ncert: false\n' "$EDITOR_BIND_ADDR" "$hash" >"$CODE_SERVER_CONFIG"
  )
}

start_editor() {
  if ! command -v "$CODE_SERVER_BIN" >/dev/null 2>&1; then
    log "code-server is not installed ($CODE_SERVER_BIN): the editor is unavailable; running the agent only"
    return 0
  fi
  write_editor_config
  env -u EDITOR_PASSWORD -u PASSWORD -u HASHED_PASSWORD "$CODE_SERVER_BIN" --config "$CODE_SERVER_CONFIG" \
    --disable-telemetry --disable-update-check "$REPO_DIR" &
  EDITOR_PID=$!
  log "code-server started on $EDITOR_BIND_ADDR (pid $EDITOR_PID)"
}

alive() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null
}

# TERM to what is still running, then up to STOP_TIMEOUT_SECONDS for it to end, then KILL.
stop_children() {
  local pid deadline=$((SECONDS + STOP_TIMEOUT_SECONDS))
  for pid in "$AGENT_PID" "$EDITOR_PID"; do
    alive "$pid" && kill -TERM "$pid" 2>/dev/null
  done
  while { alive "$AGENT_PID" || alive "$EDITOR_PID"; } && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.2
  done
  for pid in "$AGENT_PID" "$EDITOR_PID"; do
    if alive "$pid"; then
      log "pid $pid did not stop within ${STOP_TIMEOUT_SECONDS}s; killing it"
      kill -KILL "$pid" 2>/dev/null
    fi
  done
}

main() {
  trap on_stop_signal TERM INT
  if [ -n "${DEVFLOW_WARM_ID:-}" ]; then
    wait_for_assignment
  else
    check_environment
    bootstrap_workspace
  fi
  mkdir -p "$WORKSPACE_DIR"
  clone_repository
  restore_checkpoint
  run_repository_setup
  # A warm task started its editor (or found none) before it was assigned.
  [ -n "${WARM_EDITOR_TRIED:-}" ] || start_editor
  unset EDITOR_PASSWORD
  "$AI_WORKFLOW_BIN" &
  AGENT_PID=$!
  local status=0 finished
  while [ "$STOPPING" -eq 0 ]; do
    finished=
    wait -n -p finished "$AGENT_PID" ${EDITOR_PID:+"$EDITOR_PID"}
    status=$?
    # No pid: a trapped signal interrupted the wait.
    [ -n "${finished:-}" ] || continue
    if [ "$finished" = "$AGENT_PID" ]; then
      AGENT_PID=
      log "the agent exited (status $status); stopping the workspace"
      # ai-workflow.sh's status for a key the Claude API refused (AUTH_FAILED_EXIT_STATUS there).
      [ "$status" -ne 3 ] || log "error: the Claude API refused ANTHROPIC_API_KEY; set a valid key (devflow secrets set claude-api-key) and start a new session"
    else
      EDITOR_PID=
      log "code-server exited (status $status); stopping the workspace"
      [ "$status" -ne 0 ] || status=1
    fi
    break
  done
  stop_children
  save_checkpoint
  [ "$STOPPING" -eq 0 ] || status=0
  log "workspace stopped"
  exit "$status"
}

main "$@"
