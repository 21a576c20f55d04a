#!/usr/bin/env bash
# The workspace's agent loop (DESIGN.md "The prompt channel").
#
# Long-polls the DevFlow API for the session's next prompt, runs Claude Code headless on it in the
# cloned repository (resuming one Claude session across the session's prompts), forwards its
# stream-json output as prompt events, commits and pushes what changed to devflow/<session-id> (or
# the prompt's branch), and reports the result.
#
# Never twice: each claimed prompt gets a directory under $STATE_DIR/prompts/<id> holding
# `started`, then `result.json`, then `reported`. After a restart a reported prompt is ignored, a
# computed result is sent again, and a prompt that was interrupted mid-run is reported FAILED
# (with whatever it had changed pushed) instead of being run a second time.
#
# TERM/INT: the running Claude Code process is stopped, what it changed is committed and pushed, the
# result is reported, and the loop exits 0. A 401 or a 409 SESSION_ENDED from the API means the
# session is over: the loop ends the same way. A key the Claude API refuses fails the prompt with
# AGENT_AUTH_FAILED at once (not after the CLI's retries) and ends the loop with status 3: every further prompt would fail
# the same, so none is claimed.
#
# A failed run is reported with an outcome code (lib/run-summary.jq; the table is in README.md).
#
# Every path, command and timing can be overridden by the environment (see the defaults below), so
# tests and the local platform run this script on a host.
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
DEVFLOW_LIB_DIR=${DEVFLOW_LIB_DIR:-$SCRIPT_DIR/lib}
# shellcheck source=lib/devflow-common.sh
. "$DEVFLOW_LIB_DIR/devflow-common.sh"
DEVFLOW_LOG_NAME=ai-workflow

WORKSPACE_DIR=${WORKSPACE_DIR:-$HOME/workspace}
REPO_DIR=${REPO_DIR:-$WORKSPACE_DIR/${REPO##*/}}
STATE_DIR=${STATE_DIR:-$HOME/.devflow}
CLAUDE_BIN=${CLAUDE_BIN:-claude}
# An alias, so the CLI picks its current model of that family (a dated id goes stale).
CLAUDE_MODEL=${CLAUDE_MODEL:-sonnet}
CLAUDE_MAX_TURNS=${CLAUDE_MAX_TURNS:-50}
# Tool names as the pinned CLI has them (its init message lists them; test/real-claude checks these).
CLAUDE_ALLOWED_TOOLS=${CLAUDE_ALLOWED_TOOLS:-Bash,Read,Edit,Write,NotebookEdit}
# Optional per-prompt spending limit in USD (the CLI's --max-budget-usd).
CLAUDE_MAX_BUDGET_USD=${CLAUDE_MAX_BUDGET_USD:-}
# The CLI retries API errors (overload, 5xx, and a refused key too) about 10 times over minutes by
# default; bounded here. A refused key is not retried at all: the loop stops the run at the CLI's
# first auth retry (see watch_auth_retry).
export CLAUDE_CODE_MAX_RETRIES=${CLAUDE_CODE_MAX_RETRIES:-6}
# 0: poll until the session ends. Tests set a count to end the loop.
MAX_ITERATIONS=${MAX_ITERATIONS:-0}
POLL_WAIT_SECONDS=${POLL_WAIT_SECONDS:-20}
BACKOFF_INITIAL_MS=${BACKOFF_INITIAL_MS:-1000}
BACKOFF_MAX_MS=${BACKOFF_MAX_MS:-30000}
HEARTBEAT_INTERVAL_SECONDS=${HEARTBEAT_INTERVAL_SECONDS:-60}
# How soon Claude Code's output reaches the API (and its end is noticed): what a person watching can
# tell apart from "at once"; a flush with nothing new costs a line count, no request.
EVENT_FLUSH_INTERVAL_SECONDS=${EVENT_FLUSH_INTERVAL_SECONDS:-0.25}
PUSH_ATTEMPTS=${PUSH_ATTEMPTS:-3}
# How often a result is retried while stopping; without a stop it is retried until it lands.
STOP_RESULT_ATTEMPTS=${STOP_RESULT_ATTEMPTS:-3}
# The loop's exit status after the Claude API refused the key.
AUTH_FAILED_EXIT_STATUS=3

export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-DevFlow agent}
export GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-devflow-agent@users.noreply.github.com}
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-$GIT_COMMITTER_NAME}
export GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-$GIT_COMMITTER_EMAIL}
export GIT_TERMINAL_PROMPT=0

STOPPING=0
SESSION_GONE=0
# Set when the Claude API refused the key: no further prompt is claimed (each would fail the same).
AGENT_AUTH_FAILED=0
CLAUDE_PID=
BACKOFF_MS=0
LAST_HEARTBEAT=-1000000
TMP_DIR=

# shellcheck disable=SC2317 # invoked by the trap
on_stop_signal() {
  if [ "$STOPPING" -eq 0 ]; then
    log "stop requested: finishing the current prompt, then exiting"
    STOPPING=1
  fi
  stop_claude
}

stop_claude() {
  if [ -n "$CLAUDE_PID" ] && kill -0 "$CLAUDE_PID" 2>/dev/null; then
    kill -TERM "$CLAUDE_PID" 2>/dev/null || true
  fi
}

session_gone() {
  log "the DevFlow API says the session has ended (HTTP $1): the session is over; stopping"
  SESSION_GONE=1
  STOPPING=1
  stop_claude
}

# Sleeps, but wakes up at once on TERM (a foreground sleep would delay the trap).
interruptible_sleep() {
  sleep "$1" &
  wait "$!" 2>/dev/null || true
}

backoff() {
  if [ "$BACKOFF_MS" -eq 0 ]; then
    BACKOFF_MS=$BACKOFF_INITIAL_MS
  else
    BACKOFF_MS=$((BACKOFF_MS * 2))
    [ "$BACKOFF_MS" -le "$BACKOFF_MAX_MS" ] || BACKOFF_MS=$BACKOFF_MAX_MS
  fi
  log "$1; retrying in $(ms_to_seconds "$BACKOFF_MS")s"
  interruptible_sleep "$(ms_to_seconds "$BACKOFF_MS")"
}

# One line, at most 300 characters, from what a command printed.
one_line() {
  tr '\n' ' ' | head -c 300 | sed 's/ *$//'
}

describe_failure() {
  local status=$1 out=$2
  if [ "$status" = 000 ]; then
    printf 'the DevFlow API is unreachable (%s)' "$(one_line <"$out.err" 2>/dev/null)"
  else
    printf 'the DevFlow API answered HTTP %s (%s)' "$status" "$(api_error_message "$out" | one_line)"
  fi
}

heartbeat() {
  local state=$1 status
  printf '{"state":"%s"}' "$state" >"$TMP_DIR/heartbeat.json"
  api_request POST heartbeat "$TMP_DIR/heartbeat.json" "$TMP_DIR/heartbeat.out" 10
  status=$API_STATUS
  LAST_HEARTBEAT=$SECONDS
  if session_is_over "$status" "$TMP_DIR/heartbeat.out"; then
    session_gone "$status"
    return 0
  fi
  case $status in
    2??) ;;
    *) log "heartbeat not delivered: $(describe_failure "$status" "$TMP_DIR/heartbeat.out")" ;;
  esac
}

heartbeat_if_due() {
  [ $((SECONDS - LAST_HEARTBEAT)) -ge "$HEARTBEAT_INTERVAL_SECONDS" ] && heartbeat "$1"
  return 0
}

# Sends the stream lines not sent yet as event batches. Returns 1 when the API did not take them
# (they are sent with a later flush).
flush_events() {
  local pdir=$1 pid=$2 sent=0 total count status events
  [ -f "$pdir/stream.jsonl" ] || return 0
  # Runs every EVENT_FLUSH_INTERVAL_SECONDS: as few processes as it can (bash reads the counter).
  [ ! -f "$pdir/events.sent" ] || sent=$(<"$pdir/events.sent")
  sent=${sent:-0}
  total=$(wc -l <"$pdir/stream.jsonl")
  while [ "$sent" -lt "$total" ]; do
    count=$((total - sent))
    [ "$count" -le 25 ] || count=25
    events=$(sed -n "$((sent + 1)),$((sent + count))p" "$pdir/stream.jsonl" | "$JQ_BIN" -R -s -c -f "$DEVFLOW_LIB_DIR/stream-events.jq")
    if [ -n "$events" ] && [ "$events" != "[]" ]; then
      printf '{"events":%s}\n' "$events" >"$TMP_DIR/events.json"
      api_request POST "prompts/$pid/events" "$TMP_DIR/events.json" "$TMP_DIR/events.out"
      status=$API_STATUS
      if session_is_over "$status" "$TMP_DIR/events.out"; then
        session_gone "$status"
        return 1
      fi
      case $status in
        2??) ;;
        400 | 413 | 422) log "the API refused an event batch ($(describe_failure "$status" "$TMP_DIR/events.out")); skipping it" ;;
        *) return 1 ;;
      esac
    fi
    sent=$((sent + count))
    printf '%s' "$sent" >"$pdir/events.sent"
  done
  return 0
}

# Sends $pdir/result.json until the API takes it (a bounded number of times while stopping).
report_result() {
  local pdir=$1 pid=$2 status attempt=0
  while :; do
    attempt=$((attempt + 1))
    api_request POST "prompts/$pid/result" "$pdir/result.json" "$TMP_DIR/result.out"
    status=$API_STATUS
    if session_is_over "$status" "$TMP_DIR/result.out"; then
      session_gone "$status"
      return 1
    fi
    case $status in
      2??)
        printf '%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$pdir/reported"
        log "prompt $pid: reported $("$JQ_BIN" -r .status "$pdir/result.json")"
        BACKOFF_MS=0
        return 0
        ;;
      400 | 404 | 409 | 422)
        # The API will never take this result (the prompt was cancelled, or already completed):
        # retrying cannot help, and sending it again later would be a second report.
        log "prompt $pid: the API refused the result ($(describe_failure "$status" "$TMP_DIR/result.out")); not sending it again"
        printf 'refused: HTTP %s\n' "$status" >"$pdir/reported"
        return 1
        ;;
    esac
    if [ "$STOPPING" -eq 1 ] && [ "$attempt" -ge "$STOP_RESULT_ATTEMPTS" ]; then
      log "prompt $pid: result not delivered before stopping; it is kept in $pdir and sent when the agent starts again"
      return 1
    fi
    backoff "prompt $pid: result not delivered: $(describe_failure "$status" "$TMP_DIR/result.out")"
  done
}

git_repo() {
  "$GIT_BIN" -C "$REPO_DIR" "$@"
}

# Checks out the branch the prompt works on: the local one, else the remote one (pushed by an
# earlier run of this session, or a branch the prompt continues), else a new one from HEAD.
checkout_work_branch() {
  local branch=$1
  [ "$(git_repo symbolic-ref --quiet --short HEAD 2>/dev/null)" = "$branch" ] && return 0
  if git_repo rev-parse --verify --quiet "refs/heads/$branch" >/dev/null; then
    git_repo checkout --quiet "$branch"
  elif git_repo fetch --quiet origin "+refs/heads/$branch:refs/remotes/origin/$branch" 2>/dev/null; then
    git_repo checkout --quiet -b "$branch" --track "origin/$branch"
  else
    git_repo checkout --quiet -b "$branch"
  fi
}

push_branch() {
  local branch=$1 attempt
  for attempt in $(seq 1 "$PUSH_ATTEMPTS"); do
    if git_repo push --quiet origin "HEAD:refs/heads/$branch" 2>"$TMP_DIR/push.err"; then
      return 0
    fi
    log "git push of $branch failed (attempt $attempt of $PUSH_ATTEMPTS): $(tr '\n' ' ' <"$TMP_DIR/push.err" | head -c 500)"
    [ "$attempt" -lt "$PUSH_ATTEMPTS" ] && interruptible_sleep "$(ms_to_seconds "$BACKOFF_INITIAL_MS")"
  done
  return 1
}

# finish_prompt PDIR PID STATUS SUMMARY [ERROR_CODE ERROR_MESSAGE]
# Commits what changed since the prompt started, pushes it, writes result.json and reports it.
finish_prompt() {
  local pdir=$1 pid=$2 status=$3 summary=$4 error_code=${5:-} error_message=${6:-}
  local branch start_head head subject commit='' pushed_branch=''
  branch=$(cat "$pdir/branch")
  start_head=$(cat "$pdir/start_head")
  if [ -n "$(git_repo status --porcelain)" ]; then
    subject=$(head -n 1 "$pdir/prompt.txt" | cut -c 1-68)
    if ! git_repo add --all || ! git_repo commit --quiet --no-verify -m "${subject:-DevFlow prompt $pid}" \
      -m "DevFlow-Session: $SESSION_ID" -m "DevFlow-Prompt: $pid" 2>"$TMP_DIR/commit.err"; then
      status=FAILED error_code=COMMIT_FAILED
      error_message="git commit failed: $(tr '\n' ' ' <"$TMP_DIR/commit.err" | head -c 500)"
    fi
  fi
  head=$(git_repo rev-parse HEAD)
  if [ "$head" != "$start_head" ]; then
    if push_branch "$branch"; then
      commit=$head pushed_branch=$branch
    else
      status=FAILED error_code=PUSH_FAILED
      error_message="The changes are committed in the workspace ($head) but could not be pushed to $branch: $(tr '\n' ' ' <"$TMP_DIR/push.err" | head -c 500)"
    fi
  elif [ "$status" = SUCCEEDED ]; then
    summary="No changes: ${summary:-Claude Code made no changes to the repository.}"
  fi
  # shellcheck disable=SC2016 # a jq program, not shell
  "$JQ_BIN" -n --arg status "$status" --arg summary "$summary" --arg branch "$pushed_branch" --arg commit "$commit" \
    --arg code "$error_code" --arg message "$error_message" --slurpfile run "$pdir/run.json" '
      ($run[0] // {}) as $r
      | {status: $status, summary: ($summary | .[0:60000])}
      + (if $branch != "" then {branch: $branch, commit: $commit} else {} end)
      + (if ($r.turns | type) == "number" then {turns: $r.turns} else {} end)
      + (if ($r.costUsd | type) == "number" then {costUsd: $r.costUsd} else {} end)
      + (if $code != "" then {error: {code: $code, message: ($message | .[0:4000])}} else {} end)
    ' >"$pdir/result.json.tmp" && mv "$pdir/result.json.tmp" "$pdir/result.json"
  flush_events "$pdir" "$pid" || log "prompt $pid: some progress events could not be delivered"
  report_result "$pdir" "$pid"
}

# What Claude Code's stream says about the run (lib/run-summary.jq): turns, cost, session id and
# the outcome code of a failed run.
summarise_run() {
  local pdir=$1
  "$JQ_BIN" -R -s -c -f "$DEVFLOW_LIB_DIR/run-summary.jq" "$pdir/stream.jsonl" >"$pdir/run.json"
}

# A refused key is final: the CLI would retry it for minutes. Stops the run at its first auth retry.
watch_auth_retry() {
  local pdir=$1
  grep -q '"api_retry"' "$pdir/stream.jsonl" 2>/dev/null || return 0
  # shellcheck disable=SC2016 # a jq program, not shell
  if "$JQ_BIN" -R -e -n '[inputs | (try fromjson catch null) | objects
      | select(.type == "system" and .subtype == "api_retry" and (.error_status == 401 or .error_status == 403))] | length > 0' \
      "$pdir/stream.jsonl" >/dev/null 2>&1; then
    log "the Claude API refused the API key; stopping the run instead of letting Claude Code retry it"
    stop_claude
    return 1
  fi
}

run_prompt() {
  local pdir=$1 pid=$2 claude_status=0 session_id summary code budget
  local -a args=(-p --output-format stream-json --verbose --model "$CLAUDE_MODEL" --max-turns "$CLAUDE_MAX_TURNS"
    --allowedTools "$CLAUDE_ALLOWED_TOOLS" --permission-mode acceptEdits)
  # The API's ceiling for this prompt (what remains of its budgets) wins over the container's setting.
  budget=$("$JQ_BIN" -r '.maxBudgetUsd // empty' "$pdir/prompt.json" 2>/dev/null || true)
  budget=${budget:-$CLAUDE_MAX_BUDGET_USD}
  [ -z "$budget" ] || args+=(--max-budget-usd "$budget")
  session_id=$(cat "$STATE_DIR/claude-session-id" 2>/dev/null || true)
  [ -z "$session_id" ] || args+=(--resume "$session_id")
  log "prompt $pid: running Claude Code${session_id:+ (resuming $session_id)}"
  # The agent's shell gets neither the session token nor the editor password.
  (cd "$REPO_DIR" && exec env -u DEVFLOW_SESSION_TOKEN -u EDITOR_PASSWORD "$CLAUDE_BIN" "${args[@]}") \
    <"$pdir/prompt.txt" >"$pdir/stream.jsonl" 2>"$pdir/claude.err" &
  CLAUDE_PID=$!
  # While Claude Code starts, not before: the first output reaches the user one request sooner.
  heartbeat working
  [ "$STOPPING" -eq 0 ] || stop_claude
  while kill -0 "$CLAUDE_PID" 2>/dev/null; do
    interruptible_sleep "$EVENT_FLUSH_INTERVAL_SECONDS"
    flush_events "$pdir" "$pid" || true
    watch_auth_retry "$pdir" || break
    heartbeat_if_due working
  done
  wait "$CLAUDE_PID" 2>/dev/null || claude_status=$?
  CLAUDE_PID=
  summarise_run "$pdir"
  session_id=$("$JQ_BIN" -r '.sessionId // empty' "$pdir/run.json")
  [ -z "$session_id" ] || printf '%s\n' "$session_id" >"$STATE_DIR/claude-session-id"

  summary=$("$JQ_BIN" -r '.result // "" | tostring' "$pdir/run.json")
  code=$("$JQ_BIN" -r '.outcome.code // empty' "$pdir/run.json")
  [ "$code" != AGENT_AUTH_FAILED ] || AGENT_AUTH_FAILED=1
  if [ "$STOPPING" -eq 1 ]; then
    finish_prompt "$pdir" "$pid" FAILED "${summary:-The session stopped while the agent was working.}" \
      STOPPED "The session stopped while the agent was working on this prompt; what it had changed was committed and pushed."
  elif [ -n "$code" ]; then
    local message
    message=$("$JQ_BIN" -r '.outcome.message' "$pdir/run.json")
    finish_prompt "$pdir" "$pid" FAILED "${summary:-$message}" "$code" "$message"
  elif [ "$("$JQ_BIN" -r .hasResult "$pdir/run.json")" != true ]; then
    local reason
    reason=$(tail -c 2000 "$pdir/claude.err" | tr '\n' ' ' | sed 's/ *$//')
    finish_prompt "$pdir" "$pid" FAILED "Claude Code failed before finishing the prompt." \
      CLAUDE_FAILED "Claude Code exited with status $claude_status${reason:+: $reason}"
  else
    finish_prompt "$pdir" "$pid" SUCCEEDED "$summary"
  fi
}

# The repository's setup (entrypoint.sh) ran before the agent and there are no session-level events
# yet: its outcome and last lines go first into the events of the first prompt this loop runs.
send_setup_events() {
  local pid=$1 dir=$STATE_DIR/setup
  [ -f "$dir/result.json" ] && [ ! -f "$dir/events.sent" ] || return 0
  if [ "$("$JQ_BIN" -r .status "$dir/result.json")" != succeeded ]; then
    touch "$dir/events.sent"
    return 0
  fi
  # shellcheck disable=SC2016 # a jq program, not shell
  "$JQ_BIN" -n -c --slurpfile r "$dir/result.json" --rawfile out "$dir/output.log" '
    $r[0] as $result
    | ($out | split("\n") | map(select(length > 0))) as $lines
    | {events: ([{type: "setup",
        text: ("The repository'"'"'s setup ran (" + $result.source + "): "
          + ($result.commands | map(.name + " " + ((.durationMs / 1000 * 10 | round) / 10 | tostring) + "s") | join(", "))),
        data: {source: $result.source, commands: $result.commands, ignored: $result.ignored}}]
      + (if ($lines | length) > 0 then [{type: "setup_output", text: ($lines[-60:] | join("\n") | .[-8000:])}] else [] end))}
  ' >"$TMP_DIR/setup-events.json"
  api_request POST "prompts/$pid/events" "$TMP_DIR/setup-events.json" "$TMP_DIR/setup-events.out"
  case $API_STATUS in
    2??) printf '%s\n' "$pid" >"$dir/events.sent" ;;
    401) session_gone "$API_STATUS" ;;
    *) log "the setup's events were not delivered ($(describe_failure "$API_STATUS" "$TMP_DIR/setup-events.out")); sending them with the next prompt" ;;
  esac
}

# The repository's .devflow/egress.txt and what the stage made of it (DEVFLOW_REPOSITORY_EGRESS:
# honoured by the local proxy, ignored by AWS's stage-wide DNS Firewall, refused, or open; the
# note says why): one event in the first prompt, when the file exists.
send_egress_event() {
  local pid=$1 file=$REPO_DIR/.devflow/egress.txt marker=$STATE_DIR/egress-event.sent
  [ -n "${DEVFLOW_REPOSITORY_EGRESS:-}" ] && [ -f "$file" ] && [ ! -f "$marker" ] || return 0
  # shellcheck disable=SC2016 # a jq program, not shell
  "$JQ_BIN" -n -c --rawfile text "$file" --arg verdict "$DEVFLOW_REPOSITORY_EGRESS" --arg note "${DEVFLOW_REPOSITORY_EGRESS_NOTE:-}" '
    ($text | split("\n") | map(sub("#.*$"; "") | gsub("^\\s+|\\s+$"; "")) | map(select(length > 0))) as $names
    | {events: [{type: "egress", text: ($note + " Names: " + (if ($names | length) > 0 then $names | join(", ") else "none" end) + "."),
        data: {file: ".devflow/egress.txt", verdict: $verdict, names: $names}}]}
  ' >"$TMP_DIR/egress-event.json"
  api_request POST "prompts/$pid/events" "$TMP_DIR/egress-event.json" "$TMP_DIR/egress-event.out"
  case $API_STATUS in
    2??) touch "$marker" ;;
    401) session_gone "$API_STATUS" ;;
    *) log "the egress event was not delivered ($(describe_failure "$API_STATUS" "$TMP_DIR/egress-event.out")); sending it with the next prompt" ;;
  esac
}

# A prompt this loop started before a restart and never finished: report it, do not run it again.
finish_interrupted() {
  local pdir=$1 pid=$2
  [ -f "$pdir/run.json" ] || printf '{}' >"$pdir/run.json"
  log "prompt $pid: interrupted by a restart of the agent; reporting it instead of running it again"
  finish_prompt "$pdir" "$pid" FAILED "The agent restarted while working on this prompt; it was not run again." \
    INTERRUPTED "The agent restarted while working on this prompt; what it had changed was committed and pushed."
}

handle_prompt() {
  local file=$1 pid branch pdir
  pid=$("$JQ_BIN" -r '.id // empty' "$file")
  if ! [[ "$pid" =~ ^p-[A-Za-z0-9]{1,64}$ ]]; then
    log "the API sent a prompt without a valid id; ignoring it: $(head -c 300 "$file")"
    return
  fi
  pdir=$STATE_DIR/prompts/$pid
  if [ -f "$pdir/reported" ]; then
    log "prompt $pid: already reported; not running or reporting it again"
    return
  fi
  if [ -f "$pdir/result.json" ]; then
    report_result "$pdir" "$pid"
    return
  fi
  if [ -f "$pdir/started" ]; then
    finish_interrupted "$pdir" "$pid"
    return
  fi
  branch=$("$JQ_BIN" -r '.branch // empty' "$file")
  branch=${branch:-devflow/$SESSION_ID}
  mkdir -p "$pdir"
  cp "$file" "$pdir/prompt.json"
  "$JQ_BIN" -r .text "$file" >"$pdir/prompt.txt"
  printf '%s\n' "$branch" >"$pdir/branch"
  if ! git_repo check-ref-format --branch "$branch" >/dev/null 2>&1 || ! checkout_work_branch "$branch" 2>"$TMP_DIR/checkout.err"; then
    git_repo rev-parse HEAD >"$pdir/start_head"
    printf '{}' >"$pdir/run.json"
    touch "$pdir/started"
    finish_prompt "$pdir" "$pid" FAILED "Could not switch the workspace to the branch $branch." BRANCH_CHECKOUT_FAILED \
      "git could not check out $branch: $(tr '\n' ' ' <"$TMP_DIR/checkout.err" 2>/dev/null | head -c 500)"
    return
  fi
  git_repo rev-parse HEAD >"$pdir/start_head"
  printf '%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$pdir/started"
  log "prompt $pid (seq $("$JQ_BIN" -r '.seq // "?"' "$file")) claimed; working on branch $branch"
  send_setup_events "$pid"
  send_egress_event "$pid"
  run_prompt "$pdir" "$pid"
}

# Results computed before a restart, and prompts a restart interrupted.
recover_unfinished() {
  local pdir pid
  for pdir in "$STATE_DIR"/prompts/p-*/; do
    [ -d "$pdir" ] || continue
    pdir=${pdir%/}
    pid=${pdir##*/}
    [ -f "$pdir/reported" ] && continue
    [ "$STOPPING" -eq 0 ] || return
    if [ -f "$pdir/result.json" ]; then
      log "prompt $pid: sending the result computed before the restart"
      report_result "$pdir" "$pid"
    elif [ -f "$pdir/started" ]; then
      finish_interrupted "$pdir" "$pid"
    fi
  done
}

poll_loop() {
  local iterations=0 status
  while [ "$STOPPING" -eq 0 ]; do
    if [ "$MAX_ITERATIONS" -gt 0 ] && [ "$iterations" -ge "$MAX_ITERATIONS" ]; then
      log "reached MAX_ITERATIONS=$MAX_ITERATIONS; exiting"
      return
    fi
    iterations=$((iterations + 1))
    heartbeat_if_due idle
    [ "$STOPPING" -eq 0 ] || return
    api_request GET "prompts/next?wait=$POLL_WAIT_SECONDS" '' "$TMP_DIR/next.json" $((POLL_WAIT_SECONDS + 15)) 1
    status=$API_STATUS
    if session_is_over "$status" "$TMP_DIR/next.json"; then
      session_gone "$status"
      continue
    fi
    case $status in
      200)
        BACKOFF_MS=0
        handle_prompt "$TMP_DIR/next.json"
        if [ "$AGENT_AUTH_FAILED" -eq 1 ]; then
          log "the Claude API refused the API key: claiming no further prompts; set a valid key and start a new session"
          return
        fi
        heartbeat idle
        ;;
      204) BACKOFF_MS=0 ;;
      *) [ "$STOPPING" -eq 1 ] || backoff "no prompt: $(describe_failure "$status" "$TMP_DIR/next.json")" ;;
    esac
  done
}

main() {
  require_env SESSION_ID REPO DEVFLOW_API_URL DEVFLOW_SESSION_TOKEN
  check_session_token
  require_commands "$CURL_BIN" "$JQ_BIN" "$GIT_BIN"
  if [ ! -d "$REPO_DIR/.git" ]; then
    log "error: no git repository at $REPO_DIR (REPO_DIR); entrypoint.sh clones it before starting the agent"
    exit 2
  fi
  mkdir -p "$STATE_DIR/prompts" "$STATE_DIR/tmp"
  TMP_DIR=$STATE_DIR/tmp
  trap on_stop_signal TERM INT
  log "agent for session $SESSION_ID on $REPO started (API $DEVFLOW_API_URL, workspace $REPO_DIR)"
  heartbeat idle
  recover_unfinished
  poll_loop
  if [ "$SESSION_GONE" -eq 1 ]; then
    log "stopped: the session is over"
  elif [ "$STOPPING" -eq 1 ]; then
    log "stopped on request"
  elif [ "$AGENT_AUTH_FAILED" -eq 1 ]; then
    # Non-zero: the workspace ends and the session is FAILED, so no further prompt waits for an
    # agent that cannot run it.
    log "stopped: the Claude API refused the API key"
    exit "$AUTH_FAILED_EXIT_STATUS"
  fi
  exit 0
}

main "$@"
