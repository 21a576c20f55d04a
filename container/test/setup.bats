#!/usr/bin/env bats
# The repository's own setup (entrypoint.sh + lib/repo-setup.mjs): .devflow/setup.sh or the
# devcontainer.json lifecycle commands in their three forms, containerEnv/remoteEnv, once per clone,
# the output as events of the first prompt, and a failure ending the workspace with its last lines.

# shellcheck disable=SC2016 # devcontainer.json and scripts for the repository, not for this shell
bats_require_minimum_version 1.5.0
load helpers

setup() {
  setup_workspace
  start_api
  # An agent that records the environment it was given, instead of the real loop.
  export ENV_DUMP=$TEST_ROOT/agent-env
  printf '#!/usr/bin/env bash\nenv >"$ENV_DUMP"\n' >"$TEST_ROOT/dump-env"
  chmod +x "$TEST_ROOT/dump-env"
}

teardown() {
  teardown_workspace
}

# add_to_remote PATH CONTENT: one commit on main of the remote with that file.
add_to_remote() {
  local work=$TEST_ROOT/edit
  [ -d "$work" ] || git clone --quiet "$REMOTE" "$work"
  mkdir -p "$(dirname "$work/$1")"
  printf '%s\n' "$2" >"$work/$1"
  git -C "$work" add "$1"
  git -C "$work" -c user.name=Dev -c user.email=dev@example.com commit --quiet -m "add $1"
  git -C "$work" push --quiet origin main
}

@test "runs onCreate, updateContent and postCreate in order, in the string, array and object forms" {
  add_to_remote .devcontainer/devcontainer.json '{
    // JSON with comments, as devcontainer.json is written
    "name": "demo",
    "onCreateCommand": "echo on-create >> order.log && echo \"shell: $0\"",
    "updateContentCommand": ["sh", "-c", "echo update-content >> order.log"],
    /* an object: both at once */
    "postCreateCommand": {
      "deps": "echo post-create-deps >> order.log",
      "literal": ["echo", "no $HOME expansion without a shell"],
    },
  }'
  AI_WORKFLOW_BIN=$TEST_ROOT/dump-env run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  [ "$(head -n 2 "$REPO_DIR/order.log" | tr '\n' ' ')" = "on-create update-content " ]
  [ "$(tail -n 1 "$REPO_DIR/order.log")" = post-create-deps ]
  [[ "$output" == *"[postCreateCommand.literal] no \$HOME expansion without a shell"* ]]
  [[ "$output" == *"shell: /bin/sh"* ]]
  [[ "$output" == *"the repository's setup succeeded (.devcontainer/devcontainer.json)"* ]]
  [ "$(jq -r '.commands | map(.name) | join(" ")' "$STATE_DIR/setup/result.json")" = "onCreateCommand updateContentCommand postCreateCommand.deps postCreateCommand.literal" ]
  # The agent starts only after the setup.
  [ -f "$ENV_DUMP" ]
}

@test "containerEnv and remoteEnv reach the commands and what starts after them (the agent); DevFlow's own names are kept" {
  add_to_remote .devcontainer.json '{
    "containerEnv": {"APP_MODE": "test", "TOOLS_HOME": "${containerWorkspaceFolder}/.tools", "SESSION_ID": "hijacked"},
    "remoteEnv": {"PATH": "${containerEnv:PATH}:/opt/demo/bin", "GREETING": "${localEnv:NOT_SET_ANYWHERE:hello}"},
    "postCreateCommand": "echo \"$APP_MODE $GREETING\" > seen-by-setup.txt"
  }'
  AI_WORKFLOW_BIN=$TEST_ROOT/dump-env run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  [ "$(cat "$REPO_DIR/seen-by-setup.txt")" = "test hello" ]
  grep -qx 'APP_MODE=test' "$ENV_DUMP"
  grep -qx "TOOLS_HOME=$REPO_DIR/.tools" "$ENV_DUMP"
  grep -qx 'GREETING=hello' "$ENV_DUMP"
  grep -q '^PATH=.*:/opt/demo/bin$' "$ENV_DUMP"
  grep -qx "SESSION_ID=$SESSION_ID" "$ENV_DUMP"
  [[ "$output" == *"ignored containerEnv.SESSION_ID: DevFlow sets it for the session"* ]]
}

@test "a failing command ends the workspace with status 4 and its last lines; the agent never starts" {
  add_to_remote .devcontainer/devcontainer.json '{"onCreateCommand": "echo ok", "postCreateCommand": "for i in $(seq 1 30); do echo line-$i; done; echo npm ERR! missing script >&2; exit 7"}'
  AI_WORKFLOW_BIN=$TEST_ROOT/dump-env run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 4 ]
  [[ "$output" == *"error: the repository's setup failed (.devcontainer/devcontainer.json): postCreateCommand exited with status 7; its last lines:"* ]]
  [[ "$output" == *"  | npm ERR! missing script"* ]]
  [[ "$output" == *"  | line-30"* ]]
  # The last 20 lines only.
  [[ "$output" != *"  | line-10"$'\n'* ]]
  [ ! -f "$ENV_DUMP" ]
  [ -z "$(requests '.path | endswith("/heartbeat")')" ]
  [ "$(jq -r .failed.exitCode "$STATE_DIR/setup/result.json")" = 7 ]
}

@test "an unreadable devcontainer.json fails the setup with the parse error" {
  add_to_remote .devcontainer/devcontainer.json '{"postCreateCommand": "echo hi" "oops"}'
  AI_WORKFLOW_BIN=$TEST_ROOT/dump-env run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 4 ]
  [[ "$output" == *".devcontainer/devcontainer.json could not be read: "* ]]
}

@test ".devflow/setup.sh runs instead of the lifecycle commands, with the configuration's environment" {
  add_to_remote .devcontainer/devcontainer.json '{"containerEnv": {"APP_MODE": "dev"}, "postCreateCommand": "touch should-not-exist", "features": {"ghcr.io/devcontainers/features/node:1": {}}, "image": "mcr.microsoft.com/devcontainers/base"}'
  add_to_remote .devflow/setup.sh 'echo "devflow setup in $APP_MODE mode as $(id -un)" | tee setup-ran.txt'
  AI_WORKFLOW_BIN=$TEST_ROOT/dump-env run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  [ "$(cat "$REPO_DIR/setup-ran.txt")" = "devflow setup in dev mode as $(id -un)" ]
  [ ! -e "$REPO_DIR/should-not-exist" ]
  [[ "$output" == *"ignored features: Dev Container features need an image build"* ]]
  [[ "$output" == *"ignored image: the workspace always runs the DevFlow image"* ]]
  [[ "$output" == *"ignored postCreateCommand: .devflow/setup.sh is run instead"* ]]
}

@test "runs once per clone: a restart on the same clone only loads the environment again" {
  add_to_remote .devcontainer/devcontainer.json '{"containerEnv": {"APP_MODE": "once"}, "postCreateCommand": "echo ran >> runs.log"}'
  AI_WORKFLOW_BIN=$TEST_ROOT/dump-env run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  rm "$ENV_DUMP"
  AI_WORKFLOW_BIN=$TEST_ROOT/dump-env run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  [[ "$output" == *"the repository's setup already ran for this clone"* ]]
  [ "$(wc -l <"$REPO_DIR/runs.log")" -eq 1 ]
  grep -qx 'APP_MODE=once' "$ENV_DUMP"
}

@test "a repository without setup starts the agent at once" {
  AI_WORKFLOW_BIN=$TEST_ROOT/dump-env run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  [[ "$output" != *"setup"* ]]
  [ -f "$ENV_DUMP" ]
}

@test "the setup's outcome and output are the first events of the first prompt" {
  add_to_remote .devcontainer/devcontainer.json '{"postCreateCommand": "echo installing deps; echo deps installed"}'
  queue_prompt p-aaaaaaaaaaaaaaaaaaa1 'explain the README'
  queue_prompt p-aaaaaaaaaaaaaaaaaaa2 'explain it again'
  MAX_ITERATIONS=2 run "$CONTAINER_DIR/entrypoint.sh"
  [ "$status" -eq 0 ]
  first=$(requests '.path | endswith("/prompts/p-aaaaaaaaaaaaaaaaaaa1/events")' | head -n 1)
  [ "$(jq -r '.body.events | map(.type) | join(" ")' <<<"$first")" = "setup setup_output" ]
  [[ "$(jq -r '.body.events[0].text' <<<"$first")" == "The repository's setup ran (.devcontainer/devcontainer.json): postCreateCommand "*s ]]
  [[ "$(jq -r '.body.events[1].text' <<<"$first")" == *"installing deps"$'\n'"deps installed" ]]
  [ -z "$(requests '.path | endswith("/prompts/p-aaaaaaaaaaaaaaaaaaa2/events")' | jq -r 'select(.body.events[].type == "setup")')" ]
}

@test "TERM during the setup stops its commands and ends the workspace cleanly" {
  add_to_remote .devcontainer/devcontainer.json '{"postCreateCommand": "echo started > started.txt; sleep 30; echo finished > finished.txt"}'
  AI_WORKFLOW_BIN=$TEST_ROOT/dump-env "$CONTAINER_DIR/entrypoint.sh" 2>"$TEST_ROOT/entrypoint.log" >&2 3>&- &
  entrypoint=$!
  for _ in $(seq 1 200); do [ -f "$REPO_DIR/started.txt" ] && break; sleep 0.05; done
  [ -f "$REPO_DIR/started.txt" ]
  kill -TERM "$entrypoint"
  start=$SECONDS
  wait "$entrypoint"
  [ $((SECONDS - start)) -lt 10 ]
  [ ! -f "$ENV_DUMP" ]
  run pgrep -f "sleep 30; echo finished"
  [ "$status" -ne 0 ]
}
