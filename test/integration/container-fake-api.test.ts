/**
 * The contract of container/test/fixtures/fake-api.py, the DevFlow agent API that the container's
 * bats tests run against: for each request the workspace scripts make, the fake answers what the
 * real router answers (here on moto through the platform fixture): the same status, for a success
 * only fields the real body has (with the same JSON type), for an error the same envelope and code.
 * Prompts reach the fake through helpers.bash's queue_prompt, the way the bats tests queue them.
 */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {expect} from 'chai'

import {ROOT} from '../helpers/cli.js'
import {REPO, taskRoleCaller, usePlatform} from '../helpers/platform-fixture.js'

const FIXTURES = join(ROOT, 'container', 'test')
const FAKE_TOKEN = 'session-token'

interface Answer {
  status: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON, compared field by field
  body: any
}

function jsonType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
}

/** The fake answered as the real API did, as far as a client of the fake can tell. */
function expectSameAnswer(fake: Answer, real: Answer, what: string): void {
  expect(fake.status, `${what}: fake ${JSON.stringify(fake.body)}, real ${JSON.stringify(real.body)}`).to.equal(real.status)
  if (real.status >= 400) {
    expect(Object.keys(fake.body), what).to.deep.equal(['error'])
    expect(fake.body.error.code, `${what}: error code`).to.equal(real.body.error.code)
    expect(fake.body.error.message, what).to.be.a('string').and.not.equal('')
    return
  }
  if (real.body === undefined) {
    expect(fake.body, what).to.equal(undefined)
    return
  }
  for (const [key, value] of Object.entries(fake.body as object)) {
    expect(real.body, `${what}: the real body has no "${key}"`).to.have.property(key)
    expect(jsonType(value), `${what}: "${key}"`).to.equal(jsonType(real.body[key]))
  }
}

describe('container/test/fixtures/fake-api.py answers as the agent API does', function () {
  this.timeout(60_000)
  const h = usePlatform()
  let state: string
  let fake: ChildProcess
  let fakeUrl: string
  let session: {id: string; token: string}
  const sessionIdOnFake = 's-abcdefghij0123456789'

  before(async () => {
    state = await mkdtemp(join(tmpdir(), 'devflow-fake-api-'))
    fake = spawn('python3', [join(FIXTURES, 'fixtures', 'fake-api.py'), state], {env: {...process.env, FAKE_API_TOKEN: FAKE_TOKEN}, stdio: 'ignore'})
    for (let i = 0; i < 100 && !existsSync(join(state, 'port')); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    fakeUrl = `http://127.0.0.1:${readFileSync(join(state, 'port'), 'utf8').trim()}/prod`

    const started = await h.call('POST', '/sessions', {user: 'ada', body: {repo: REPO}})
    expect(started.status, JSON.stringify(started.body)).to.equal(201)
    const {token} = await h.bootstrap(started.body.id, started.body.taskArn)
    session = {id: started.body.id, token}
  })
  after(async () => {
    fake?.kill()
    await rm(state, {recursive: true, force: true})
  })

  async function send(base: string, sessionId: string, token: string, method: string, route: string, body?: unknown): Promise<Answer> {
    const response = await fetch(`${base}/agent/sessions/${sessionId}/${route}`, {
      method,
      headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'},
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return {status: response.status, body: text ? JSON.parse(text) : undefined}
  }

  /** The same request to the fake and to the real API; `route` may use {prompt} for each side's prompt id. */
  async function both(method: string, route: string, body?: unknown, ids: {fake?: string; real?: string} = {}, tokens = {fake: FAKE_TOKEN, real: session.token}): Promise<[Answer, Answer]> {
    return [
      await send(fakeUrl, sessionIdOnFake, tokens.fake, method, route.replace('{prompt}', ids.fake ?? ''), body),
      await send(h.server.url, session.id, tokens.real, method, route.replace('{prompt}', ids.real ?? ''), body),
    ]
  }

  /** Queues a prompt on the fake with the bats helper and on the real API with the user route. */
  async function queuePrompt(text: string): Promise<{fake: string; real: string}> {
    const fakeId = `p-${'a'.repeat(19)}${(await h.scan('prompts')).length}`
    execFileSync('bash', ['-c', '. "$0"; queue_prompt "$1" "$2"', join(FIXTURES, 'helpers.bash'), fakeId, text], {
      env: {...process.env, BATS_TEST_DIRNAME: FIXTURES, API_STATE: state, SESSION_ID: sessionIdOnFake},
    })
    const queued = await h.call('POST', `/sessions/${session.id}/prompts`, {user: 'ada', body: {text}})
    expect(queued.status).to.equal(202)
    return {fake: fakeId, real: queued.body.id}
  }

  it('bootstrap: the token and password once, then 409; a proof of another task 403', async () => {
    const other = await h.call('POST', '/sessions', {user: 'ada', body: {repo: REPO}})
    const bootstrap = async (fakeAuth: string, realCaller: string): Promise<[Answer, Answer]> => {
      const fakeAnswer = await fetch(`${fakeUrl}/agent/sessions/${sessionIdOnFake}/bootstrap`, {method: 'POST', headers: {authorization: fakeAuth}})
      const real = await h.call('POST', `/agent/sessions/${other.body.id}/bootstrap`, {user: realCaller})
      const text = await fakeAnswer.text()
      return [{status: fakeAnswer.status, body: text ? JSON.parse(text) : undefined}, real]
    }
    const [wrongFake, wrongReal] = await bootstrap('Bearer not-the-nonce', taskRoleCaller('arn:aws:ecs:us-east-1:123456789012:task/devflow/0123'))
    expectSameAnswer(wrongFake, wrongReal, 'POST bootstrap (another task)')
    const [firstFake, firstReal] = await bootstrap('Bearer bootstrap-nonce', taskRoleCaller(other.body.taskArn))
    expectSameAnswer(firstFake, firstReal, 'POST bootstrap')
    expect(Object.keys(firstFake.body).sort()).to.deep.equal(['editorPassword', 'token'])
    const [againFake, againReal] = await bootstrap('Bearer bootstrap-nonce', taskRoleCaller(other.body.taskArn))
    expectSameAnswer(againFake, againReal, 'POST bootstrap (again)')
  })

  it('heartbeat', async () => {
    const [fakeAnswer, real] = await both('POST', 'heartbeat', {state: 'idle'})
    expectSameAnswer(fakeAnswer, real, 'POST heartbeat')
    expect(fakeAnswer.body).to.deep.equal(real.body)
  })

  it('prompts/next: the claimed prompt, then 204 when none is queued', async () => {
    const ids = await queuePrompt('Add a health check')
    const [fakeAnswer, real] = await both('GET', 'prompts/next?wait=0')
    expectSameAnswer(fakeAnswer, real, 'GET prompts/next')
    expect([fakeAnswer.body.id, real.body.id]).to.deep.equal([ids.fake, ids.real])
    expect(fakeAnswer.body).to.include({status: 'RUNNING', text: 'Add a health check', attempt: 1})
    const [noneFake, noneReal] = await both('GET', 'prompts/next?wait=0')
    expectSameAnswer(noneFake, noneReal, 'GET prompts/next (empty)')
  })

  it('events, then result, then the result repeated (the first stands) and a different one refused', async () => {
    const ids = await queuePrompt('Write docs')
    await both('GET', 'prompts/next?wait=0')
    const events = {events: [{type: 'log', text: 'reading the code'}, {type: 'tool', data: {name: 'edit'}}]}
    const [eventsFake, eventsReal] = await both('POST', 'prompts/{prompt}/events', events, ids)
    expectSameAnswer(eventsFake, eventsReal, 'POST events')
    expect(eventsFake.body.accepted).to.equal(eventsReal.body.accepted)
    const [emptyFake, emptyReal] = await both('POST', 'prompts/{prompt}/events', {events: []}, ids)
    expectSameAnswer(emptyFake, emptyReal, 'POST events (none)')

    const result = {status: 'SUCCEEDED', summary: 'Wrote the docs.', branch: 'devflow/docs', commit: 'abc1234', turns: 2, costUsd: 0.05}
    const [resultFake, resultReal] = await both('POST', 'prompts/{prompt}/result', result, ids)
    expectSameAnswer(resultFake, resultReal, 'POST result')
    expect(resultFake.body.status).to.equal('SUCCEEDED')
    const [againFake, againReal] = await both('POST', 'prompts/{prompt}/result', result, ids)
    expectSameAnswer(againFake, againReal, 'POST result (repeated)')
    const otherwise = {status: 'FAILED', summary: 'Changed its mind.', error: {code: 'AGENT_FAILED', message: 'no'}}
    const [changedFake, changedReal] = await both('POST', 'prompts/{prompt}/result', otherwise, ids)
    expectSameAnswer(changedFake, changedReal, 'POST result (another status)')
  })

  it('github-token', async () => {
    const [fakeAnswer, real] = await both('POST', 'github-token')
    expectSameAnswer(fakeAnswer, real, 'POST github-token')
    expect(Object.keys(fakeAnswer.body).sort()).to.deep.equal(['expiresAt', 'token'])
  })

  it('a wrong session token', async () => {
    for (const [method, route] of [
      ['POST', 'heartbeat'],
      ['GET', 'prompts/next?wait=0'],
      ['POST', 'github-token'],
    ]) {
      const [fakeAnswer, real] = await both(method, route, undefined, {}, {fake: 'wrong', real: 'wrong'})
      expectSameAnswer(fakeAnswer, real, `${method} ${route} with a wrong token`)
    }
  })

  // Last: it ends the real session.
  it('an ended session (the fake\'s `gone`): what every route answers the agent of a stopped session', async () => {
    const ids = await queuePrompt('Interrupted work')
    await both('GET', 'prompts/next?wait=0')
    const stopped = await h.call('DELETE', `/sessions/${session.id}`, {user: 'ada'})
    expect(stopped.status).to.equal(200)
    writeFileSync(join(state, 'gone'), '')
    for (const [method, route, body] of [
      ['POST', 'heartbeat', {state: 'idle'}],
      ['GET', 'prompts/next?wait=0', undefined],
      ['POST', 'github-token', undefined],
      ['POST', 'prompts/{prompt}/events', {events: [{type: 'log', text: 'still here'}]}],
      ['POST', 'prompts/{prompt}/result', {status: 'SUCCEEDED', summary: 'Done anyway.'}],
    ] as const) {
      const [fakeAnswer, real] = await both(method, route, body, ids)
      expectSameAnswer(fakeAnswer, real, `${method} ${route} after the stop`)
    }
    const [heartbeatFake] = await both('POST', 'heartbeat', {state: 'idle'})
    expect(heartbeatFake).to.deep.include({status: 409})
    expect(heartbeatFake.body.error.code).to.equal('SESSION_ENDED')
  })
})
