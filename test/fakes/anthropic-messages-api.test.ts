import {expect} from 'chai'

import {apiError, FakeMessagesApi, reply, text, toolUse} from './anthropic-messages-api.js'

const TOOLS = [{name: 'Write', description: 'Write a file', input_schema: {type: 'object'}}]

interface SseEvent {
  readonly event: string
  readonly data: Record<string, unknown> & {type: string}
}

/** Server-sent events as the SDK reads them: `event:` and `data:` lines, a blank line between. */
function parseSse(body: string): SseEvent[] {
  return body
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event = /^event: (.+)$/m.exec(block)?.[1] ?? ''
      const data = JSON.parse(/^data: (.+)$/m.exec(block)?.[1] ?? '{}') as SseEvent['data']
      return {event, data}
    })
}

describe('the scripted Anthropic Messages API (test/fakes)', () => {
  let api: FakeMessagesApi

  beforeEach(async () => {
    api = await FakeMessagesApi.start()
  })

  afterEach(async () => {
    await api.close()
  })

  const post = (body: Record<string, unknown>, path = '/v1/messages') =>
    fetch(`${api.url}${path}`, {method: 'POST', headers: {'content-type': 'application/json', 'x-api-key': 'k'}, body: JSON.stringify(body)})

  it('streams a tool_use turn as the real API does: message_start, block start/delta/stop, message_delta with usage, message_stop', async () => {
    const write = toolUse('Write', {file_path: 'a.txt', content: 'a much longer content than one delta carries, to be split'})
    api.setScript(reply(text('Writing it.'), write))
    const response = await post({model: 'claude-sonnet-5-5', max_tokens: 100, stream: true, tools: TOOLS, messages: [{role: 'user', content: 'hi'}]})
    expect(response.status).to.equal(200)
    expect(response.headers.get('content-type')).to.match(/^text\/event-stream/)
    expect(response.headers.get('request-id')).to.match(/^req_/)
    const events = parseSse(await response.text())
    for (const {event, data} of events) expect(data.type).to.equal(event)
    expect(events.map((e) => e.event)).to.deep.equal([
      'message_start',
      'content_block_start', 'ping', 'content_block_delta', 'content_block_stop',
      'content_block_start', ...Array(events.filter((e) => e.event === 'content_block_delta').length - 1).fill('content_block_delta'), 'content_block_stop',
      'message_delta', 'message_stop',
    ])
    const start = events[0].data.message as {role: string; content: unknown[]; stop_reason: null; model: string; usage: {input_tokens: number}}
    expect(start).to.include({role: 'assistant', stop_reason: null, model: 'claude-sonnet-5-5'})
    expect(start.content).to.deep.equal([])
    expect(start.usage.input_tokens).to.be.greaterThan(0)
    const toolStart = events.find((e) => e.event === 'content_block_start' && e.data.index === 1)?.data.content_block
    expect(toolStart).to.deep.equal({type: 'tool_use', id: write.type === 'tool_use' ? write.id : '', name: 'Write', input: {}})
    const json = events.filter((e) => e.event === 'content_block_delta' && e.data.index === 1).map((e) => (e.data.delta as {type: string; partial_json: string}))
    expect(json.length).to.be.greaterThan(1)
    expect(json.every((d) => d.type === 'input_json_delta')).to.equal(true)
    expect(JSON.parse(json.map((d) => d.partial_json).join(''))).to.deep.equal({file_path: 'a.txt', content: 'a much longer content than one delta carries, to be split'})
    const delta = events.find((e) => e.event === 'message_delta')?.data as unknown as {delta: {stop_reason: string}; usage: {output_tokens: number}}
    expect(delta.delta.stop_reason).to.equal('tool_use')
    expect(delta.usage.output_tokens).to.be.greaterThan(0)
  })

  it('answers the whole message as JSON without stream, and takes the script in order, then the fallback', async () => {
    api.setScript(reply(text('first')), reply(text('second')))
    const ask = async () => (await (await post({model: 'm', max_tokens: 10, tools: TOOLS, messages: [{role: 'user', content: 'x'}]})).json()) as {type: string; role: string; content: Array<{text: string}>; stop_reason: string; usage: Record<string, number>}
    const first = await ask()
    expect(first).to.include({type: 'message', role: 'assistant', stop_reason: 'end_turn'})
    expect(first.usage).to.have.keys('input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens')
    expect([first, await ask(), await ask()].map((m) => m.content[0].text)).to.deep.equal(['first', 'second', 'Done.'])
    expect(api.pending).to.equal(0)
  })

  it('gives requests without tools (the CLI\'s side calls) a short text, without using up the script', async () => {
    api.setScript(reply(text('scripted')))
    const side = (await (await post({model: 'm', max_tokens: 10, messages: [{role: 'user', content: 'title?'}]})).json()) as {content: Array<{text: string}>}
    expect(side.content[0].text).to.equal('DevFlow session')
    expect(api.pending).to.equal(1)
    expect(api.agentTurns()).to.have.length(0)
    expect(api.requests.map((r) => r.agentTurn)).to.deep.equal([false])
  })

  it('answers scripted errors with the real error body and the status\'s error type', async () => {
    api.setScript(apiError(401), apiError(529), apiError(400, 'messages: bad'), apiError(429))
    const seen = []
    for (let i = 0; i < 4; i++) {
      const response = await post({model: 'm', max_tokens: 10, stream: true, tools: TOOLS, messages: []})
      seen.push([response.status, await response.json()])
    }
    expect(seen.map(([status, body]) => [status, (body as {type: string; error: {type: string}}).type, (body as {error: {type: string}}).error.type])).to.deep.equal([
      [401, 'error', 'authentication_error'],
      [529, 'error', 'overloaded_error'],
      [400, 'error', 'invalid_request_error'],
      [429, 'error', 'rate_limit_error'],
    ])
    expect((seen[0][1] as {error: {message: string}; request_id: string}).error.message).to.equal('invalid x-api-key')
    expect((seen[2][1] as {error: {message: string}}).error.message).to.equal('messages: bad')
    expect((seen[0][1] as {request_id: string}).request_id).to.match(/^req_/)
  })

  it('refuses a body without model or messages with a 400, as the real API does', async () => {
    const response = await post({max_tokens: 10})
    expect(response.status).to.equal(400)
    expect(((await response.json()) as {error: {type: string}}).error.type).to.equal('invalid_request_error')
  })

  it('answers count_tokens, and 404 elsewhere', async () => {
    const counted = await post({model: 'm', messages: [{role: 'user', content: 'hello'}]}, '/v1/messages/count_tokens')
    expect(((await counted.json()) as {input_tokens: number}).input_tokens).to.be.greaterThan(0)
    expect((await fetch(`${api.url}/v1/models`)).status).to.equal(404)
  })

  it('delays a slow answer, and never answers a hanging one until the client gives up', async () => {
    api.setScript({...reply(text('late')), delayMs: 300}, {kind: 'hang'})
    const started = Date.now()
    const late = await post({model: 'm', max_tokens: 10, tools: TOOLS, messages: []})
    expect(Date.now() - started).to.be.at.least(280)
    expect(((await late.json()) as {content: Array<{text: string}>}).content[0].text).to.equal('late')
    // Closing the fake (afterEach) drops the connection; the rejection is expected then.
    const hung = post({model: 'm', max_tokens: 10, tools: TOOLS, messages: []}).catch((error: Error) => error)
    const outcome = await Promise.race([hung, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 500))])
    expect(outcome).to.equal('still waiting')
  })

  it('records each request with its headers and parsed body', async () => {
    await post({model: 'claude-x', max_tokens: 10, tools: TOOLS, messages: [{role: 'user', content: 'remember me'}]})
    const [request] = api.requests
    expect(request).to.include({method: 'POST', path: '/v1/messages', agentTurn: true})
    expect(request.headers['x-api-key']).to.equal('k')
    expect(request.body?.messages).to.deep.equal([{role: 'user', content: 'remember me'}])
  })
})
