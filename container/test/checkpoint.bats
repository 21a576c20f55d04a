#!/usr/bin/env bats
# lib/checkpoint.sh through entrypoint.sh: the checkpoint a stopping workspace saves, and what a
# resumed one restores (the fake API keeps the checkpoint in checkpoint.json and answers file://
# URLs for the conversation, as the local platform does).
# shellcheck disable=SC2030,SC2031 # each test runs in its own subshell on purpose

bats_require_minimum_version 1.5.0
load helpers

setup() {
  setup_workspace
  start_api
  unset DEVFLOW_SESSION_TOKEN EDITOR_PASSWORD
  CLAUDE_ID=0b6f3c1e-2a4d-4e8f-9c71-5d2e8a1b3f40
}

teardown() {
  teardown_workspace
}

project_dir() {
  printf '%s/.claude/projects/%s' "$HOME" "$(printf '%s' "$REPO_DIR" | sed 's/[^A-Za-z0-9]/-/g')"
}

# wait_for CONDITION: evaluates the shell condition until it holds (up to 15 s).
wait_for() {
  local _
  for _ in $(seq 1 300); do eval "$1" && return 0; sleep 0.05; done
  return 1
}

@test "on TERM: the uncommitted work becomes a checkpoint commit on the session branch, pushed, and the conversation is saved" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa $'write first.txt from the prompt'
  "$CONTAINER_DIR/entrypoint.sh" 2>"$TEST_ROOT/entrypoint.log" 3>&- &
  entrypoint=$!
  # shellcheck disable=SC2016 # evaluated by wait_for
  wait_for '[ -n "$(results_for p-aaaaaaaaaaaaaaaaaaaa)" ]'
  # What the editor changed after the prompt.
  printf 'unsaved work\n' >"$REPO_DIR/notes.txt"
  claude_id=$(cat "$STATE_DIR/claude-session-id")
  [ -f "$(project_dir)/$claude_id.jsonl" ]

  kill -TERM "$entrypoint"
  wait "$entrypoint" || { cat "$TEST_ROOT/entrypoint.log"; false; }

  branch=devflow/$SESSION_ID
  [ "$(remote_file "$branch" notes.txt)" = "unsaved work" ]
  [ "$(remote_file "$branch" first.txt)" = "from the prompt" ]
  [ "$(git --git-dir="$REMOTE" log -1 --format=%s "$branch")" = "DevFlow checkpoint" ]
  [ "$(jq -r .branch "$API_STATE/checkpoint.json")" = "$branch" ]
  [ "$(jq -r .commit "$API_STATE/checkpoint.json")" = "$(git --git-dir="$REMOTE" rev-parse "$branch")" ]
  [ "$(jq -r .claudeSessionId "$API_STATE/checkpoint.json")" = "$claude_id" ]
  # The CLI's transcript of the session, as it kept it.
  [ "$(gzip -dc "$API_STATE/conversation.jsonl.gz")" = "$(cat "$(project_dir)/$claude_id.jsonl")" ]
  gzip -dc "$API_STATE/conversation.jsonl.gz" | grep -q "write first.txt from the prompt"
  # Proven as the bootstrap call is (the nonce), never with the agent's token.
  [ "$(requests '.method == "POST" and (.path | endswith("/checkpoint"))' | jq -r .auth)" = "Bearer bootstrap-nonce" ]
  grep -q "checkpoint saved: $branch at" "$TEST_ROOT/entrypoint.log"
}

@test "nothing changed on the base branch: the checkpoint names the base branch and pushes nothing" {
  MAX_ITERATIONS=1 run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  [ "$(jq -r .branch "$API_STATE/checkpoint.json")" = main ]
  [ "$(jq -r .commit "$API_STATE/checkpoint.json")" = "$(git --git-dir="$REMOTE" rev-parse main)" ]
  [ "$(jq -r 'has("claudeSessionId")' "$API_STATE/checkpoint.json")" = false ]
  run ! git --git-dir="$REMOTE" rev-parse --verify --quiet "devflow/$SESSION_ID"
}

@test "a resumed workspace checks out the checkpoint's branch and the next prompt resumes the restored conversation" {
  seed=$TEST_ROOT/earlier
  git clone --quiet "$REMOTE" "$seed"
  git -C "$seed" checkout --quiet -b "devflow/$SESSION_ID"
  printf 'written by the first task\n' >"$seed/first.txt"
  git -C "$seed" add first.txt
  git -C "$seed" -c user.name=Agent -c user.email=agent@example.com commit --quiet -m "first task"
  git -C "$seed" push --quiet origin "devflow/$SESSION_ID"
  jq -n --arg branch "devflow/$SESSION_ID" --arg commit "$(git -C "$seed" rev-parse HEAD)" --arg claude "$CLAUDE_ID" \
    '{branch: $branch, commit: $commit, claudeSessionId: $claude, conversation: true, savedAt: "2026-01-01T00:00:00Z"}' >"$API_STATE/checkpoint.json"
  printf '{"type":"user","message":"the earlier conversation"}\n' | gzip -c >"$API_STATE/conversation.jsonl.gz"
  queue_prompt p-bbbbbbbbbbbbbbbbbbbb $'write second.txt after the resume'

  MAX_ITERATIONS=1 run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"resumed on devflow/$SESSION_ID"* ]]
  [[ "$output" == *"restored the Claude Code conversation $CLAUDE_ID"* ]]
  [ "$(head -n 1 "$(project_dir)/$CLAUDE_ID.jsonl")" = '{"type":"user","message":"the earlier conversation"}' ]
  # The stub ran in the clone on the checkpoint's branch, resuming the restored session.
  [ "$(jq -c '.args | index("--resume") as $i | .[$i + 1]' "$STUB_CLAUDE_LOG")" = "\"$CLAUDE_ID\"" ]
  [ "$(jq .resumedLines "$STUB_CLAUDE_LOG")" = 1 ]
  [ "$(remote_file "devflow/$SESSION_ID" first.txt)" = "written by the first task" ]
  [ "$(remote_file "devflow/$SESSION_ID" second.txt)" = "after the resume" ]
}

@test "a checkpoint whose branch is gone: logged, and the session goes on from its base branch" {
  queue_prompt p-cccccccccccccccccccc $'write plain.txt as before'
  jq -n --arg claude "$CLAUDE_ID" '{branch: "devflow/gone", commit: "0123456789abcdef", claudeSessionId: $claude, conversation: true, savedAt: "2026-01-01T00:00:00Z"}' >"$API_STATE/checkpoint.json"
  MAX_ITERATIONS=1 run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"the checkpoint's branch devflow/gone could not be checked out"* ]]
  [ "$(remote_file "devflow/$SESSION_ID" plain.txt)" = "as before" ]
}
