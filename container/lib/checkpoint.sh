# shellcheck shell=bash
# The workspace's checkpoint, for `devflow session resume` (sourced by entrypoint.sh).
#
# save_checkpoint (on the way out, after the agent ended): commits what is uncommitted to the
# session's branch as a checkpoint commit, pushes it, records {branch, commit, claudeSessionId}
# with POST /agent/sessions/{id}/checkpoint and uploads Claude Code's transcript of the session
# (gzipped) to the URL that call answers (a presigned S3 URL on AWS, a file:// URL locally).
#
# restore_checkpoint (after the clone of a resumed session): GET .../checkpoint; checks out the
# checkpoint's branch, downloads the transcript into Claude Code's project directory of this clone
# and writes its id to $STATE_DIR/claude-session-id, so the next prompt runs `claude --resume <id>`.
#
# Both calls prove the task as the bootstrap call does (bootstrap_proof in entrypoint.sh: the local
# nonce, kept in the entrypoint's shell only, or SigV4 with the task role), never with the agent's
# token. A failure is logged and never fails the stop or the start.

CHECKPOINT_ATTEMPTS=${CHECKPOINT_ATTEMPTS:-3}
# Where Claude Code keeps its transcripts: $CLAUDE_CONFIG_DIR/projects/<cwd with every
# non-alphanumeric character as '-'>/<session id>.jsonl.
CLAUDE_HOME_DIR=${CLAUDE_CONFIG_DIR:-$HOME/.claude}

claude_project_dir() {
  printf '%s/projects/%s' "$CLAUDE_HOME_DIR" "$(printf '%s' "$1" | sed 's/[^A-Za-z0-9]/-/g')"
}

# checkpoint_call METHOD BODY_FILE OUT_FILE: the checkpoint route with the task's proof; sets API_STATUS.
checkpoint_call() {
  local method=$1 body=$2 out=$3 proof attempt
  local -a data=()
  [ -z "$body" ] || data=(-H 'Content-Type: application/json' --data-binary "@$body")
  for attempt in $(seq 1 "$CHECKPOINT_ATTEMPTS"); do
    API_STATUS=000
    if proof=$(bootstrap_proof 2>"$out.err"); then
      printf '%s\n' "$proof" | "$CURL_BIN" -K - --silent --show-error --output "$out" --write-out '%{http_code}' --max-time 30 \
        --connect-timeout "${API_CONNECT_TIMEOUT_SECONDS:-5}" -X "$method" -H 'Accept: application/json' "${data[@]}" \
        "${DEVFLOW_API_URL%/}/agent/sessions/${SESSION_ID}/checkpoint" >"$out.status" 2>>"$out.err"
      API_STATUS=$(cat "$out.status" 2>/dev/null)
      [[ "$API_STATUS" =~ ^[0-9]{3}$ ]] || API_STATUS=000
    fi
    case $API_STATUS in
      2?? | 4??) return 0 ;;
    esac
    [ "$attempt" -lt "$CHECKPOINT_ATTEMPTS" ] && sleep 1
  done
  return 0
}

# transfer_file METHOD ANSWER_FILE JQ_PATH FILE: PUT FILE to, or GET it from, the URL at JQ_PATH of the answer.
transfer_file() {
  local method=$1 answer=$2 at=$3 file=$4 url
  url=$("$JQ_BIN" -r "$at.url // empty" "$answer")
  [ -n "$url" ] || return 1
  local -a args=(--silent --show-error --fail --max-time 300 --connect-timeout 10)
  if [ "$method" = PUT ]; then args+=(-T "$file"); else args+=(-o "$file"); fi
  # The URL (a presigned one carries its signature) and the headers go through curl's config on stdin.
  # shellcheck disable=SC2016 # a jq program
  "$JQ_BIN" -r --arg at "$at" 'getpath($at | ltrimstr(".") | split(".")) as $t
      | ($t.headers // {} | to_entries[] | "header = \"\(.key): \(.value)\""), "url = \"\($t.url)\""' "$answer" |
    "$CURL_BIN" -K - "${args[@]}"
}

checkpoint_git() {
  "$GIT_BIN" -C "$REPO_DIR" "$@"
}

# shellcheck disable=SC2153 # BRANCH is the task environment's (entrypoint.sh checks it)
save_checkpoint() {
  local dir branch head claude_id transcript conversation=''
  [ -d "${REPO_DIR:-}/.git" ] || return 0
  dir=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/devflow-checkpoint.XXXXXX") || return 0
  branch=$(checkpoint_git symbolic-ref --quiet --short HEAD 2>/dev/null || true)
  if [ -z "$branch" ] || [ "$branch" = "$BRANCH" ]; then
    # Work on the base branch (the editor's, say) goes to the session's own branch, never to the base.
    if [ -n "$(checkpoint_git status --porcelain)" ] || [ "$(checkpoint_git rev-list --count "origin/$BRANCH..HEAD" 2>/dev/null || echo 1)" != 0 ]; then
      branch=devflow/$SESSION_ID
      checkpoint_git checkout --quiet -B "$branch" 2>"$dir/git.err" || { log "checkpoint: cannot switch to $branch: $(head -c 300 "$dir/git.err")"; rm -rf "$dir"; return 0; }
    else
      branch=$BRANCH
    fi
  fi
  if [ -n "$(checkpoint_git status --porcelain)" ]; then
    if checkpoint_git add --all && GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-DevFlow agent} GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-devflow-agent@users.noreply.github.com} \
      GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-DevFlow agent} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-devflow-agent@users.noreply.github.com} \
      checkpoint_git commit --quiet --no-verify -m "DevFlow checkpoint" -m "What the workspace had when session $SESSION_ID stopped." \
      -m "DevFlow-Session: $SESSION_ID" 2>"$dir/git.err"; then
      log "checkpoint: committed the uncommitted changes to $branch"
    else
      log "checkpoint: git commit failed: $(tr '\n' ' ' <"$dir/git.err" | head -c 300)"
    fi
  fi
  head=$(checkpoint_git rev-parse HEAD)
  if [ "$branch" != "$BRANCH" ] && ! checkpoint_git push --quiet origin "HEAD:refs/heads/$branch" 2>"$dir/git.err" &&
    ! checkpoint_git push --quiet origin "HEAD:refs/heads/$branch" 2>"$dir/git.err"; then
    log "checkpoint: git push of $branch failed: $(tr '\n' ' ' <"$dir/git.err" | head -c 300); the checkpoint names the base branch only"
    branch=$BRANCH
    head=$(checkpoint_git rev-parse "origin/$BRANCH" 2>/dev/null || checkpoint_git rev-parse HEAD)
  fi
  claude_id=$(cat "$STATE_DIR/claude-session-id" 2>/dev/null || true)
  [[ "$claude_id" =~ ^[0-9A-Fa-f-]{8,64}$ ]] || claude_id=
  transcript=
  [ -z "$claude_id" ] || transcript=$(find "$CLAUDE_HOME_DIR/projects" -maxdepth 2 -name "$claude_id.jsonl" -print -quit 2>/dev/null)
  [ -n "$transcript" ] || claude_id=
  # shellcheck disable=SC2016 # a jq program
  "$JQ_BIN" -n -c --arg branch "$branch" --arg commit "$head" --arg claude "$claude_id" \
    '{branch: $branch, commit: $commit} + (if $claude != "" then {claudeSessionId: $claude} else {} end)' >"$dir/request.json"
  checkpoint_call POST "$dir/request.json" "$dir/answer.json"
  case $API_STATUS in
    2??) ;;
    *)
      log "checkpoint: not recorded ($API_STATUS: $(api_error_message "$dir/answer.json" 2>/dev/null | head -c 300)$(head -c 300 "$dir/answer.json.err" 2>/dev/null)); \`devflow session resume\` starts from the branch the session started on"
      rm -rf "$dir"
      return 0
      ;;
  esac
  if [ -n "$claude_id" ] && "$JQ_BIN" -e '.upload.url' "$dir/answer.json" >/dev/null 2>&1; then
    if gzip -c "$transcript" >"$dir/conversation.jsonl.gz" && transfer_file PUT "$dir/answer.json" .upload "$dir/conversation.jsonl.gz" 2>"$dir/upload.err"; then
      conversation=", conversation $claude_id"
    else
      log "checkpoint: the conversation could not be saved: $(tr '\n' ' ' <"$dir/upload.err" | head -c 300)"
    fi
  fi
  log "checkpoint saved: $branch at ${head:0:12}$conversation"
  rm -rf "$dir"
}

restore_checkpoint() {
  local dir branch commit claude_id project
  dir=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/devflow-restore.XXXXXX") || return 0
  checkpoint_call GET '' "$dir/answer.json"
  if [ "$API_STATUS" != 200 ]; then
    # 404: an API without the route (or the fake of an older one): nothing to restore.
    [ "$API_STATUS" = 404 ] || log "warning: could not read the session's checkpoint (HTTP $API_STATUS); starting from $BRANCH"
    rm -rf "$dir"
    return 0
  fi
  branch=$("$JQ_BIN" -r '.checkpoint.branch // empty' "$dir/answer.json")
  if [ -z "$branch" ]; then
    rm -rf "$dir"
    return 0
  fi
  commit=$("$JQ_BIN" -r '.checkpoint.commit // empty' "$dir/answer.json")
  if [ "$branch" != "$BRANCH" ]; then
    if checkpoint_git fetch --quiet origin "+refs/heads/$branch:refs/remotes/origin/$branch" 2>"$dir/git.err" &&
      checkpoint_git checkout --quiet -B "$branch" "origin/$branch" 2>>"$dir/git.err"; then
      log "resumed on $branch at $(checkpoint_git rev-parse --short HEAD)"
    else
      log "warning: the checkpoint's branch $branch could not be checked out: $(tr '\n' ' ' <"$dir/git.err" | head -c 300)"
    fi
  fi
  if [ -n "$commit" ] && ! checkpoint_git merge-base --is-ancestor "$commit" HEAD 2>/dev/null; then
    log "warning: the checkpoint commit ${commit:0:12} is not on $branch any more (the branch moved on)"
  fi
  claude_id=$("$JQ_BIN" -r '.checkpoint.claudeSessionId // empty' "$dir/answer.json")
  if [[ "$claude_id" =~ ^[0-9A-Fa-f-]{8,64}$ ]] && "$JQ_BIN" -e '.download.url' "$dir/answer.json" >/dev/null 2>&1; then
    project=$(claude_project_dir "$REPO_DIR")
    if transfer_file GET "$dir/answer.json" .download "$dir/conversation.jsonl.gz" 2>"$dir/download.err" &&
      mkdir -p "$project" && gzip -dc "$dir/conversation.jsonl.gz" >"$project/$claude_id.jsonl"; then
      mkdir -p "$STATE_DIR"
      printf '%s\n' "$claude_id" >"$STATE_DIR/claude-session-id"
      log "restored the Claude Code conversation $claude_id"
    else
      log "warning: the conversation could not be restored ($(tr '\n' ' ' <"$dir/download.err" 2>/dev/null | head -c 300)); the next prompt starts a new one"
    fi
  fi
  rm -rf "$dir"
}
