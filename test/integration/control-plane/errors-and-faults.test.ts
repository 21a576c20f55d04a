import {DynamoDBClient} from '@aws-sdk/client-dynamodb'
import {DynamoDBDocumentClient} from '@aws-sdk/lib-dynamodb'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {expect} from 'chai'

import {DynamoSessionStore} from '../../../src/adapters/aws/dynamo-session-store.js'
import {MAX_PROMPT_BYTES} from '../../../src/core/session-api.js'
import {TEST_REGION} from '../../helpers/moto.js'
import {type CallOptions, REPO, runtimeWith, TABLES, usePlatform} from '../../helpers/platform-fixture.js'

const ALICE = 'arn:aws:iam::123456789012:user/alice'

describe('control plane: errors, concurrency and faults on moto', function () {
  this.timeout(60_000)
  const h = usePlatform()
  afterEach(() => h.rewire(() => ({})))

  async function snapshot() {
    return {
      sessions: await h.scan('sessions'),
      prompts: await h.scan('prompts'),
      events: await h.scan('events'),
      tasks: (await h.tasks()).map((t) => `${t.taskArn} ${t.desiredStatus}`),
    }
  }

  async function runningSession(user = ALICE): Promise<{id: string; token: string}> {
    const started = await h.call('POST', '/sessions', {user, body: {repo: REPO}})
    expect(started.status, JSON.stringify(started.body)).to.equal(201)
    const {token} = await h.bootstrap(started.body.id, started.body.taskArn)
    return {id: started.body.id, token}
  }

  it('refuses bad requests with the right status and code, and changes nothing', async () => {
    const {id, token} = await runningSession()
    const other = await runningSession('bob')
    const stopped = await runningSession()
    await h.call('DELETE', `/sessions/${stopped.id}`, {user: ALICE})
    const prompt = await h.call('POST', `/sessions/${id}/prompts`, {user: ALICE, body: {text: 'hello'}})
    const before = await snapshot()

    const cases: Array<[string, string, CallOptions, number, string]> = [
      ['POST', '/sessions', {user: ALICE, rawBody: '{"repo": '}, 400, 'INVALID_JSON'],
      ['POST', '/sessions', {user: ALICE, body: {}}, 400, 'INVALID_REQUEST'],
      ['POST', '/sessions', {user: ALICE, body: {repo: REPO, colour: 'red'}}, 400, 'INVALID_REQUEST'],
      ['POST', '/sessions', {user: ALICE, body: {repo: 'not a repo'}}, 400, 'INVALID_REPO'],
      ['POST', '/sessions', {user: ALICE, body: {repo: REPO, branch: 'bad..branch'}}, 400, 'INVALID_BRANCH'],
      ['POST', '/sessions', {user: ALICE, body: {repo: REPO, cpu: 3}}, 400, 'INVALID_CPU'],
      ['POST', '/sessions', {user: ALICE, body: {repo: REPO, ttl: '30d'}}, 400, 'TTL_TOO_LONG'],
      ['POST', '/sessions', {user: ALICE, body: {repo: 'octo/not-installed'}}, 404, 'REPO_NOT_ACCESSIBLE'],
      ['POST', '/sessions', {body: {repo: REPO}}, 401, 'UNAUTHENTICATED'],
      ['GET', '/sessions/s-aaaaaaaaaaaaaaaaaaaa', {user: ALICE}, 404, 'SESSION_NOT_FOUND'],
      ['GET', '/sessions/nope', {user: ALICE}, 400, 'INVALID_SESSION_ID'],
      ['GET', `/sessions/${other.id}`, {user: ALICE}, 404, 'SESSION_NOT_FOUND'],
      ['DELETE', `/sessions/${other.id}`, {user: ALICE}, 404, 'SESSION_NOT_FOUND'],
      ['GET', `/sessions/${other.id}/editor`, {user: ALICE}, 404, 'SESSION_NOT_FOUND'],
      ['POST', `/sessions/${other.id}/prompts`, {user: ALICE, body: {text: 'x'}}, 404, 'SESSION_NOT_FOUND'],
      ['POST', `/sessions/${stopped.id}/prompts`, {user: ALICE, body: {text: 'x'}}, 409, 'SESSION_WRONG_STATE'],
      ['POST', `/sessions/${id}/prompts`, {user: ALICE, body: {text: 'x'.repeat(MAX_PROMPT_BYTES + 1)}}, 413, 'PROMPT_TOO_LARGE'],
      ['POST', `/sessions/${id}/prompts`, {user: ALICE, body: {text: 'x', pr: 'maybe'}}, 400, 'INVALID_REQUEST'],
      ['GET', `/sessions/${id}/prompts/p-aaaaaaaaaaaaaaaaaaaa`, {user: ALICE}, 404, 'PROMPT_NOT_FOUND'],
      ['GET', `/sessions/${id}/prompts/${prompt.body.id}/events?after=x`, {user: ALICE}, 400, 'INVALID_PARAMETER'],
      ['GET', '/sessions?nextToken=garbage', {user: ALICE}, 400, 'INVALID_NEXT_TOKEN'],
      ['GET', '/nowhere', {user: ALICE}, 404, 'ROUTE_NOT_FOUND'],
      ['PUT', '/sessions', {user: ALICE}, 405, 'METHOD_NOT_ALLOWED'],
      ['GET', `/agent/sessions/${id}/prompts/next?wait=0`, {}, 401, 'AGENT_TOKEN_INVALID'],
      ['GET', `/agent/sessions/${id}/prompts/next?wait=0`, {token: other.token}, 401, 'AGENT_TOKEN_INVALID'],
      ['POST', `/agent/sessions/${id}/heartbeat`, {token: 'wrong'}, 401, 'AGENT_TOKEN_INVALID'],
      ['GET', `/agent/sessions/${id}/prompts/next?wait=60`, {token}, 400, 'INVALID_WAIT'],
      ['POST', `/agent/sessions/${id}/prompts/${prompt.body.id}/events`, {token, body: {events: []}}, 400, 'INVALID_REQUEST'],
      ['POST', `/agent/sessions/${id}/prompts/${prompt.body.id}/events`, {token, body: {events: [{type: 'log'}]}}, 409, 'PROMPT_WRONG_STATE'],
      ['POST', `/agent/sessions/${id}/prompts/${prompt.body.id}/result`, {token, body: {status: 'DONE', summary: ''}}, 400, 'INVALID_REQUEST'],
      ['POST', `/agent/sessions/${id}/heartbeat`, {token, rawBody: 'nope'}, 400, 'INVALID_JSON'],
    ]
    for (const [method, path, options, status, code] of cases) {
      const response = await h.call(method, path, options)
      expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).to.equal(status)
      expect(response.body.error.code, `${method} ${path}`).to.equal(code)
      expect(response.body.error.message).to.be.a('string').and.not.equal('')
      expect(response.body.error.hint).to.be.a('string').and.not.equal('')
    }
    expect(await snapshot()).to.deep.equal(before)
  })

  it('starts one session and one task for 20 concurrent starts with one idempotency key', async () => {
    const before = (await h.tasks()).length
    const responses = await Promise.all(
      Array.from({length: 20}, () => h.call('POST', '/sessions', {user: 'erin', body: {repo: REPO, idempotencyKey: 'ci-run-42'}})),
    )
    const ids = new Set(responses.map((r) => r.body.id))
    expect(ids.size, JSON.stringify(responses.map((r) => r.body))).to.equal(1)
    expect(responses.filter((r) => r.status === 201)).to.have.length(1)
    expect(responses.filter((r) => r.status === 200)).to.have.length(19)
    expect((await h.tasks()).length - before).to.equal(1)
    expect((await h.scan('sessions')).filter((item) => item.user_id === 'erin')).to.have.length(1)
    // The same key from another user is another session.
    const other = await h.call('POST', '/sessions', {user: 'frank', body: {repo: REPO, idempotencyKey: 'ci-run-42'}})
    expect(other.status).to.equal(201)
    expect(other.body.id).not.to.equal([...ids][0])
  })

  it('hands each of 20 prompts to exactly one of 20 concurrent claims', async () => {
    const {id, token} = await runningSession('gina')
    for (let i = 0; i < 20; i++) await h.call('POST', `/sessions/${id}/prompts`, {user: 'gina', body: {text: `task ${i}`}})
    const claims = await Promise.all(Array.from({length: 20}, () => h.call('GET', `/agent/sessions/${id}/prompts/next?wait=5`, {token})))
    expect(claims.map((c) => c.status)).to.deep.equal(Array(20).fill(200))
    const claimed = claims.map((c) => c.body.seq).sort((a, b) => a - b)
    expect(claimed).to.deep.equal(Array.from({length: 20}, (_, i) => i + 1))
    const items = await h.scan('prompts')
    expect(items.filter((p) => p.session_id === id).every((p) => p.status === 'RUNNING' && p.attempt === 1)).to.equal(true)
  })

  it('re-queues a prompt whose lease expired, then fails it after the retry limit', async () => {
    const {id, token} = await runningSession('hugo')
    const queued = await h.call('POST', `/sessions/${id}/prompts`, {user: 'hugo', body: {text: 'long job'}})
    const lease = h.deps.settings.promptLeaseSeconds * 1000
    for (let attempt = 1; attempt <= h.deps.settings.maxPromptAttempts; attempt++) {
      const claim = await h.call('GET', `/agent/sessions/${id}/prompts/next?wait=0`, {token})
      expect(claim.status).to.equal(200)
      expect(claim.body).to.include({id: queued.body.id, attempt})
      h.advance(lease + 1000)
    }
    const none = await h.call('GET', `/agent/sessions/${id}/prompts/next?wait=0`, {token})
    expect(none.status).to.equal(204)
    const failed = await h.call('GET', `/sessions/${id}/prompts/${queued.body.id}`, {user: 'hugo'})
    expect(failed.body.status).to.equal('FAILED')
    expect(failed.body.error.code).to.equal('PROMPT_LEASE_EXPIRED')
  })

  it('falls back to on-demand FARGATE when Spot has no capacity', async () => {
    h.rewire((deps) => ({
      settings: {...deps.settings, defaultCapacity: 'FARGATE_SPOT'},
      runtime: runtimeWith(h, (real) => ({
        ...real,
        // moto rejects any capacityProviderStrategy: the Spot answer is injected, the fallback is real.
        runTask: async (input) =>
          input.capacityProviderStrategy
            ? {$metadata: {}, tasks: [], failures: [{reason: 'Capacity is unavailable at this time. Please try again later or in a different availability zone'}]}
            : real.runTask(input),
      }), {realPlacement: true}),
    }))
    const started = await h.call('POST', '/sessions', {user: 'ivan', body: {repo: REPO}})
    expect(started.status, JSON.stringify(started.body)).to.equal(201)
    expect(started.body.capacity).to.equal('FARGATE')
    const task = (await h.tasks()).find((t) => t.taskArn === started.body.taskArn)
    expect(task?.launchType).to.equal('FARGATE')
  })

  it('marks the session FAILED with the reason and leaves no task when RunTask fails', async () => {
    const before = await h.tasks()
    h.rewire(() => ({
      runtime: runtimeWith(h, (real) => ({
        ...real,
        runTask: async () => ({$metadata: {}, tasks: [], failures: [{arn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/x', reason: 'MISSING'}]}),
      })),
    }))
    const response = await h.call('POST', '/sessions', {user: 'judy', body: {repo: REPO}})
    expect(response.status).to.equal(502)
    expect(response.body.error.code).to.equal('TASK_START_FAILED')
    expect(response.body.error.message).to.include('MISSING')
    expect(await h.tasks()).to.deep.equal(before)
    const items = (await h.scan('sessions')).filter((item) => item.user_id === 'judy')
    expect(items).to.have.length(1)
    expect(items[0].status).to.equal('FAILED')
    expect(items[0].error).to.deep.include({code: 'TASK_START_FAILED'})
  })

  it('answers a clear error and starts nothing when GitHub fails', async () => {
    const before = await snapshot()
    h.github.failNext(/access_tokens$/, 502)
    const response = await h.call('POST', '/sessions', {user: 'kate', body: {repo: REPO}})
    expect(response.status).to.equal(502)
    expect(response.body.error.code).to.equal('GITHUB_UNAVAILABLE')
    expect(response.body.error.hint).to.match(/githubstatus/)
    expect(await snapshot()).to.deep.equal(before)
  })

  it('retries DynamoDB throttling, and reports it clearly when it persists', async () => {
    // A proxy in front of moto that answers the first `failures` calls the way DynamoDB throttles.
    let failures = 0
    let throttled = 0
    const proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      if (failures > 0) {
        failures--
        throttled++
        res.writeHead(400, {'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': 'ProvisionedThroughputExceededException'})
        res.end(JSON.stringify({__type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'Rate exceeded'}))
        return
      }
      const upstream = await fetch(`${h.moto.url}${req.url}`, {method: req.method, headers: req.headers as Record<string, string>, body: Buffer.concat(chunks)})
      res.writeHead(upstream.status, Object.fromEntries(upstream.headers))
      res.end(Buffer.from(await upstream.arrayBuffer()))
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    const store = (maxAttempts: number) =>
      new DynamoSessionStore(DynamoDBDocumentClient.from(new DynamoDBClient({region: TEST_REGION, endpoint, maxAttempts})), TABLES.sessions)
    try {
      const {id} = await runningSession('liam')
      failures = 2
      expect((await store(3).get(id))?.id).to.equal(id)
      expect(throttled).to.equal(2)

      failures = 5
      const error = await store(2).get(id).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).to.include({code: 'AWS_THROTTLED', kind: 'unavailable'})
    } finally {
      proxy.close()
    }
  })
})
