#!/usr/bin/env bats
# entrypoint.sh on the host: environment checks, the clone, the editor config and stopping.
# shellcheck disable=SC2030,SC2031 # each test runs in its own subshell on purpose

bats_require_minimum_version 1.5.0
load helpers

setup() {
  setup_workspace
  start_api
  # The entrypoint gets both from the bootstrap call, never from the task's environment.
  unset DEVFLOW_SESSION_TOKEN EDITOR_PASSWORD
}

teardown() {
  teardown_workspace
}

@test "clones the branch, runs the agent without an editor when code-server is missing" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa $'write hello.txt from the entrypoint'
  MAX_ITERATIONS=1 run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"the editor is unavailable"* ]]
  [ "$(git -C "$REPO_DIR" rev-parse main)" = "$(git --git-dir="$REMOTE" rev-parse main)" ]
  [ "$(remote_file "devflow/$SESSION_ID" hello.txt)" = "from the entrypoint" ]
  # A local remote needs no credential helper.
  [ -z "$(git -C "$REPO_DIR" config --get-all credential.helper || true)" ]
}

@test "bootstraps with the local nonce before anything else: the token comes from the API, the nonce file is gone" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa $'write hello.txt bootstrapped'
  MAX_ITERATIONS=1 run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"bootstrapped the session"* ]]
  [ ! -e "$DEVFLOW_BOOTSTRAP_FILE" ]
  [ "$(head -n 1 "$API_STATE/requests.jsonl" | jq -r '.path + " " + .auth')" = "/prod/agent/sessions/$SESSION_ID/bootstrap Bearer bootstrap-nonce" ]
  # Every later agent call carries the token the bootstrap call answered; the checkpoint calls
  # (lib/checkpoint.sh) prove the task as the bootstrap call does.
  [ "$(requests '(.path | endswith("/bootstrap") or endswith("/checkpoint")) | not' | jq -r .auth | sort -u)" = "Bearer session-token" ]
  [ "$(requests '.path | endswith("/checkpoint")' | jq -r .auth | sort -u)" = "Bearer bootstrap-nonce" ]
  [ "$(remote_file "devflow/$SESSION_ID" hello.txt)" = bootstrapped ]
}

@test "on ECS, bootstraps with SigV4 from the task role's container credentials" {
  unset DEVFLOW_BOOTSTRAP_FILE
  export AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/0f1e2d3c
  export CREDENTIALS_ENDPOINT=${DEVFLOW_API_URL%/prod}
  export AWS_REGION=eu-west-1
  MAX_ITERATIONS=1 run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  [ "$(cat "$API_STATE/bootstrapped")" = signed ]
  auth=$(requests '.path | endswith("/bootstrap")' | jq -r .auth)
  [[ "$auth" == "AWS4-HMAC-SHA256 Credential=ASIAFAKETASKROLE/"*"/eu-west-1/execute-api/aws4_request, SignedHeaders="*"x-amz-security-token"* ]]
  # The credentials went to curl on its standard input, never on a command line.
  run ! grep -rq "fake/secret+key" "$API_STATE/requests.jsonl"
}

@test "a refused bootstrap ends the workspace with exit 2 before the clone" {
  printf wrong-nonce >"$DEVFLOW_BOOTSTRAP_FILE"
  run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 2 ]
  [[ "$output" == *"refused the bootstrap call (403 BOOTSTRAP_REFUSED)"* ]]
  [ ! -d "$REPO_DIR" ]
}

@test "without a nonce file or task role credentials, says so and exits 2" {
  unset DEVFLOW_BOOTSTRAP_FILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 2 ]
  [[ "$output" == *"no way to prove this task to the API"* ]]
  [ ! -f "$API_STATE/bootstrapped" ]
}

@test "retries a bootstrap call that fails transiently" {
  echo 2 >"$API_STATE/fail"
  MAX_ITERATIONS=1 run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"bootstrap call failed (attempt 1 of 8, status 503)"* ]]
  [ "$(cat "$API_STATE/bootstrapped")" = nonce ]
}

@test "retries a clone that fails, then proceeds" {
  export REPO_URL=$TEST_ROOT/later.git
  # The remote appears once a clone attempt has failed (its error file exists).
  (while [ ! -s "$WORKSPACE_DIR/.clone.err" ]; do sleep 0.05; done && mv "$REMOTE" "$REPO_URL") 3>&- &
  CLONE_ATTEMPTS=30 MAX_ITERATIONS=1 run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"failed (attempt 1 of 30)"* ]]
  [ -f "$REPO_DIR/README.md" ]
}

@test "gives up on a clone after its attempts with a clear error" {
  export BRANCH=no-such-branch
  CLONE_ATTEMPTS=2 run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 1 ]
  [[ "$output" == *"could not clone $REMOTE (branch no-such-branch) after 2 attempts"* ]]
}

@test "an https remote is cloned with the DevFlow credential helper, and only that one" {
  export REPO_URL=https://github.com/acme/demo.git
  git config --global credential.helper store
  # Serve the https URL from the local bare repository, so the clone runs offline.
  export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="url.$REMOTE.insteadOf" GIT_CONFIG_VALUE_0=https://github.com/acme/demo.git
  MAX_ITERATIONS=1 run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  [ "$(git -C "$REPO_DIR" config --local --get-all credential.helper | tr '\n' ' ')" = " $CONTAINER_DIR/devflow-git-credential " ]
  [ "$(git -C "$REPO_DIR" config --get remote.origin.url)" = https://github.com/acme/demo.git ]
}

@test "missing variables are each named on their own line, with exit 2" {
  unset SESSION_ID BRANCH DEVFLOW_API_URL
  run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 2 ]
  [ "$(grep -c 'is not set' <<<"$output")" -eq 3 ]
  [[ "$output" == *"SESSION_ID is not set"* ]]
  [[ "$output" == *"BRANCH is not set"* ]]
  [[ "$output" == *"DEVFLOW_API_URL is not set"* ]]
  [ ! -d "$WORKSPACE_DIR" ]
}

@test "writes code-server's config with an argon2 hash, runs both, and stops both on TERM" {
  command -v argon2 >/dev/null || skip "argon2 is not installed (apt-get install argon2)"
  export CODE_SERVER_BIN=$FIXTURES/code-server
  export FAKE_CODE_SERVER_LOG=$TEST_ROOT/code-server.log
  export CODE_SERVER_CONFIG=$TEST_ROOT/code-server/config.yaml
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa $'write slow.txt almost\nsleep 30'
  "$CONTAINER_DIR/entrypoint.sh" 2>"$TEST_ROOT/entrypoint.log" 3>&- &
  entrypoint=$!
  for _ in $(seq 1 300); do [ -f "$REPO_DIR/slow.txt" ] && [ -f "$FAKE_CODE_SERVER_LOG" ] && break; sleep 0.05; done
  [ -f "$REPO_DIR/slow.txt" ]

  # shellcheck disable=SC2016 # a regular expression
  grep -q '^hashed-password: "\$argon2id\$' "$CODE_SERVER_CONFIG"
  run ! grep -q correct-horse "$CODE_SERVER_CONFIG"
  [ "$(stat -c %a "$CODE_SERVER_CONFIG")" = 600 ]
  hash=$(sed -n 's/^hashed-password: "\(.*\)"$/\1/p' "$CODE_SERVER_CONFIG")
  salt=$(cut -d '$' -f 5 <<<"$hash")
  while [ $((${#salt} % 4)) -ne 0 ]; do salt+="="; done
  salt=$(base64 -d <<<"$salt")
  [ "$(printf correct-horse | argon2 "$salt" -id -e)" = "$hash" ]
  grep -q "args: --config $CODE_SERVER_CONFIG --disable-telemetry --disable-update-check $REPO_DIR" "$FAKE_CODE_SERVER_LOG"
  grep -q "saw-editor-password: $" "$FAKE_CODE_SERVER_LOG"

  kill -TERM "$entrypoint"
  wait "$entrypoint" || { cat "$TEST_ROOT/entrypoint.log"; false; }
  grep -q stopped "$FAKE_CODE_SERVER_LOG"
  [ "$(results_for p-aaaaaaaaaaaaaaaaaaaa | jq -r .body.error.code)" = STOPPED ]
  [ "$(remote_file "devflow/$SESSION_ID" slow.txt)" = almost ]
}

@test "code-server exiting stops the agent and the workspace" {
  command -v argon2 >/dev/null || skip "argon2 is not installed (apt-get install argon2)"
  printf '#!/bin/sh\nexit 3\n' >"$TEST_ROOT/crashing-code-server"
  chmod +x "$TEST_ROOT/crashing-code-server"
  CODE_SERVER_BIN=$TEST_ROOT/crashing-code-server CODE_SERVER_CONFIG=$TEST_ROOT/cs.yaml run timeout 20 "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 3 ]
  [[ "$output" == *"code-server exited (status 3)"* ]]
}

@test "a key the Claude API refuses ends the workspace with the agent's status 3 and says what to do" {
  queue_prompt p-aaaaaaaaaaaaaaaaaaaa 'replay api-401'
  queue_prompt p-bbbbbbbbbbbbbbbbbbbb 'write never.txt not run'
  MAX_ITERATIONS=5 run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 3 ]
  [[ "$output" == *"the Claude API refused ANTHROPIC_API_KEY; set a valid key (devflow secrets set claude-api-key) and start a new session"* ]]
  [ "$(results_for p-aaaaaaaaaaaaaaaaaaaa | jq -r .body.error.code)" = AGENT_AUTH_FAILED ]
  [ -z "$(results_for p-bbbbbbbbbbbbbbbbbbbb)" ]
}
