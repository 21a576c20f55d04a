# shellcheck shell=bash
# The warm pool's side of the workspace (issue 16; README "The warm pool"), sourced by
# entrypoint.sh when the task was started with DEVFLOW_WARM_ID instead of a session:
#   1. register: the same proof of the task as the bootstrap call (bootstrap_proof: the task role's
#      SigV4 on ECS, the nonce file locally, kept for the checkpoint calls) answers a poll token and
#      the editor password;
#   2. the editor starts on the (still empty) workspace directory;
#   3. claim: long polls until a start assigns the task, answered with the session's environment,
#      the agent token and a repo-scoped token; the entrypoint then clones and runs the agent as
#      for any session.
# A 401, 404 or 409 from the pool means the task was recycled or replaced: it exits 0.

WARM_CLAIM_WAIT_SECONDS=${WARM_CLAIM_WAIT_SECONDS:-20}
WARM_REGISTER_ATTEMPTS=${WARM_REGISTER_ATTEMPTS:-8}
# The only names the claim answer may set in the workspace's environment.
WARM_SESSION_VARIABLES='SESSION_ID REPO BRANCH GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL REPO_URL'

# warm_call PATH OUT_DIR MAX_TIME CONFIG: POST to the pool's route with CONFIG (curl config lines:
# the proof or the poll token) in a file of the private directory, removed when curl is done (never
# on a command line); sets API_STATUS. curl runs in the background so that a TERM is handled at once.
warm_call() {
  local path=$1 dir=$2 max_time=$3 pid wait_status
  : >"$dir/response.json"
  (umask 077 && printf '%s\n' "$4" >"$dir/curl.config")
  "$CURL_BIN" -K "$dir/curl.config" --silent --show-error --output "$dir/response.json" --write-out '%{http_code}' --max-time "$max_time" \
    --connect-timeout "${API_CONNECT_TIMEOUT_SECONDS:-5}" -X POST -H 'Accept: application/json' \
    "${DEVFLOW_API_URL%/}/agent/warm/${DEVFLOW_WARM_ID}/${path}" >"$dir/status" 2>"$dir/err" &
  pid=$!
  while :; do
    wait_status=0
    wait "$pid" 2>/dev/null || wait_status=$?
    if [ "$wait_status" -gt 128 ] && kill -0 "$pid" 2>/dev/null; then
      if [ "$STOPPING" -eq 1 ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        break
      fi
      continue
    fi
    break
  done
  rm -f "$dir/curl.config"
  API_STATUS=$(cat "$dir/status" 2>/dev/null)
  [[ "$API_STATUS" =~ ^[0-9]{3}$ ]] || API_STATUS=000
}

warm_stop_now() {
  log "stop requested while warm; no session was assigned"
  stop_children
  rm -rf "$WARM_DIR"
  exit 0
}

register_warm_task() {
  local attempt delay_ms=$BOOTSTRAP_BACKOFF_MS proof code
  if [ -n "${DEVFLOW_BOOTSTRAP_FILE:-}" ]; then
    BOOTSTRAP_NONCE=$(cat "$DEVFLOW_BOOTSTRAP_FILE" 2>/dev/null) || DIE_STATUS=2 die "cannot read the bootstrap nonce file $DEVFLOW_BOOTSTRAP_FILE"
    rm -f "$DEVFLOW_BOOTSTRAP_FILE" 2>/dev/null || true
    config_safe "$BOOTSTRAP_NONCE" || DIE_STATUS=2 die "the bootstrap nonce in $DEVFLOW_BOOTSTRAP_FILE is malformed"
  fi
  for attempt in $(seq 1 "$WARM_REGISTER_ATTEMPTS"); do
    [ "$STOPPING" -eq 0 ] || warm_stop_now
    API_STATUS=000
    proof=$(bootstrap_proof)
    code=$?
    [ "$code" -ne 2 ] || exit 2
    [ "$code" -ne 0 ] || warm_call register "$WARM_DIR" 30 "$proof"
    case $API_STATUS in
      200)
        WARM_POLL_TOKEN=$("$JQ_BIN" -r '.pollToken // empty' "$WARM_DIR/response.json")
        # shellcheck disable=SC2034 # read by write_editor_config in entrypoint.sh
        EDITOR_PASSWORD=$("$JQ_BIN" -r '.editorPassword // empty' "$WARM_DIR/response.json")
        # BOOTSTRAP_NONCE stays in this shell (never exported): the assigned session's checkpoint calls prove the task with it.
        config_safe "$WARM_POLL_TOKEN" || DIE_STATUS=1 die "the register call answered no usable poll token"
        log "registered as warm task $DEVFLOW_WARM_ID"
        return 0
        ;;
      401 | 403 | 404 | 409)
        log "the API refused the warm task's register call ($API_STATUS): $(api_error_message "$WARM_DIR/response.json")"
        exit 2
        ;;
    esac
    log "register call failed (attempt $attempt of $WARM_REGISTER_ATTEMPTS, status $API_STATUS)"
    sleep "$(ms_to_seconds "$delay_ms")" &
    wait "$!" 2>/dev/null || true
    delay_ms=$((delay_ms * 2))
  done
  die "could not register the warm task after $WARM_REGISTER_ATTEMPTS attempts; check that the task reaches $DEVFLOW_API_URL"
}

# Exports the session's environment from the claim answer: only the names the pool may set.
export_assignment() {
  local record name
  while IFS= read -r -d '' record; do
    name=${record%%=*}
    case " $WARM_SESSION_VARIABLES " in
      *" $name "*) export "$name=${record#*=}" ;;
      *) log "warning: ignoring $name in the assignment" ;;
    esac
  done < <("$JQ_BIN" -j '.environment // {} | to_entries[] | "\(.key)=\(.value | tostring)\u0000"' "$WARM_DIR/response.json")
  DEVFLOW_SESSION_TOKEN=$("$JQ_BIN" -r '.token // empty' "$WARM_DIR/response.json")
  [ -n "$DEVFLOW_SESSION_TOKEN" ] || die "the assignment carries no agent token"
  export DEVFLOW_SESSION_TOKEN
  check_session_token
}

claim_session() {
  local delay_ms=1000
  while :; do
    [ "$STOPPING" -eq 0 ] || warm_stop_now
    warm_call "claim?wait=$WARM_CLAIM_WAIT_SECONDS" "$WARM_DIR" $((WARM_CLAIM_WAIT_SECONDS + 10)) "header = \"Authorization: Bearer $WARM_POLL_TOKEN\""
    case $API_STATUS in
      200)
        export_assignment
        log "assigned to session $SESSION_ID ($REPO, $BRANCH)"
        return 0
        ;;
      204) delay_ms=1000 ;;
      401 | 404 | 409)
        log "the warm pool let this task go ($API_STATUS): $(api_error_message "$WARM_DIR/response.json"); shutting down"
        stop_children
        rm -rf "$WARM_DIR"
        exit 0
        ;;
      *)
        log "claim poll failed (status $API_STATUS); retrying"
        sleep "$(ms_to_seconds "$delay_ms")" &
        wait "$!" 2>/dev/null || true
        [ "$delay_ms" -ge 8000 ] || delay_ms=$((delay_ms * 2))
        ;;
    esac
  done
}

# The warm path up to an assigned session: afterwards the entrypoint carries on as after a bootstrap.
wait_for_assignment() {
  require_env DEVFLOW_WARM_ID DEVFLOW_API_URL
  require_commands "$GIT_BIN" "$CURL_BIN" "$JQ_BIN"
  WARM_DIR=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/devflow-warm.XXXXXX") || die "cannot create a private temporary directory"
  register_warm_task
  mkdir -p "$WORKSPACE_DIR"
  # The editor serves the workspace directory; the clone appears in it once a session is assigned.
  REPO_DIR=$WORKSPACE_DIR start_editor
  # shellcheck disable=SC2034 # read by entrypoint.sh once a session is assigned
  WARM_EDITOR_TRIED=1
  claim_session
  rm -rf "$WARM_DIR"
  check_environment
}
