# Claude Code `--output-format stream-json` lines (raw, one JSON message per line) -> DevFlow
# prompt events `{"type", "text"?, "data"?}`. Lines that are not JSON become `log` events, so
# nothing the agent printed is lost. Texts are clipped well under the API's 16 KiB per event.
def clip($n): if type == "string" and length > $n then .[0:$n] + "…" else . end;

def tool_result_text:
  if type == "array" then map(if type == "object" then (.text // "") else tostring end) | join("\n")
  elif type == "string" then .
  else tojson end;

[ split("\n")[]
  | select(length > 0)
  | . as $line
  | ((try fromjson catch null) | if type == "object" then . else null end) as $m
  | if $m == null then {type: "log", text: ($line | clip(2000))}
    elif $m.type == "system" then
      {type: "system",
       text: ("Claude Code " + ($m.subtype // "event") + (if $m.model then " (" + $m.model + ")" else "" end)),
       data: {subtype: $m.subtype, sessionId: $m.session_id, model: $m.model}}
    elif $m.type == "assistant" then
      ($m.message.content // [] | if type == "array" then .[] else empty end)
      | if .type == "text" then {type: "assistant", text: (.text | clip(4000))}
        elif .type == "tool_use" then
          {type: "tool_use", text: ((.name // "tool") + " " + (.input | tojson | clip(500))), data: {tool: .name, id: .id}}
        else empty end
    elif $m.type == "user" then
      ($m.message.content // [] | if type == "array" then .[] else empty end)
      | select(.type == "tool_result")
      | {type: "tool_result", text: (.content | tool_result_text | clip(2000)), data: {id: .tool_use_id, isError: (.is_error // false)}}
    elif $m.type == "result" then
      {type: "result",
       text: (($m.result // $m.subtype // "") | tostring | clip(4000)),
       data: {subtype: $m.subtype, isError: $m.is_error, turns: $m.num_turns, costUsd: $m.total_cost_usd, durationMs: $m.duration_ms}}
    else empty end
] | .[:100]
