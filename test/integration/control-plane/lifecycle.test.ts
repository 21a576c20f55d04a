import {createHash} from 'node:crypto'

import {GetItemCommand} from '@aws-sdk/client-dynamodb'
import {expect} from 'chai'

import {CLUSTER, REPO, runtimeWith, TABLES, usePlatform} from '../../helpers/platform-fixture.js'

function taskEnv(task: {overrides?: {containerOverrides?: Array<{name?: string; environment?: Array<{name?: string; value?: string}>}>}}): Record<string, string> {
  const container = task.overrides?.containerOverrides?.find((c) => c.name === 'workspace')
  return Object.fromEntries((container?.environment ?? []).map((e) => [e.name ?? '', e.value ?? '']))
}

describe('control plane: session lifecycle on moto', function () {
  this.timeout(60_000)
  const h = usePlatform()

  it('starts a session: item in DynamoDB, task in ECS with the workspace environment, then status and stop', async () => {
    const started = await h.call('POST', '/sessions', {user: 'arn:aws:iam::123456789012:user/alice', body: {repo: REPO, branch: 'main', cpu: 1, memory: '4GB', ttl: '2h'}})
    expect(started.status, JSON.stringify(started.body)).to.equal(201)
    const session = started.body
    // The emulator mode places Spot sessions on FARGATE and records the capacity they would have used.
    expect(session).to.include({repo: REPO, branch: 'main', status: 'PROVISIONING', capacity: 'FARGATE_SPOT', cpu: 1024, memory: 4096, userId: 'arn:aws:iam::123456789012:user/alice'})
    expect(session).not.to.have.property('agentTokenHash')

    // The GitHub token was minted for this one repository, before the task started.
    expect(h.github.issuedTokens).to.have.length(1)
    expect(h.github.issuedTokens[0]).to.deep.include({repositories: ['hello'], permissions: {contents: 'write'}})

    const item = (await h.dynamo.send(new GetItemCommand({TableName: TABLES.sessions, Key: {session_id: {S: session.id}}}))).Item
    expect(item?.status?.S).to.equal('PROVISIONING')
    expect(item?.user_id?.S).to.equal('arn:aws:iam::123456789012:user/alice')
    expect(item?.task_arn?.S).to.equal(session.taskArn)
    expect(Number(item?.ttl?.N)).to.be.greaterThan(Date.now() / 1000)

    const tasks = await h.tasks()
    expect(tasks).to.have.length(1)
    expect(tasks[0].taskArn).to.equal(session.taskArn)
    const env = taskEnv(tasks[0])
    expect(env).to.include({SESSION_ID: session.id, REPO, BRANCH: 'main', DEVFLOW_API_URL: h.server.url, GIT_AUTHOR_NAME: 'alice'})
    expect(env).not.to.have.any.keys('DEVFLOW_SESSION_TOKEN', 'EDITOR_PASSWORD')

    // The task's bootstrap call gets the token and the password; only the token's hash is stored.
    const secrets = await h.bootstrap(session.id, session.taskArn)
    expect(secrets.editorPassword).to.have.length.greaterThan(16)
    const bootstrapped = (await h.dynamo.send(new GetItemCommand({TableName: TABLES.sessions, Key: {session_id: {S: session.id}}}))).Item
    expect(bootstrapped?.agent_token_hash?.S).to.equal(createHash('sha256').update(secrets.token).digest('hex'))
    expect(JSON.stringify(bootstrapped)).not.to.include(secrets.token)
    const token = secrets.token

    // The agent's first heartbeat makes it RUNNING.
    const beat = await h.call('POST', `/agent/sessions/${session.id}/heartbeat`, {token, body: {state: 'idle'}})
    expect(beat).to.deep.equal({status: 200, body: {status: 'RUNNING'}})
    const status = await h.call('GET', `/sessions/${session.id}`, {user: 'arn:aws:iam::123456789012:user/alice'})
    expect(status.status).to.equal(200)
    expect(status.body.status).to.equal('RUNNING')

    const editor = await h.call('GET', `/sessions/${session.id}/editor`, {user: 'arn:aws:iam::123456789012:user/alice'})
    expect(editor.body).to.include({sessionId: session.id, status: 'RUNNING', cluster: CLUSTER, port: 8080, container: 'workspace', password: secrets.editorPassword})

    const list = await h.call('GET', '/sessions', {user: 'arn:aws:iam::123456789012:user/alice'})
    expect(list.body.items.map((s: {id: string}) => s.id)).to.deep.equal([session.id])
    const others = await h.call('GET', '/sessions', {user: 'bob'})
    expect(others.body.items).to.deep.equal([])

    const stopped = await h.call('DELETE', `/sessions/${session.id}`, {user: 'arn:aws:iam::123456789012:user/alice'})
    expect(stopped.status).to.equal(200)
    expect(stopped.body.status).to.equal('STOPPED')
    const [task] = await h.tasks()
    expect(task.desiredStatus).to.equal('STOPPED')
    const after = (await h.dynamo.send(new GetItemCommand({TableName: TABLES.sessions, Key: {session_id: {S: session.id}}}))).Item
    expect(after?.status?.S).to.equal('STOPPED')

    // Stopping again is fine; the agent of a stopped session is told to go away.
    const again = await h.call('DELETE', `/sessions/${session.id}`, {user: 'arn:aws:iam::123456789012:user/alice'})
    expect(again.status).to.equal(200)
    const lateBeat = await h.call('POST', `/agent/sessions/${session.id}/heartbeat`, {token})
    expect(lateBeat.status).to.equal(409)
    expect(lateBeat.body.error.code).to.equal('SESSION_ENDED')
  })

  it('ends a session whose task stopped by itself when it is read: STOPPED on exit 0, FAILED otherwise', async () => {
    const {StopTaskCommand} = await import('@aws-sdk/client-ecs')
    const clean = await h.call('POST', '/sessions', {user: 'carol', body: {repo: REPO}})
    expect(clean.status).to.equal(201)
    await h.ecs.send(new StopTaskCommand({cluster: CLUSTER, task: clean.body.taskArn, reason: 'Essential container in task exited'}))
    // moto reports exit code 0 for every container.
    const status = await h.call('GET', `/sessions/${clean.body.id}`, {user: 'carol'})
    expect(status.body.status).to.equal('STOPPED')
    expect(status.body.error).to.deep.equal({code: 'TASK_EXITED', message: 'Essential container in task exited'})

    // A crashed container (exit 137) is a fault moto cannot produce: injected around the real DescribeTasks.
    h.rewire(() => ({
      runtime: runtimeWith(h, (real) => ({
        ...real,
        describeTasks: async (input) => {
          const out = await real.describeTasks(input)
          return {...out, tasks: out.tasks?.map((t) => ({...t, containers: t.containers?.map((c) => ({...c, exitCode: 137}))}))}
        },
      })),
    }))
    try {
      const crashed = await h.call('POST', '/sessions', {user: 'carol', body: {repo: REPO}})
      await h.ecs.send(new StopTaskCommand({cluster: CLUSTER, task: crashed.body.taskArn, reason: 'OutOfMemoryError: Container killed due to memory usage'}))
      const failed = await h.call('GET', `/sessions/${crashed.body.id}`, {user: 'carol'})
      expect(failed.body.status, JSON.stringify(failed.body)).to.equal('FAILED')
      expect(failed.body.error).to.deep.equal({code: 'TASK_STOPPED', message: 'OutOfMemoryError: Container killed due to memory usage'})
    } finally {
      h.rewire(() => ({}))
    }
  })

  it('runs the prompt channel: queue, claim, events with a cursor, result with a pull request', async () => {
    const started = await h.call('POST', '/sessions', {user: 'dave', body: {repo: REPO}})
    const id = started.body.id
    const {token} = await h.bootstrap(id, started.body.taskArn)
    await h.call('POST', `/agent/sessions/${id}/heartbeat`, {token, body: {state: 'working'}})

    const queued = await h.call('POST', `/sessions/${id}/prompts`, {user: 'dave', body: {text: 'Add a health endpoint', pr: 'draft'}})
    expect(queued.status).to.equal(202)
    expect(queued.body).to.include({seq: 1, status: 'QUEUED', pr: 'draft', text: 'Add a health endpoint'})

    const claimed = await h.call('GET', `/agent/sessions/${id}/prompts/next?wait=0`, {token})
    expect(claimed.status).to.equal(200)
    expect(claimed.body).to.include({id: queued.body.id, status: 'RUNNING', attempt: 1})
    const none = await h.call('GET', `/agent/sessions/${id}/prompts/next?wait=1`, {token})
    expect(none.status).to.equal(204)

    const events = await h.call('POST', `/agent/sessions/${id}/prompts/${queued.body.id}/events`, {
      token,
      body: {events: [{type: 'log', text: 'reading the code'}, {type: 'tool', data: {name: 'edit'}}, {type: 'log', text: 'tests pass'}]},
    })
    expect(events.body).to.deep.equal({accepted: 3, lastSeq: 3})
    const firstPage = await h.call('GET', `/sessions/${id}/prompts/${queued.body.id}/events?after=1`, {user: 'dave'})
    expect(firstPage.body.items.map((e: {seq: number; type: string}) => [e.seq, e.type])).to.deep.equal([
      [2, 'tool'],
      [3, 'log'],
    ])

    const result = await h.call('POST', `/agent/sessions/${id}/prompts/${queued.body.id}/result`, {
      token,
      body: {status: 'SUCCEEDED', summary: 'Added GET /health\n\nWith a test.', branch: 'devflow/health', commit: 'abc1234', turns: 4, costUsd: 0.12},
    })
    expect(result.status, JSON.stringify(result.body)).to.equal(200)
    expect(result.body.status).to.equal('SUCCEEDED')
    expect(result.body.result).to.include({summary: 'Added GET /health\n\nWith a test.', branch: 'devflow/health', commit: 'abc1234', prUrl: 'https://github.example/octo/hello/pull/1'})
    expect(h.github.pulls).to.have.length(1)
    expect(h.github.pulls[0]).to.include({head: 'devflow/health', base: 'main', title: 'Added GET /health', draft: true})

    const read = await h.call('GET', `/sessions/${id}/prompts/${queued.body.id}`, {user: 'dave'})
    expect(read.body.status).to.equal('SUCCEEDED')
    const prompts = await h.call('GET', `/sessions/${id}/prompts`, {user: 'dave'})
    expect(prompts.body.items).to.have.length(1)

    const ghToken = await h.call('POST', `/agent/sessions/${id}/github-token`, {token})
    expect(ghToken.status).to.equal(200)
    expect(ghToken.body.token).to.match(/^ghs_/)
    expect(h.github.issuedTokens.at(-1)?.repositories).to.deep.equal(['hello'])
  })

  it('answers GET /health with the version and dependency checks', async () => {
    const health = await h.call('GET', '/health', {user: 'alice'})
    expect(health.status).to.equal(200)
    expect(health.body).to.deep.equal({status: 'ok', version: '0.0.0-test', checks: {sessions: {status: 'ok'}, runtime: {status: 'ok'}}})
  })
})
