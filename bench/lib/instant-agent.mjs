#!/usr/bin/env node
// A workspace agent that costs nothing, for bench/prompt-latency.mjs: the agent API as
// container/ai-workflow.sh calls it (heartbeat, long-poll claim, one event, the result), with no
// process per step, so what is left of a prompt's time is the platform's own. entrypoint.sh runs
// it in place of ai-workflow.sh (AI_WORKFLOW_BIN) with the same environment.
const base = `${process.env.DEVFLOW_API_URL.replace(/\/$/, '')}/agent/sessions/${process.env.SESSION_ID}`
const headers = {authorization: `Bearer ${process.env.DEVFLOW_SESSION_TOKEN}`, 'content-type': 'application/json'}
let stopping = false
process.on('SIGTERM', () => {
  stopping = true
  process.exit(0)
})

async function call(method, path, body) {
  const response = await fetch(`${base}/${path}`, {method, headers, ...(body ? {body: JSON.stringify(body)} : {})})
  const text = await response.text()
  return {status: response.status, body: text ? JSON.parse(text) : undefined}
}

await call('POST', 'heartbeat', {state: 'idle'})
while (!stopping) {
  const next = await call('GET', 'prompts/next?wait=20')
  if (next.status === 204) continue
  if (next.status !== 200) process.exit(0) // the session ended (409) or the token is gone (401)
  const pid = next.body.id
  await call('POST', `prompts/${pid}/events`, {events: [{type: 'assistant', text: `Done: ${next.body.text}`}]})
  await call('POST', `prompts/${pid}/result`, {status: 'SUCCEEDED', summary: `Done: ${next.body.text}`})
}
