#!/usr/bin/env bats
# devflow-git-credential: a fresh token from the API on every `get`, nothing stored.

bats_require_minimum_version 1.5.0
load helpers

setup() {
  setup_workspace
  start_api
  export REPO_URL=https://github.com/acme/demo.git
  HELPER=$CONTAINER_DIR/devflow-git-credential
}

teardown() {
  teardown_workspace
}

@test "get answers the repository's host with a token from the API" {
  run "$HELPER" get <<<$'protocol=https\nhost=github.com\npath=acme/demo.git\n'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "username=x-access-token" ]
  [ "${lines[1]}" = "password=ghs_faketoken" ]
  [[ "${lines[2]}" =~ ^password_expiry_utc=[0-9]+$ ]]
  [ "$(requests '.path | endswith("/github-token")' | jq -r .auth)" = "Bearer session-token" ]
}

@test "git itself gets the token through the helper, and nothing is written to disk" {
  run git -c credential.helper= -c "credential.helper=$HELPER" credential fill <<<$'protocol=https\nhost=github.com\npath=acme/demo.git\n'
  [ "$status" -eq 0 ]
  [[ "$output" == *"password=ghs_faketoken"* ]]
  git -c credential.helper= -c "credential.helper=$HELPER" credential approve <<<$'protocol=https\nhost=github.com\nusername=x-access-token\npassword=ghs_faketoken\n'
  run ! grep -r ghs_faketoken "$HOME" "$STATE_DIR" 2>/dev/null
}

@test "each get asks the API again" {
  "$HELPER" get <<<$'protocol=https\nhost=github.com\n' >/dev/null
  "$HELPER" get <<<$'protocol=https\nhost=github.com\n' >/dev/null
  [ "$(requests '.path | endswith("/github-token")' | wc -l)" -eq 2 ]
}

@test "other hosts and protocols are left to other helpers" {
  run "$HELPER" get <<<$'protocol=https\nhost=gitlab.com\n'
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run "$HELPER" get <<<$'protocol=http\nhost=github.com\n'
  [ -z "$output" ]
  [ -z "$(requests '.path | endswith("/github-token")')" ]
}

@test "store and erase do nothing" {
  run "$HELPER" store <<<$'protocol=https\nhost=github.com\nusername=x\npassword=secret\n'
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run "$HELPER" erase <<<$'protocol=https\nhost=github.com\n'
  [ "$status" -eq 0 ]
  [ -z "$(requests 'true')" ]
}

@test "a stopped session or an unreachable API fails the get with a clear message" {
  # Stopped longer ago than the checkpoint grace (within it the stopping task still gets tokens).
  touch "$API_STATE/gone" "$API_STATE/grace-over"
  run "$HELPER" get <<<$'protocol=https\nhost=github.com\n'
  [ "$status" -ne 0 ]
  [[ "$output" == *"HTTP 409 SESSION_ENDED"*"the session is over"* ]]
  rm "$API_STATE/gone"
  touch "$API_STATE/revoked"
  run "$HELPER" get <<<$'protocol=https\nhost=github.com\n'
  [ "$status" -ne 0 ]
  [[ "$output" == *"HTTP 401"*"the session is over"* ]]
  stop_api
  run "$HELPER" get <<<$'protocol=https\nhost=github.com\n'
  [ "$status" -ne 0 ]
  [[ "$output" == *"the DevFlow API is unreachable"* ]]
}
