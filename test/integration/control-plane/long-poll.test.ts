/**
 * The platform's latency around a prompt (issue 16): the events route as a long poll
 * (`?after=N&wait=S`) and the agent's claim, woken at once by a write in the same process, with
 * the store poll as the fallback for writes made elsewhere; through the real router over HTTP and
 * the DynamoDB stores on moto. The store poll is set to 10 s where a test proves the in-process
 * wake, so an answer within a second cannot come from it.
 */
import {expect} from 'chai'

import {HttpSessionApi} from '../../../src/adapters/http/api-client.js'
import type {PromptEvent} from '../../../src/core/models.js'
import type {Clock} from '../../../src/core/ports.js'
import {createCoreServices} from '../../../src/core/services/index.js'
import {followPrompt} from '../../../src/operations/session-wait.js'
import {rejection} from '../../helpers/assertions.js'
import {REPO, usePlatform} from '../../helpers/platform-fixture.js'

const USER = 'arn:aws:iam::123456789012:user/poller'
const SLOW_STORE_POLL_MS = 10_000

describe('control plane: long polls', function () {
  this.timeout(60_000)
  const h = usePlatform()
  let sessionId: string
  let token: string

  const slowStorePoll = () => h.rewire((deps) => ({settings: {...deps.settings, pollIntervalMs: SLOW_STORE_POLL_MS}}))
  afterEach(() => h.rewire(() => ({})))

  /** A RUNNING prompt of the session, claimed by its agent. */
  async function runningPrompt(): Promise<string> {
    const queued = await h.call('POST', `/sessions/${sessionId}/prompts`, {user: USER, body: {text: 'nothing much'}})
    expect(queued.status, JSON.stringify(queued.body)).to.equal(202)
    const claimed = await h.call('GET', `/agent/sessions/${sessionId}/prompts/next?wait=0`, {token})
    expect([claimed.status, claimed.body?.id]).to.deep.equal([200, queued.body.id])
    return queued.body.id as string
  }

  async function timed<T>(run: () => Promise<T>): Promise<{value: T; ms: number}> {
    const started = performance.now()
    const value = await run()
    return {value, ms: performance.now() - started}
  }

  const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

  before(async () => {
    const started = await h.call('POST', '/sessions', {user: USER, body: {repo: REPO}})
    expect(started.status, JSON.stringify(started.body)).to.equal(201)
    sessionId = started.body.id
    token = (await h.bootstrap(sessionId, started.body.taskArn)).token
  })

  it('answers the events long poll as soon as an event lands, not after the wait', async () => {
    const pid = await runningPrompt()
    slowStorePoll()
    const polling = timed(() => h.call('GET', `/sessions/${sessionId}/prompts/${pid}/events?after=0&wait=20`, {user: USER}))
    await later(300)
    const appended = await h.call('POST', `/agent/sessions/${sessionId}/prompts/${pid}/events`, {token, body: {events: [{type: 'log', text: 'reading the code'}]}})
    expect(appended.status).to.equal(200)
    const {value: answer, ms} = await polling
    expect(answer.status).to.equal(200)
    expect(answer.body.items.map((e: {seq: number; text: string}) => [e.seq, e.text])).to.deep.equal([[1, 'reading the code']])
    expect(answer.body.status).to.equal('RUNNING')
    expect(ms, 'answered by the in-process wake').to.be.within(250, 2000)
  })

  it('answers the events long poll as soon as the prompt ends, with its status', async () => {
    const pid = await runningPrompt()
    slowStorePoll()
    const polling = timed(() => h.call('GET', `/sessions/${sessionId}/prompts/${pid}/events?after=0&wait=20`, {user: USER}))
    await later(300)
    const result = await h.call('POST', `/agent/sessions/${sessionId}/prompts/${pid}/result`, {token, body: {status: 'SUCCEEDED', summary: 'Nothing to do.'}})
    expect(result.status, JSON.stringify(result.body)).to.equal(200)
    const {value: answer, ms} = await polling
    expect([answer.status, answer.body.items, answer.body.status]).to.deep.equal([200, [], 'SUCCEEDED'])
    expect(ms).to.be.below(2000)
  })

  it('answers empty after the wait when nothing happened, and at once without a wait', async () => {
    const pid = await runningPrompt()
    const waited = await timed(() => h.call('GET', `/sessions/${sessionId}/prompts/${pid}/events?after=0&wait=1`, {user: USER}))
    expect([waited.value.status, waited.value.body]).to.deep.equal([200, {items: [], status: 'RUNNING'}])
    expect(waited.ms).to.be.within(1000, 3000)
    const atOnce = await timed(() => h.call('GET', `/sessions/${sessionId}/prompts/${pid}/events?after=0`, {user: USER}))
    expect([atOnce.value.status, atOnce.value.body]).to.deep.equal([200, {items: [], status: 'RUNNING'}])
    expect(atOnce.ms).to.be.below(1000)
  })

  it('clamps a wait above 20 s to 20 s (API Gateway ends an integration at 29 s)', async () => {
    const pid = await runningPrompt()
    // A clock whose sleeps pass at once and count: the long poll's whole wait, without waiting it.
    const base = Date.now()
    let offset = 0
    const clock: Clock = {now: () => new Date(base + offset), sleep: async (ms) => void (offset += ms)}
    h.rewire((deps) => ({clock, settings: {...deps.settings, pollIntervalMs: 5000}}))
    const answer = await h.call('GET', `/sessions/${sessionId}/prompts/${pid}/events?after=0&wait=600`, {user: USER})
    expect([answer.status, answer.body.items]).to.deep.equal([200, []])
    expect(offset).to.equal(20_000)
  })

  it('refuses a bad after or wait with 400 and a code naming the parameter', async () => {
    const pid = await runningPrompt()
    for (const query of ['after=-1', 'after=x&wait=1', 'wait=soon', 'wait=-5', 'wait=1.5', 'after=0&wait=1e3']) {
      const refused = await h.call('GET', `/sessions/${sessionId}/prompts/${pid}/events?${query}`, {user: USER})
      expect([refused.status, refused.body.error.code], query).to.deep.equal([400, 'INVALID_PARAMETER'])
      const name = query.includes('after=-1') || query.includes('after=x') ? 'after' : 'wait'
      expect(refused.body.error.message, query).to.include(`The ${name} parameter`)
    }
  })

  it('wakes a waiting claim at once when a prompt is queued in the same process', async () => {
    slowStorePoll()
    const waiting = timed(() => h.call('GET', `/agent/sessions/${sessionId}/prompts/next?wait=20`, {token}))
    await later(300)
    const queued = await h.call('POST', `/sessions/${sessionId}/prompts`, {user: USER, body: {text: 'wake up'}})
    expect(queued.status).to.equal(202)
    const {value: claimed, ms} = await waiting
    expect([claimed.status, claimed.body?.id, claimed.body?.status]).to.deep.equal([200, queued.body.id, 'RUNNING'])
    expect(ms, 'answered by the in-process wake').to.be.within(250, 2000)
  })

  it('falls back to the store poll for a write made by another process (another Lambda function)', async () => {
    const pid = await runningPrompt()
    h.rewire((deps) => ({settings: {...deps.settings, pollIntervalMs: 400}}))
    // Other services over the same tables: their writes tell no waiter of this process.
    const elsewhere = createCoreServices({...h.deps})
    const polling = timed(() => h.call('GET', `/sessions/${sessionId}/prompts/${pid}/events?after=0&wait=20`, {user: USER}))
    await later(300)
    await elsewhere.agent.appendEvents(sessionId, pid, {events: [{type: 'log', text: 'from afar'}]})
    const {value: answer, ms} = await polling
    expect(answer.body.items.map((e: {text: string}) => e.text)).to.deep.equal(['from afar'])
    // Within a store poll interval of the write (plus a moto round trip or two).
    expect(ms).to.be.within(300, 2500)
  })

  describe('the CLI following a prompt (session prompt --wait, logs --follow)', () => {
    // The API mode's client, with the fixture's stand-in for SigV4: no fixed sleep of its own.
    const httpApi = () => new HttpSessionApi({endpoint: h.server.url, authorizer: {authorize: async (request) => ({...request.headers, 'x-test-user': USER})}})
    const caller = {userId: 'self'}

    it('returns as soon as the prompt ends, with every event, in API mode and in admin mode', async () => {
      for (const mode of ['api', 'admin'] as const) {
        const pid = await runningPrompt()
        slowStorePoll()
        // Admin mode: the core services in the CLI's own process (here the server's, so woken in-process).
        const api = mode === 'api' ? httpApi() : h.services.sessions
        const seen: PromptEvent[] = []
        const following = timed(() => followPrompt(api, mode === 'api' ? caller : {userId: USER}, sessionId, pid, {intervalMs: 10_000, timeoutMs: 30_000, onEvent: (e) => seen.push(e)}))
        await later(300)
        await h.call('POST', `/agent/sessions/${sessionId}/prompts/${pid}/events`, {token, body: {events: [{type: 'log', text: 'one'}]}})
        await later(200)
        await h.call('POST', `/agent/sessions/${sessionId}/prompts/${pid}/events`, {token, body: {events: [{type: 'log', text: 'two'}]}})
        await h.call('POST', `/agent/sessions/${sessionId}/prompts/${pid}/result`, {token, body: {status: 'SUCCEEDED', summary: 'Done.'}})
        const {value: prompt, ms} = await following
        expect([prompt.status, prompt.result?.summary], mode).to.deep.equal(['SUCCEEDED', 'Done.'])
        expect(seen.map((e) => e.text), mode).to.deep.equal(['one', 'two'])
        expect(ms, mode).to.be.within(500, 2500)
      }
    })

    it('gives up at its timeout with PROMPT_WAIT_TIMEOUT, not a wait later', async () => {
      const pid = await runningPrompt()
      const {value: error, ms} = await timed(() => rejection(followPrompt(httpApi(), caller, sessionId, pid, {intervalMs: 10_000, timeoutMs: 1500, onEvent: () => {}})))
      expect(error).to.include({code: 'PROMPT_WAIT_TIMEOUT'})
      expect(error.message).to.include('still RUNNING')
      expect(ms).to.be.within(1400, 3500)
    })
  })
})
