# shellcheck shell=bash
# Shared by the workspace scripts: logging, required variables and the agent API client.
#
# The session token is handed to curl on its standard input (`curl -K -`), never on a command line
# where any process of the workspace (the agent's shell included) could read it from /proc.

DEVFLOW_LOG_NAME=${DEVFLOW_LOG_NAME:-devflow}
CURL_BIN=${CURL_BIN:-curl}
JQ_BIN=${JQ_BIN:-jq}
GIT_BIN=${GIT_BIN:-git}

log() {
  # bash's own clock (no `date` process per line: the agent logs on its prompt's critical path).
  local now
  TZ=UTC printf -v now '%(%Y-%m-%dT%H:%M:%SZ)T' -1
  printf '%s %s: %s\n' "$now" "$DEVFLOW_LOG_NAME" "$*" >&2
}

die() {
  log "error: $*"
  exit "${DIE_STATUS:-1}"
}

# require_env NAME... : one clear line per missing variable, then exit 2.
require_env() {
  local name missing=0
  for name in "$@"; do
    if [ -z "${!name:-}" ]; then
      log "error: $name is not set; the control plane sets it when it starts the task (set it yourself to run this script by hand)"
      missing=1
    fi
  done
  [ "$missing" -eq 0 ] || exit 2
}

# require_commands CMD... : fail early when a tool the scripts need is not installed.
require_commands() {
  local command missing=0
  for command in "$@"; do
    if ! command -v "$command" >/dev/null 2>&1; then
      log "error: the command '$command' is not installed or not on PATH"
      missing=1
    fi
  done
  [ "$missing" -eq 0 ] || exit 2
}

# The token goes into curl's config on stdin: it must not be able to add a line or a quote there.
check_session_token() {
  if ! [[ "$DEVFLOW_SESSION_TOKEN" =~ ^[A-Za-z0-9._~+/=-]+$ ]]; then
    log "error: DEVFLOW_SESSION_TOKEN has characters a session token never has; check the task's environment"
    exit 2
  fi
}

# ms_to_seconds 1500 -> 1.500 (for sleep, which takes fractions).
ms_to_seconds() {
  printf '%d.%03d' "$(($1 / 1000))" "$(($1 % 1000))"
}

# api_request METHOD PATH BODY_FILE OUT_FILE [MAX_TIME_SECONDS] [ABORT_WHEN_STOPPING]
# Calls $DEVFLOW_API_URL/agent/sessions/$SESSION_ID/PATH with the bearer token and the JSON body in
# BODY_FILE (empty for none). Writes the response body to OUT_FILE (curl's complaint, if any, to
# OUT_FILE.err) and sets API_STATUS to the HTTP status, or 000 when the API could not be reached.
# curl runs in the background so a trapped TERM is handled at once; with ABORT_WHEN_STOPPING=1 the
# request is abandoned as soon as the caller's STOPPING flag is set (used for the long poll).
API_STATUS=000
api_request() {
  local method=$1 path=$2 body_file=$3 out=$4 max_time=${5:-${API_TIMEOUT_SECONDS:-30}} abort=${6:-0}
  local url="${DEVFLOW_API_URL%/}/agent/sessions/${SESSION_ID}/${path}"
  local curl_pid wait_status
  local -a args=(--silent --show-error --output "$out" --write-out '%{http_code}' --max-time "$max_time"
    --connect-timeout "${API_CONNECT_TIMEOUT_SECONDS:-5}" -X "$method" -H 'Accept: application/json')
  if [ -n "$body_file" ]; then
    args+=(-H 'Content-Type: application/json' --data-binary "@$body_file")
  fi
  : >"$out"
  printf 'header = "Authorization: Bearer %s"\n' "$DEVFLOW_SESSION_TOKEN" |
    "$CURL_BIN" -K - "${args[@]}" "$url" >"$out.status" 2>"$out.err" &
  curl_pid=$!
  while :; do
    wait_status=0
    wait "$curl_pid" 2>/dev/null || wait_status=$?
    # Above 128 with curl still alive: a trapped signal interrupted the wait, not curl's own exit.
    if [ "$wait_status" -gt 128 ] && kill -0 "$curl_pid" 2>/dev/null; then
      if [ "$abort" = 1 ] && [ "${STOPPING:-0}" = 1 ]; then
        kill "$curl_pid" 2>/dev/null || true
        wait "$curl_pid" 2>/dev/null || true
        break
      fi
      continue
    fi
    break
  done
  API_STATUS=
  [ ! -f "$out.status" ] || API_STATUS=$(<"$out.status")
  [[ "$API_STATUS" =~ ^[0-9]{3}$ ]] || API_STATUS=000
}

# Whether an answer (status, body file) says the session is over: 401 (its token is no longer
# accepted) or 409 SESSION_ENDED (the API's answer to the agent of a stopped or failed session).
session_is_over() {
  [ "$1" = 401 ] && return 0
  [ "$1" = 409 ] && [ "$("$JQ_BIN" -r '.error.code // empty' "$2" 2>/dev/null)" = SESSION_ENDED ]
}

# The error message of an API error body ({"error": {"code", "message"}}), or the raw body.
api_error_message() {
  "$JQ_BIN" -r '.error.message // empty' "$1" 2>/dev/null || head -c 500 "$1"
}
