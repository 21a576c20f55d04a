/**
 * Issue 11, defects 2, 3 and 4 on moto: the RunTask request as ECS recorded it (the container
 * follows the session's size, no secret in the overrides, owner and session tags), the bootstrap
 * route that hands the token and password to the session's own task once, and stable owners.
 */
import {createHash} from 'node:crypto'

import {DescribeTasksCommand} from '@aws-sdk/client-ecs'
import {expect} from 'chai'

import {CLUSTER, REPO, taskRoleCaller, TASK_ROLE_ARN, usePlatform} from '../../helpers/platform-fixture.js'

const SSO_USER = 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/ada@example.com'

describe('control plane: workspace identity (RunTask request, bootstrap, owners)', function () {
  this.timeout(60_000)
  const h = usePlatform()

  const start = async (user: string, body: Record<string, unknown> = {}) => {
    const started = await h.call('POST', '/sessions', {user, body: {repo: REPO, ...body}})
    expect(started.status, JSON.stringify(started.body)).to.equal(201)
    return started.body as {id: string; taskArn: string; cpu: number; memory: number; userId: string}
  }
  const taskOf = async (taskArn: string) => (await h.tasks()).find((t) => t.taskArn === taskArn)

  for (const [request, cpu, memory] of [
    [{cpu: 512, memory: 1024}, 512, 1024],
    [{cpu: 2, memory: '8GB'}, 2048, 8192],
    [{}, 1024, 4096],
  ] as const) {
    it(`sizes the workspace container as the task: ${JSON.stringify(request)} -> ${cpu} CPU units, ${memory} MiB`, async () => {
      const session = await start('arn:aws:iam::123456789012:user/sizer', request)
      const task = await taskOf(session.taskArn)
      expect(task?.overrides).to.deep.include({cpu: String(cpu), memory: String(memory)})
      const container = task?.overrides?.containerOverrides?.find((c) => c.name === 'workspace')
      expect(container).to.include({cpu, memory, memoryReservation: memory})
    })
  }

  it('puts no secret in the RunTask request and tags the task with its owner and session', async () => {
    const session = await start(SSO_USER)
    const before = JSON.stringify(await taskOf(session.taskArn))
    const secrets = await h.bootstrap(session.id, session.taskArn)
    const task = await taskOf(session.taskArn)
    const recorded = JSON.stringify(task)
    for (const secret of [secrets.token, secrets.editorPassword]) {
      expect(before).not.to.include(secret)
      expect(recorded).not.to.include(secret)
    }
    const names = task?.overrides?.containerOverrides?.flatMap((c) => c.environment ?? []).map((e) => e.name)
    expect(names).to.have.members(['SESSION_ID', 'REPO', 'BRANCH', 'DEVFLOW_API_URL', 'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL'])
    const tagged = await h.ecs.send(new DescribeTasksCommand({cluster: CLUSTER, tasks: [session.taskArn], include: ['TAGS']}))
    expect(tagged.tasks?.[0]?.tags).to.deep.include.members([
      {key: 'devflow:owner', value: SSO_USER},
      {key: 'devflow:session', value: session.id},
    ])
  })

  it('answers the token and password once, to the session\'s own task only', async () => {
    const session = await start('arn:aws:iam::123456789012:user/bootstrapper')
    const other = await start('arn:aws:iam::123456789012:user/bootstrapper')
    const url = `/agent/sessions/${session.id}/bootstrap`
    const taskId = session.taskArn.split('/').at(-1)
    const refusals: Array<[string | undefined, number, string]> = [
      [undefined, 401, 'BOOTSTRAP_PROOF_MISSING'],
      // Another task's role session, the right task id under another role, a user, another account.
      [taskRoleCaller(other.taskArn), 403, 'BOOTSTRAP_REFUSED'],
      [`arn:aws:sts::123456789012:assumed-role/some-other-role/${taskId}`, 403, 'BOOTSTRAP_REFUSED'],
      ['arn:aws:iam::123456789012:user/bootstrapper', 403, 'BOOTSTRAP_REFUSED'],
      [`arn:aws:sts::210987654321:assumed-role/${TASK_ROLE_ARN.split('/').at(-1)}/${taskId}`, 403, 'BOOTSTRAP_REFUSED'],
    ]
    for (const [user, status, code] of refusals) {
      const refused = await h.call('POST', url, {user})
      expect([refused.status, refused.body.error.code], `as ${user}`).to.deep.equal([status, code])
    }
    // A nonce is not accepted in place of a task role by a platform whose runtime hands out none: its hash is of a secret no task got.
    expect((await h.call('POST', url, {token: 'a-guessed-nonce'})).status).to.equal(403)
    // Until the task bootstrapped, no bearer token opens the agent routes.
    expect((await h.call('POST', `/agent/sessions/${session.id}/heartbeat`, {token: '', body: {}})).status).to.equal(401)

    // Two racing calls from the task: one gets the secrets, the other is refused.
    const answers = await Promise.all([h.call('POST', url, {user: taskRoleCaller(session.taskArn)}), h.call('POST', url, {user: taskRoleCaller(session.taskArn)})])
    const statuses = answers.map((a) => a.status).sort()
    expect(statuses).to.deep.equal([200, 409])
    const winner = answers.find((a) => a.status === 200)?.body
    expect(answers.find((a) => a.status === 409)?.body.error.code).to.equal('BOOTSTRAP_USED')
    const [item] = (await h.scan('sessions')).filter((i) => i.session_id === session.id)
    expect(item.agent_token_hash).to.equal(createHash('sha256').update(winner.token).digest('hex'))
    expect(item.bootstrapped_at).to.be.a('string')
    const beat = await h.call('POST', `/agent/sessions/${session.id}/heartbeat`, {token: winner.token, body: {}})
    expect(beat.status).to.equal(200)
    const editor = await h.call('GET', `/sessions/${session.id}/editor`, {user: 'arn:aws:iam::123456789012:user/bootstrapper'})
    expect(editor.body.password).to.equal(winner.editorPassword)

    await h.call('DELETE', `/sessions/${other.id}`, {user: 'arn:aws:iam::123456789012:user/bootstrapper'})
    const ended = await h.call('POST', `/agent/sessions/${other.id}/bootstrap`, {user: taskRoleCaller(other.taskArn)})
    expect([ended.status, ended.body.error.code]).to.deep.equal([409, 'SESSION_ENDED'])
  })

  describe('owners from the caller identity API Gateway reports (requestContext.identity.userArn)', () => {
    for (const generated of ['aws-sdk-js-1733069912345', 'botocore-session-1733069912', 'aws-go-sdk-1733069912345678901']) {
      it(`refuses an assumed role whose session name the SDK generated (${generated}) with the fix, and writes nothing`, async () => {
        const before = (await h.scan('sessions')).length
        const caller = `arn:aws:sts::123456789012:assumed-role/DevflowDeveloper/${generated}`
        const refused = await h.call('POST', '/sessions', {user: caller, body: {repo: REPO}})
        expect(refused.status).to.equal(403)
        expect(refused.body.error.code).to.equal('UNSTABLE_ROLE_SESSION_NAME')
        expect(refused.body.error.hint).to.match(/role_session_name/)
        expect((await h.call('GET', '/sessions', {user: caller})).status).to.equal(403)
        expect((await h.scan('sessions')).length).to.equal(before)
      })
    }

    for (const caller of [SSO_USER, 'arn:aws:sts::123456789012:assumed-role/DevflowDeveloper/ada', 'arn:aws:iam::123456789012:user/path/ada']) {
      it(`keeps a stable principal as the owner across calls: ${caller}`, async () => {
        const session = await start(caller)
        expect(session.userId).to.equal(caller)
        const status = await h.call('GET', `/sessions/${session.id}`, {user: caller})
        expect(status.status).to.equal(200)
        const listed = await h.call('GET', '/sessions', {user: caller})
        expect(listed.body.items.map((s: {id: string}) => s.id)).to.include(session.id)
      })
    }
  })
})
