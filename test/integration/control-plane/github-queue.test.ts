/**
 * Issue 13, item 5: at most N sessions from GitHub per repository. A trigger beyond the limit
 * waits in the queue (items of the deliveries table on moto) with a comment that says so, and
 * starts, in order, when a session from GitHub of that repository ends: by `/devflow stop`, by
 * the reaper, or at the end of a reaper pass. Two drains racing never start one trigger twice.
 * Also item 3: a redelivery after a failed delivery does not queue a second prompt.
 *
 * Signed deliveries from @octokit/webhooks-examples over HTTP to the real router; the core on
 * moto; the fake GitHub for the App, the permissions, the issues and the comments.
 */
import {expect} from 'chai'

import {createCoreServices} from '../../../src/core/services/index.js'
import {type Delivery, delivery, issueComment, labelledIssue, postDelivery, pullRequestComment} from '../../helpers/github-deliveries.js'
import {QUEUE_LEASE_SECONDS} from '../../../src/core/github/queue.js'
import {CLUSTER, runtimeWith, taskRoleCaller, usePlatform, WEBHOOK_SECRET} from '../../helpers/platform-fixture.js'
import {TestAgent} from '../../helpers/test-agent.js'

const MAINTAINER = 'Codertocat'

describe('GitHub webhooks: the per-repository limit of sessions from GitHub, and its queue (moto, fake GitHub)', function () {
  this.timeout(120_000)
  const h = usePlatform()
  let repoCount = 0

  /** A repository of its own for each test, so the sessions of one do not count for another. */
  function freshRepo(): string {
    const repo = `Codertocat/queue-${++repoCount}`
    h.github.install(repo)
    h.github.issues.addCollaborator(repo, MAINTAINER, 'admin')
    return repo
  }

  function withLimit(limit: number): void {
    h.rewire((deps) => ({github: {...deps.github!, maxSessionsPerRepo: limit}}))
  }

  afterEach(function () {
    h.rewire(() => ({}))
  })

  const send = (d: Delivery) => postDelivery(h.server.url, d, WEBHOOK_SECRET)

  async function label(repo: string, title: string) {
    const issue = h.github.issues.openIssue(repo, {title, body: `Do ${title}.`, author: MAINTAINER, labels: ['devflow']})
    const d = delivery('issues', labelledIssue(repo, issue, MAINTAINER))
    const received = await send(d)
    expect(received.status, JSON.stringify(received.body)).to.equal(202)
    return {issue, delivery: d, received}
  }

  async function sessionsOf(repo: string) {
    return (await h.scan('sessions')).filter((s) => s.repo === repo)
  }

  async function sessionOfIssue(repo: string, issue: number) {
    return (await sessionsOf(repo)).find((s) => (s.source as {issue?: number} | undefined)?.issue === issue)
  }

  async function queueItem(deliveryId: string) {
    return (await h.scan('deliveries')).find((item) => item.delivery_id === `queue#${deliveryId}`)
  }

  it('queues a trigger beyond the limit with a comment that says so, and starts it when a session from GitHub ends by /devflow stop', async function () {
    withLimit(1)
    const repo = freshRepo()
    const first = await label(repo, 'the first thing')
    expect(first.received.body).to.include({outcome: 'start'})
    const second = await label(repo, 'the second thing')
    expect(second.received.body).to.include({outcome: 'queued'})
    expect(second.received.body).to.not.have.property('sessionId')
    expect(await sessionOfIssue(repo, second.issue.number), 'no session while it waits').to.equal(undefined)
    expect(await queueItem(second.delivery.id)).to.include({state: 'WAITING', kind: 'queue', repo})
    const waiting = h.github.issues.commentsOn(repo, second.issue.number)
    expect(waiting).to.have.length(1)
    expect(waiting[0].body).to.contain('DevFlow: waiting for a free slot').and.contain(`${repo} already has 1 DevFlow session running from GitHub`)

    const stop = await send(delivery('issue_comment', issueComment(repo, first.issue.number, '/devflow stop', MAINTAINER)))
    expect(stop.body).to.include({outcome: 'stop', sessionId: first.received.body.sessionId})

    const started = await sessionOfIssue(repo, second.issue.number)
    expect(started, 'the waiting trigger started when the first session ended').to.not.equal(undefined)
    expect(started).to.include({user_id: `github:${MAINTAINER}`, status: 'PROVISIONING'})
    const prompts = (await h.deps.prompts.list(String(started!.session_id), {limit: 10})).items
    expect(prompts).to.have.length(1)
    expect(prompts[0].text).to.contain('the second thing')
    const item = await queueItem(second.delivery.id)
    expect(item).to.include({state: 'STARTED', session_id: started!.session_id, prompt_id: prompts[0].id})
    expect(item).to.not.have.property('kind')
    const comments = h.github.issues.commentsOn(repo, second.issue.number)
    expect(comments, 'still one comment, edited in place').to.have.length(1)
    expect(comments[0].body).to.contain('DevFlow: queued').and.contain(prompts[0].id).and.contain(String(started!.session_id))
    expect(comments[0].history[0]).to.contain('DevFlow: waiting for a free slot')
    const record = (await h.scan('deliveries')).find((d) => d.delivery_id === second.delivery.id)
    expect(record, 'the delivery learns the work it got').to.include({status: 'DONE', outcome: 'queued', session_id: started!.session_id, prompt_id: prompts[0].id})
  })

  it('starts waiting triggers in the order they came, one per freed slot, when the reaper ends sessions', async function () {
    withLimit(1)
    const repo = freshRepo()
    const running = await label(repo, 'running work')
    const b = await label(repo, 'second in line')
    const c = await label(repo, 'third in line')
    expect([b.received.body.outcome, c.received.body.outcome]).to.deep.equal(['queued', 'queued'])

    // The first session goes idle: the reaper stops it, and the oldest waiting trigger starts.
    const idle = await h.deps.sessions.get(running.received.body.sessionId)
    h.advance((idle!.idleTimeoutSeconds + 60) * 1000)
    const report = await h.services.reapSessions()
    expect(report.stopped.map((s) => s.sessionId)).to.include(running.received.body.sessionId)
    const bSession = await sessionOfIssue(repo, b.issue.number)
    expect(bSession, 'the oldest waiting trigger started').to.not.equal(undefined)
    expect(await sessionOfIssue(repo, c.issue.number), 'the next one still waits').to.equal(undefined)
    expect(await queueItem(c.delivery.id)).to.include({state: 'WAITING'})

    h.advance((idle!.idleTimeoutSeconds + 60) * 1000)
    await h.services.reapSessions()
    expect((await h.deps.sessions.get(String(bSession!.session_id)))?.status).to.equal('STOPPED')
    expect(await sessionOfIssue(repo, c.issue.number), 'then the next').to.not.equal(undefined)
    expect((await sessionsOf(repo)).filter((s) => s.status !== 'STOPPED' && s.status !== 'FAILED')).to.have.length(1)
  })

  it('drains at the end of a reaper pass what no session end picked up (a raised limit)', async function () {
    withLimit(1)
    const repo = freshRepo()
    await label(repo, 'one')
    const waiting = await label(repo, 'two')
    expect(waiting.received.body.outcome).to.equal('queued')
    withLimit(2)
    await h.services.reapSessions()
    expect(await sessionOfIssue(repo, waiting.issue.number)).to.not.equal(undefined)
    expect(await queueItem(waiting.delivery.id)).to.include({state: 'STARTED'})
  })

  it('cancels a waiting trigger on /devflow stop, in its own comment', async function () {
    withLimit(1)
    const repo = freshRepo()
    await label(repo, 'busy')
    const waiting = await label(repo, 'never mind')
    const stop = await send(delivery('issue_comment', issueComment(repo, waiting.issue.number, '/devflow stop', MAINTAINER)))
    expect(stop.body.outcome).to.equal('stop')
    expect(await queueItem(waiting.delivery.id)).to.include({state: 'CANCELLED'})
    const comments = h.github.issues.commentsOn(repo, waiting.issue.number)
    expect(comments.filter((c) => c.body.includes('devflow-status'))).to.have.length(1)
    expect(comments[0].body).to.contain('DevFlow: stopped').and.contain(`Stopped by @${MAINTAINER}`)
    await h.services.reapSessions()
    expect(await sessionOfIssue(repo, waiting.issue.number), 'a cancelled trigger never starts').to.equal(undefined)
  })

  it('two servers draining at once over one free slot start one trigger, once; over two, each trigger once', async function () {
    withLimit(1)
    const repo = freshRepo()
    await label(repo, 'blocker')
    const x = await label(repo, 'x')
    const y = await label(repo, 'y')
    const z = await label(repo, 'z')
    expect([x, y, z].map((t) => t.received.body.outcome)).to.deep.equal(['queued', 'queued', 'queued'])

    // Two servers (two Lambda invocations) over the same tables, with a limit one higher: their
    // reaper passes both drain the repository at the same moment.
    const server = (limit: number) => createCoreServices({...h.deps, github: {...h.deps.github!, maxSessionsPerRepo: limit}})
    await Promise.all([server(2).reapSessions(), server(2).reapSessions()])
    const started = async () => (await sessionsOf(repo)).filter((s) => s.status !== 'STOPPED' && s.status !== 'FAILED')
    expect(await started()).to.have.length(2)
    expect(await sessionOfIssue(repo, x.issue.number), 'the oldest').to.not.equal(undefined)
    expect(await queueItem(y.delivery.id)).to.include({state: 'WAITING'})

    await Promise.all([server(4).reapSessions(), server(4).reapSessions(), server(4).reapSessions()])
    expect(await started()).to.have.length(4)
    for (const t of [x, y, z]) {
      const session = await sessionOfIssue(repo, t.issue.number)
      expect((await h.deps.prompts.list(String(session!.session_id), {limit: 10})).items, `one prompt for ${t.issue.title}`).to.have.length(1)
      expect(await queueItem(t.delivery.id)).to.include({state: 'STARTED', session_id: session!.session_id})
      expect(h.github.issues.commentsOn(repo, t.issue.number), `one comment on ${t.issue.title}`).to.have.length(1)
    }
    const issuesStarted = (await sessionsOf(repo)).map((s) => (s.source as {issue: number}).issue)
    expect(new Set(issuesStarted).size, 'no issue got two sessions').to.equal(issuesStarted.length)
  })

  it('a redelivery after a delivery that failed midway reuses the prompt it queued and its comment (item 3)', async function () {
    const repo = freshRepo()
    const work = await label(repo, 'base work')
    const sessionId = work.received.body.sessionId
    const session = await h.deps.sessions.get(sessionId)
    const agent = new TestAgent(h.server.url, h.ecs, CLUSTER, {callerOf: taskRoleCaller})
    const token = await agent.token(sessionId, session!.taskArn!)
    await agent.heartbeat(sessionId, token)
    await agent.answerNextPrompt(sessionId, token, 'SUCCEEDED')
    const pr = h.github.pulls.find((p) => p.repo === repo)!
    expect(pr, 'the draft pull request of the first prompt').to.not.equal(undefined)

    // The prompt is queued, then GitHub fails the living comment: the delivery is FAILED.
    const followUp = delivery('issue_comment', pullRequestComment(repo, pr.number, '/devflow rename the helper', MAINTAINER))
    h.github.failNext(/^POST \/repos\/[^/]+\/[^/]+\/issues\/\d+\/comments$/, 502)
    const failed = await send(followUp)
    expect(failed.status, JSON.stringify(failed.body)).to.be.greaterThanOrEqual(500)
    expect((await h.scan('deliveries')).find((d) => d.delivery_id === followUp.id)).to.include({status: 'FAILED', session_id: sessionId})
    const before = (await h.deps.prompts.list(sessionId, {limit: 10})).items
    expect(before, 'the failed attempt got as far as the prompt').to.have.length(2)

    const retried = await send(followUp)
    expect(retried.status, JSON.stringify(retried.body)).to.equal(202)
    expect(retried.body).to.include({outcome: 'prompt', sessionId, promptId: before[1].id})
    expect((await h.deps.prompts.list(sessionId, {limit: 10})).items, 'no second prompt').to.have.length(2)
    const onPull = h.github.issues.commentsOn(repo, pr.number)
    expect(onPull).to.have.length(1)
    expect(onPull[0].body).to.contain('DevFlow: queued').and.contain(before[1].id)

    const again = await send(followUp)
    expect(again).to.deep.include({status: 200})
    expect(again.body).to.include({duplicate: true})
    expect(h.github.issues.commentsOn(repo, pr.number)).to.have.length(1)
  })

  /** A labelled issue whose session ran one prompt (its draft pull request opened, $0.12 spent), then stopped by /devflow stop. */
  async function stoppedAfterWork(repo: string, title: string) {
    const work = await label(repo, title)
    const sessionId: string = work.received.body.sessionId
    const session = await h.deps.sessions.get(sessionId)
    const agent = new TestAgent(h.server.url, h.ecs, CLUSTER, {callerOf: taskRoleCaller})
    const token = await agent.token(sessionId, session!.taskArn!)
    await agent.heartbeat(sessionId, token)
    await agent.answerNextPrompt(sessionId, token, 'SUCCEEDED')
    const pr = h.github.pulls.find((p) => p.repo === repo && p.head === `devflow/${sessionId}`)!
    expect(pr, 'the draft pull request of the first prompt').to.not.equal(undefined)
    await send(delivery('issue_comment', issueComment(repo, work.issue.number, '/devflow stop', MAINTAINER)))
    expect((await h.deps.sessions.get(sessionId))?.status).to.equal('STOPPED')
    return {sessionId, pr, issue: work.issue}
  }

  it('a comment on the pull request of a stopped session waits for a free slot like a start, then resumes that session', async function () {
    withLimit(1)
    const repo = freshRepo()
    const ended = await stoppedAfterWork(repo, 'first work')
    const busy = await label(repo, 'busy work')
    expect(busy.received.body.outcome).to.equal('start')

    const followUp = delivery('issue_comment', pullRequestComment(repo, ended.pr.number, '/devflow handle the empty case', MAINTAINER))
    const received = await send(followUp)
    expect(received.body).to.include({outcome: 'queued'})
    expect(await queueItem(followUp.id)).to.include({state: 'WAITING', resume_session_id: ended.sessionId})
    expect(await h.deps.sessions.get(ended.sessionId), 'not resumed while the repository is full').to.include({status: 'STOPPED'})
    const comments = () => h.github.issues.commentsOn(repo, ended.pr.number)
    expect(comments()).to.have.length(1)
    expect(comments()[0].body).to.contain('DevFlow: waiting for a free slot')

    await send(delivery('issue_comment', issueComment(repo, busy.issue.number, '/devflow stop', MAINTAINER)))
    const resumed = await h.deps.sessions.get(ended.sessionId)
    expect(resumed).to.include({status: 'PROVISIONING', resumeCount: 1, userId: `github:${MAINTAINER}`})
    const prompts = (await h.deps.prompts.list(ended.sessionId, {limit: 10})).items
    expect(prompts).to.have.length(2)
    expect(prompts[1]).to.include({status: 'QUEUED', pr: 'draft'})
    expect(prompts[1].text).to.contain('handle the empty case')
    expect(await queueItem(followUp.id)).to.include({state: 'STARTED', session_id: ended.sessionId, prompt_id: prompts[1].id})
    expect(await sessionsOf(repo), 'no new session').to.have.length(2)
    expect(comments(), 'one comment, edited').to.have.length(1)
    expect(comments()[0].body).to.contain('DevFlow: queued').and.contain(ended.sessionId)
    expect((await h.scan('deliveries')).find((d) => d.delivery_id === followUp.id)).to.include({session_id: ended.sessionId, prompt_id: prompts[1].id})
  })

  it('a session whose last task still saves its checkpoint is resumed by a later drain, once that task has stopped', async function () {
    const repo = freshRepo()
    const ended = await stoppedAfterWork(repo, 'slow stop')
    const oldTask = (await h.deps.sessions.get(ended.sessionId))!.taskArn!
    // ECS still reports the old task RUNNING (moto stops a task at once): the resume is refused for now.
    h.rewire(() => ({
      runtime: runtimeWith(h, (real) => ({
        ...real,
        describeTasks: async (input) => {
          const out = await real.describeTasks(input)
          return {...out, tasks: out.tasks?.map((t) => (t.taskArn === oldTask ? {...t, lastStatus: 'RUNNING'} : t))}
        },
      })),
    }))
    const followUp = delivery('issue_comment', pullRequestComment(repo, ended.pr.number, '/devflow and the docs', MAINTAINER))
    const received = await send(followUp)
    expect(received.body).to.include({outcome: 'queued', reason: `session ${ended.sessionId} is still stopping: it is resumed once it has stopped`})
    expect(await queueItem(followUp.id)).to.include({state: 'STARTING', resume_session_id: ended.sessionId})
    expect(await h.deps.sessions.get(ended.sessionId)).to.include({status: 'STOPPED'})

    // The task has stopped; after the item's lease, a reaper pass's drain resumes the session.
    h.rewire(() => ({}))
    await h.services.reapSessions()
    expect(await h.deps.sessions.get(ended.sessionId), 'not before the lease ends').to.include({status: 'STOPPED'})
    h.advance((QUEUE_LEASE_SECONDS + 1) * 1000)
    await h.services.reapSessions()
    expect(await h.deps.sessions.get(ended.sessionId)).to.include({status: 'PROVISIONING', resumeCount: 1})
    const prompts = (await h.deps.prompts.list(ended.sessionId, {limit: 10})).items
    expect(prompts.map((p) => p.text.includes('and the docs'))).to.deep.equal([false, true])
    expect(await queueItem(followUp.id)).to.include({state: 'STARTED', session_id: ended.sessionId, prompt_id: prompts[1].id})
    expect(h.github.issues.commentsOn(repo, ended.pr.number)).to.have.length(1)
  })

  it('a refused resume (the session spent its budget) falls back to a new session on its branch, and the comment says so', async function () {
    h.rewire((deps) => ({settings: {...deps.settings, budgets: {sessionUsd: 0.1}}}))
    const repo = freshRepo()
    const ended = await stoppedAfterWork(repo, 'costly work')

    const followUp = delivery('issue_comment', pullRequestComment(repo, ended.pr.number, '/devflow one more change', MAINTAINER))
    const received = await send(followUp)
    expect(received.status, JSON.stringify(received.body)).to.equal(202)
    expect(received.body).to.include({outcome: 'start'})
    const newId: string = received.body.sessionId
    expect(newId).to.be.a('string').and.not.equal(ended.sessionId)
    const old = await h.deps.sessions.get(ended.sessionId)
    expect(old).to.include({status: 'STOPPED'})
    expect(old).to.not.have.property('resumeCount')
    const fresh = await h.deps.sessions.get(newId)
    expect(fresh).to.include({branch: `devflow/${ended.sessionId}`, userId: `github:${MAINTAINER}`, status: 'PROVISIONING'})
    expect(fresh?.source).to.include({kind: 'github', repo, pullRequest: ended.pr.number})
    const prompts = (await h.deps.prompts.list(newId, {limit: 10})).items
    expect(prompts).to.have.length(1)
    expect(prompts[0].text).to.contain('one more change')
    const onPull = h.github.issues.commentsOn(repo, ended.pr.number)
    expect(onPull).to.have.length(1)
    expect(onPull[0].body).to.contain('DevFlow: queued').and.contain(`Session \`${ended.sessionId}\` could not be resumed (BUDGET_EXCEEDED`).and.contain(`new session on its branch \`devflow/${ended.sessionId}\``)
  })

  it('a redelivery after a failure before the comment of a start makes one comment and one session', async function () {
    withLimit(1)
    const repo = freshRepo()
    const issue = h.github.issues.openIssue(repo, {title: 'flaky', body: 'x', author: MAINTAINER, labels: ['devflow']})
    const d = delivery('issues', labelledIssue(repo, issue, MAINTAINER))
    h.github.failNext(/^POST \/repos\/[^/]+\/[^/]+\/issues\/\d+\/comments$/, 502)
    expect((await send(d)).status).to.be.greaterThanOrEqual(500)
    expect(await queueItem(d.id), 'nothing queued without its comment').to.equal(undefined)
    const retried = await send(d)
    expect(retried.body).to.include({outcome: 'start'})
    expect(await sessionsOf(repo)).to.have.length(1)
    expect(h.github.issues.commentsOn(repo, issue.number)).to.have.length(1)
  })
})
