# Claude Code's `--output-format stream-json` lines (the whole run) -> what the agent loop reports:
# {sessionId, turns, costUsd, subtype, isError, result, hasResult, authRefused, outcome}.
# `outcome` is null for a success, else {code, message}: the CLI reports API, auth, overload and
# network failures as a result with subtype "success", is_error true and api_error_status (or
# api_error for a connection failure), and the turn and budget limits as error_* subtypes with
# their text in errors[]. Shapes as recorded from the pinned CLI (container/test/fixtures/claude-stream).
def text_of: if . == null then "" elif type == "string" then . else tojson end;

def sentence: if . == "" or test("[.!?]$") then . else . + "." end;

def retry_count($messages): [$messages[] | select(.type == "system" and .subtype == "api_retry")] | length;

def outcome($result; $auth; $messages):
  ($result.result | text_of | sentence) as $said
  | ($result.api_error_status) as $status
  | if $result == null and $auth != null then
      {code: "AGENT_AUTH_FAILED",
       message: "The Claude API refused the API key (HTTP \($auth.error_status), \($auth.error // "authentication_failed")); the run was stopped instead of retrying. Set a valid key (`devflow secrets set claude-api-key`) and start a new session: this session takes no further prompts."}
    elif $result == null then null
    elif $result.subtype == "error_max_turns" then
      {code: "AGENT_MAX_TURNS", message: ((($result.errors // []) | map(text_of) | join("; ")) as $e
        | (if $e != "" then $e else "Claude Code reached its maximum number of turns" end)
          + ". Raise CLAUDE_MAX_TURNS or split the prompt into smaller steps.")}
    elif $result.subtype == "error_max_budget_usd" then
      {code: "AGENT_BUDGET_EXCEEDED", message: ((($result.errors // []) | map(text_of) | join("; ")) as $e
        | (if $e != "" then $e else "Claude Code reached its budget" end) + ". Raise the prompt's budget to continue.")}
    elif ($status == 401 or $status == 403) then
      {code: "AGENT_AUTH_FAILED",
       message: "HTTP \($status): \($said) Set a valid key (`devflow secrets set claude-api-key`) and start a new session: this session takes no further prompts."}
    elif ($status == 429 or $status == 529) then
      {code: "AGENT_OVERLOADED",
       message: "HTTP \($status) after \(retry_count($messages)) retries: \($said) The Claude API is overloaded or rate-limited: send the prompt again later."}
    elif ($status | type) == "number" then
      {code: "AGENT_API_ERROR", message: "HTTP \($status)\(if $result.api_error_type then " " + $result.api_error_type else "" end): \($said)"}
    elif $result.is_error == true and ($result.api_error != null or $result.terminal_reason == "api_error") then
      {code: "AGENT_NETWORK",
       message: "\($said) The workspace could not reach the Claude API: check its network egress and ANTHROPIC_BASE_URL."}
    elif $result.is_error == true or $result.subtype != "success" then
      (($result.subtype // "error") | ascii_upcase) as $sub
      | {code: "CLAUDE_\($sub)", message: (if $said != "" then $said else ((($result.errors // []) | map(text_of) | join("; ")) as $e | if $e != "" then $e else "Claude Code ended the run with \($sub)." end) end)}
    else null end;

[split("\n")[] | select(length > 0) | (try fromjson catch null) | objects] as $messages
| ([$messages[] | select(.type == "result")] | last) as $result
| ([$messages[] | select(.type == "system" and .subtype == "api_retry" and (.error_status == 401 or .error_status == 403))] | first) as $auth
| {sessionId: ([$messages[] | .session_id // empty] | last),
   turns: $result.num_turns, costUsd: $result.total_cost_usd, subtype: $result.subtype,
   isError: $result.is_error, result: $result.result, hasResult: ($result != null),
   authRefused: ($auth != null),
   outcome: outcome($result; $auth; $messages)}
