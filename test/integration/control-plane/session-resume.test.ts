/**
 * `POST /sessions/{id}/resume` and the checkpoint routes on moto, through the router over the real
 * AWS adapters: the conversation lands in the stage's bucket SSE-KMS encrypted under the session's
 * key, the resumed session is the same item with a new task, the refusals, and a Spot
 * interruption recorded as stopReason SPOT (ECS's stopCode, which moto never reports, injected).
 */
import {GetObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {StopTaskCommand} from '@aws-sdk/client-ecs'
import {expect} from 'chai'

import {conversationKey} from '../../../src/core/deployment.js'
import {TEST_REGION} from '../../helpers/moto.js'
import {CLUSTER, CONVERSATIONS_BUCKET, REPO, runtimeWith, taskRoleCaller, usePlatform} from '../../helpers/platform-fixture.js'

const OWNER = 'arn:aws:iam::123456789012:user/resumer'
const OTHER = 'arn:aws:iam::123456789012:user/someone-else'
const CLAUDE_ID = '0b6f3c1e-2a4d-4e8f-9c71-5d2e8a1b3f40'

describe('control plane: session resume and checkpoints on moto', function () {
  this.timeout(60_000)
  const h = usePlatform()
  afterEach(() => h.rewire(() => ({})))

  /** A session whose workspace ran: started, bootstrapped by its task, its agent's first heartbeat. */
  const runningSession = async () => {
    const started = await h.call('POST', '/sessions', {user: OWNER, body: {repo: REPO}})
    expect(started.status, JSON.stringify(started.body)).to.equal(201)
    const {token} = await h.bootstrap(started.body.id, started.body.taskArn)
    expect((await h.call('POST', `/agent/sessions/${started.body.id}/heartbeat`, {token, body: {}})).status).to.equal(200)
    return started.body as {id: string; taskArn: string}
  }

  it('saves the checkpoint and the conversation (SSE-KMS, under the session\'s key), and resumes the same session with a new task that restores them', async () => {
    const session = await runningSession()
    const stopped = await h.call('DELETE', `/sessions/${session.id}`, {user: OWNER})
    expect(stopped.body).to.include({status: 'STOPPED', stopReason: 'USER'})

    const checkpoint = {branch: `devflow/${session.id}`, commit: 'abc1234def567', claudeSessionId: CLAUDE_ID}
    const url = `/agent/sessions/${session.id}/checkpoint`
    expect((await h.call('POST', url, {body: checkpoint})).body.error.code).to.equal('CHECKPOINT_PROOF_MISSING')
    expect((await h.call('POST', url, {user: OWNER, body: checkpoint})).body.error.code).to.equal('CHECKPOINT_REFUSED')
    expect((await h.call('POST', url, {user: taskRoleCaller(session.taskArn), body: {...checkpoint, commit: 'not a sha'}})).status).to.equal(400)
    const saved = await h.call('POST', url, {user: taskRoleCaller(session.taskArn), body: checkpoint})
    expect(saved.status, JSON.stringify(saved.body)).to.equal(200)
    const transcript = '{"type":"user","message":{"role":"user","content":"Create hello.txt"}}\n'
    const put = await fetch(saved.body.upload.url, {method: 'PUT', headers: saved.body.upload.headers, body: transcript})
    expect(put.status, await put.text()).to.equal(200)

    // What landed in the bucket: the session's one object, encrypted with the bucket's KMS key.
    const s3 = new S3Client({region: TEST_REGION, endpoint: h.moto.url, forcePathStyle: true, credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'}})
    const object = await s3.send(new GetObjectCommand({Bucket: CONVERSATIONS_BUCKET, Key: conversationKey(session.id)}))
    expect(await object.Body?.transformToString()).to.equal(transcript)
    expect(object.ServerSideEncryption).to.equal('aws:kms')
    expect(object.SSEKMSKeyId).to.include(h.secrets.conversationsKey.split('/').at(-1))
    s3.destroy()

    expect((await h.call('POST', `/sessions/${session.id}/resume`, {user: OTHER})).status).to.equal(404)
    const resumed = await h.call('POST', `/sessions/${session.id}/resume`, {user: OWNER})
    expect(resumed.status, JSON.stringify(resumed.body)).to.equal(200)
    expect(resumed.body).to.include({id: session.id, status: 'PROVISIONING', resumeCount: 1})
    expect(resumed.body).not.to.have.property('stopReason')
    expect(resumed.body.checkpoint).to.include({branch: checkpoint.branch, commit: checkpoint.commit, conversation: true})
    expect(resumed.body.taskArn).to.not.equal(session.taskArn)
    const [item] = (await h.scan('sessions')).filter((i) => i.session_id === session.id)
    expect(item).to.include({status: 'PROVISIONING', resume_count: 1, task_arn: resumed.body.taskArn})
    expect(item).not.to.have.property('bootstrapped_at')

    // The old task no longer proves anything; the new one bootstraps afresh and gets the checkpoint.
    expect((await h.call('GET', url, {user: taskRoleCaller(session.taskArn)})).body.error.code).to.equal('CHECKPOINT_REFUSED')
    await h.bootstrap(session.id, resumed.body.taskArn)
    const restored = await h.call('GET', url, {user: taskRoleCaller(resumed.body.taskArn)})
    expect(restored.status, JSON.stringify(restored.body)).to.equal(200)
    expect(restored.body.checkpoint).to.include({claudeSessionId: CLAUDE_ID})
    expect(await (await fetch(restored.body.download.url)).text()).to.equal(transcript)
    const prompts = await h.call('GET', `/sessions/${session.id}/prompts`, {user: OWNER})
    expect(prompts.status).to.equal(200)
  })

  it('refuses a RUNNING session and one whose workspace never started, changing nothing', async () => {
    const running = await runningSession()
    const refused = await h.call('POST', `/sessions/${running.id}/resume`, {user: OWNER})
    expect([refused.status, refused.body.error.code]).to.deep.equal([409, 'SESSION_NOT_STOPPED'])

    const never = await h.call('POST', '/sessions', {user: OWNER, body: {repo: REPO}})
    await h.call('DELETE', `/sessions/${never.body.id}`, {user: OWNER})
    const before = (await h.scan('sessions')).find((i) => i.session_id === never.body.id)
    const notResumable = await h.call('POST', `/sessions/${never.body.id}/resume`, {user: OWNER})
    expect([notResumable.status, notResumable.body.error.code]).to.deep.equal([409, 'SESSION_NOT_RESUMABLE'])
    expect(notResumable.body.error.hint).to.include(`devflow session start --repo ${REPO}`)
    expect((await h.scan('sessions')).find((i) => i.session_id === never.body.id)).to.deep.equal(before)
    await h.call('DELETE', `/sessions/${running.id}`, {user: OWNER})
  })

  it('records a Spot interruption as stopReason SPOT, STOPPED and resumable', async () => {
    const session = await runningSession()
    // ECS stops a reclaimed Spot task itself; moto reports no stopCode, so the one ECS sets is added.
    await h.ecs.send(new StopTaskCommand({cluster: CLUSTER, task: session.taskArn, reason: 'Your Spot Task was interrupted.'}))
    h.rewire(() => ({
      runtime: runtimeWith(h, (real) => ({
        ...real,
        describeTasks: async (input) => {
          const out = await real.describeTasks(input)
          return {...out, tasks: out.tasks?.map((t) => (t.taskArn === session.taskArn ? {...t, stopCode: 'SpotInterruption'} : t))}
        },
      })),
    }))
    const status = await h.call('GET', `/sessions/${session.id}`, {user: OWNER})
    expect(status.body).to.include({status: 'STOPPED', stopReason: 'SPOT'})
    expect(status.body.error).to.deep.equal({code: 'SPOT_INTERRUPTION', message: 'Your Spot Task was interrupted.'})
    h.rewire(() => ({}))
    const resumed = await h.call('POST', `/sessions/${session.id}/resume`, {user: OWNER})
    expect(resumed.status, JSON.stringify(resumed.body)).to.equal(200)
    expect(resumed.body).to.include({resumeCount: 1, status: 'PROVISIONING'})
    expect(resumed.body).not.to.have.property('error')
    await h.call('DELETE', `/sessions/${session.id}`, {user: OWNER})
  })
})
