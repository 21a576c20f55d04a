/**
 * Issue 13 end to end: GitHub webhooks signed as GitHub signs them, with payloads recorded from
 * GitHub (@octokit/webhooks-examples), sent to the real router over HTTP; the core services on
 * moto; the fake GitHub for the App, the permissions, the issue, the comments and the pull
 * request; the stub agent (test/helpers/test-agent.ts) speaking the agent routes.
 */
import {createHmac, randomUUID} from 'node:crypto'

import type {IssueCommentCreatedEvent, IssuesLabeledEvent} from '@octokit/webhooks-types'
import type {APIGatewayProxyEvent} from 'aws-lambda'
import {expect} from 'chai'

import {createApiRouter} from '../../../src/api/router.js'
import {CLUSTER, taskRoleCaller, usePlatform, WEBHOOK_SECRET} from '../../helpers/platform-fixture.js'
import {TestAgent} from '../../helpers/test-agent.js'
import {webhookExample} from '../../helpers/webhook-examples.js'

/** The repository of the recorded payloads. */
const REPO = 'Codertocat/Hello-World'
const MAINTAINER = 'Codertocat'
const READER = 'octo-reader'
const WRITER = 'octo-writer'

interface Delivery {
  readonly id: string
  readonly event: string
  readonly body: string
}

function delivery(event: string, payload: unknown): Delivery {
  return {id: randomUUID(), event, body: JSON.stringify(payload)}
}

function sign(body: string, secret = WEBHOOK_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

function labelled(issue: {number: number; title: string; body: string | null}, sender = MAINTAINER): IssuesLabeledEvent {
  const payload = webhookExample('issues', 'labeled') as IssuesLabeledEvent
  payload.label = {...payload.label!, name: 'devflow'}
  payload.issue.number = issue.number
  payload.issue.title = issue.title
  payload.issue.body = issue.body
  payload.issue.html_url = `https://github.com/${REPO}/issues/${issue.number}`
  payload.sender = {...payload.sender, login: sender}
  return payload
}

/** GitHub sends a comment on a pull request's conversation as issue_comment with issue.pull_request set. */
function pullRequestComment(number: number, body: string, sender = MAINTAINER): IssueCommentCreatedEvent {
  const payload = webhookExample('issue_comment', 'created') as IssueCommentCreatedEvent
  payload.comment.body = body
  payload.sender = {...payload.sender, login: sender}
  payload.issue.number = number
  payload.issue.html_url = `https://github.com/${REPO}/pull/${number}`
  payload.issue.pull_request = {
    url: `https://api.github.com/repos/${REPO}/pulls/${number}`,
    html_url: `https://github.com/${REPO}/pull/${number}`,
    diff_url: `https://github.com/${REPO}/pull/${number}.diff`,
    patch_url: `https://github.com/${REPO}/pull/${number}.patch`,
    merged_at: null,
  }
  return payload
}

describe('GitHub webhooks: from a labelled issue to a draft pull request and one living comment (moto, fake GitHub, stub agent)', function () {
  this.timeout(120_000)
  const h = usePlatform()
  let agent: TestAgent

  before(function () {
    h.github.install(REPO)
    h.github.issues.addCollaborator(REPO, MAINTAINER, 'admin')
    h.github.issues.addCollaborator(REPO, READER, 'read')
    h.github.issues.addCollaborator(REPO, WRITER, 'write')
    agent = new TestAgent(h.server.url, h.ecs, CLUSTER, {callerOf: taskRoleCaller})
  })

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON, asserted field by field
  async function send(d: Delivery, signature: string | null = sign(d.body)): Promise<{status: number; body: any}> {
    const headers: Record<string, string> = {'content-type': 'application/json', 'user-agent': 'GitHub-Hookshot/044aadd', 'x-github-event': d.event, 'x-github-delivery': d.id}
    if (signature !== null) headers['x-hub-signature-256'] = signature
    const response = await fetch(`${h.server.url}/github/webhook`, {method: 'POST', headers, body: d.body})
    const text = await response.text()
    return {status: response.status, body: text ? JSON.parse(text) : undefined}
  }

  async function deliveryItem(id: string) {
    return (await h.scan('deliveries')).find((item) => item.delivery_id === id)
  }

  async function sessionRecord(id: string) {
    const record = await h.deps.sessions.get(id)
    if (!record?.taskArn) throw new Error(`session ${id} has no task`)
    return record
  }

  let issueSessionId = ''
  let pullRequestNumber = 0
  let labelDelivery: Delivery

  it('a maintainer labels an issue: one session owned by github:<login>, a draft PR with Closes #N, one comment edited to its final state', async function () {
    const issue = h.github.issues.openIssue(REPO, {title: 'Add a health check endpoint', body: 'GET /health should answer 200.', author: MAINTAINER, labels: ['devflow']})
    labelDelivery = delivery('issues', labelled(issue))
    const received = await send(labelDelivery)
    expect(received.status, JSON.stringify(received.body)).to.equal(202)
    expect(received.body).to.include({delivery: labelDelivery.id, outcome: 'start'})
    issueSessionId = received.body.sessionId

    const session = await sessionRecord(issueSessionId)
    expect(session.userId).to.equal(`github:${MAINTAINER}`)
    expect(session.source).to.deep.equal({kind: 'github', repo: REPO, issue: issue.number})
    expect(session.branch).to.equal('master')
    const prompts = (await h.deps.prompts.list(issueSessionId, {limit: 10})).items
    expect(prompts).to.have.length(1)
    expect(prompts[0]).to.include({pr: 'draft', status: 'QUEUED'})
    expect(prompts[0].text).to.contain(`#${issue.number}`).and.contain('Add a health check endpoint').and.contain('GET /health should answer 200.')
    const queued = h.github.issues.commentsOn(REPO, issue.number)
    expect(queued).to.have.length(1)
    expect(queued[0].body).to.contain('DevFlow: queued')

    const token = await agent.token(issueSessionId, session.taskArn!)
    await agent.heartbeat(issueSessionId, token)
    await agent.answerNextPrompt(issueSessionId, token, 'SUCCEEDED', [
      {type: 'assistant', text: 'Reading the repository'},
      {type: 'tool_use', text: 'Edit {"file_path":"src/health.ts"}', data: {tool: 'Edit'}},
    ])

    const pulls = h.github.pulls.filter((p) => p.repo === REPO)
    expect(pulls).to.have.length(1)
    const pr = pulls[0]
    expect(pr).to.include({head: `devflow/${issueSessionId}`, base: 'master', title: 'Add a health check endpoint', draft: true})
    expect(pr.body).to.equal(`Added a health check endpoint.\n\nCloses #${issue.number}`)
    pullRequestNumber = pr.number
    expect((await sessionRecord(issueSessionId)).source).to.deep.equal({kind: 'github', repo: REPO, issue: issue.number, pullRequest: pr.number})

    const comments = h.github.issues.commentsOn(REPO, issue.number)
    expect(comments, 'one comment, edited in place').to.have.length(1)
    const [comment] = comments
    expect(comment.body).to.contain('DevFlow: done').and.contain(`Pull request: ${pr.html_url}`).and.contain('Added a health check endpoint.').and.contain('0123456').and.contain('Cost: $0.12')
    expect(comment.history[0]).to.contain('DevFlow: queued')
    expect(comment.history.some((body) => body.includes('DevFlow: working') && body.includes('Latest step: Edit'))).to.equal(true)

    const item = await deliveryItem(labelDelivery.id)
    expect(item).to.include({status: 'DONE', outcome: 'start', detail: issueSessionId})
  })

  it('a redelivery is answered 200 and does nothing twice', async function () {
    const before = {sessions: (await h.scan('sessions')).length, comments: h.github.issues.comments.length, requests: h.github.requests.length}
    const again = await send(labelDelivery)
    expect(again.status).to.equal(200)
    expect(again.body).to.deep.equal({delivery: labelDelivery.id, outcome: 'start', duplicate: true})
    expect((await h.scan('sessions')).length).to.equal(before.sessions)
    expect(h.github.issues.comments.length).to.equal(before.comments)
    expect(h.github.requests.length, 'not even a GitHub call').to.equal(before.requests)
  })

  it('a /devflow comment on the pull request continues its session, with its own comment on the pull request', async function () {
    const d = delivery('issue_comment', pullRequestComment(pullRequestNumber, '/devflow also add a test for it'))
    const received = await send(d)
    expect(received.status, JSON.stringify(received.body)).to.equal(202)
    expect(received.body).to.include({outcome: 'prompt', sessionId: issueSessionId})
    const prompts = (await h.deps.prompts.list(issueSessionId, {limit: 10})).items
    expect(prompts).to.have.length(2)
    expect(prompts[1].text).to.contain('also add a test for it').and.contain(`pull request #${pullRequestNumber}`)

    const session = await sessionRecord(issueSessionId)
    await agent.answerNextPrompt(issueSessionId, await agent.token(issueSessionId, session.taskArn!))
    expect(h.github.pulls.filter((p) => p.repo === REPO), 'still one pull request').to.have.length(1)
    const onPull = h.github.issues.commentsOn(REPO, pullRequestNumber)
    expect(onPull).to.have.length(1)
    expect(onPull[0].body).to.contain('DevFlow: done').and.contain(`Requested by @${MAINTAINER}`)
  })

  it('a comment by a read-only user gets a polite reply and runs nothing', async function () {
    const sessionsBefore = (await h.scan('sessions')).length
    const issue = h.github.issues.openIssue(REPO, {title: 'Please do my homework', author: READER})
    const payload = webhookExample('issue_comment', 'created')
    payload.comment.body = '/devflow do it all'
    payload.issue.number = issue.number
    payload.sender = {...payload.sender, login: READER}
    const received = await send(delivery('issue_comment', payload))
    expect(received.status).to.equal(202)
    expect(received.body).to.include({outcome: 'refuse', reason: 'READ_ONLY_SENDER'})
    expect((await h.scan('sessions')).length).to.equal(sessionsBefore)
    const replies = h.github.issues.commentsOn(REPO, issue.number)
    expect(replies).to.have.length(1)
    expect(replies[0].body).to.contain(`Sorry @${READER}`).and.contain('yours is read')
  })

  it('a bad or missing signature is 401 and writes nothing', async function () {
    const issue = h.github.issues.openIssue(REPO, {title: 'Forged', author: MAINTAINER})
    const forged = delivery('issues', labelled(issue))
    const before = {sessions: (await h.scan('sessions')).length, comments: h.github.issues.comments.length}
    const wrong = await send(forged, sign(forged.body, 'not-the-webhook-secret-at-all'))
    expect(wrong.status).to.equal(401)
    expect(wrong.body.error.code).to.equal('WEBHOOK_SIGNATURE_INVALID')
    const missing = await send(forged, null)
    expect(missing.status).to.equal(401)
    expect(missing.body.error.code).to.equal('WEBHOOK_SIGNATURE_MISSING')
    const tampered = await send({...forged, body: forged.body.replace('Forged', 'Forgef')}, sign(forged.body))
    expect(tampered.status).to.equal(401)
    expect(await deliveryItem(forged.id)).to.equal(undefined)
    expect((await h.scan('sessions')).length).to.equal(before.sessions)
    expect(h.github.issues.comments.length).to.equal(before.comments)
  })

  it('an event it does not act on is 202, recorded with its reason', async function () {
    const d = delivery('ping', {zen: 'Design for failure.', hook_id: 1, hook: {type: 'App', id: 1, events: ['issues']}})
    const received = await send(d)
    expect(received.status).to.equal(202)
    expect(received.body.outcome).to.equal('ignore')
    expect(await deliveryItem(d.id)).to.include({status: 'DONE', outcome: 'ignore'})
  })

  it('verifies a base64-encoded body (API Gateway) after decoding it', async function () {
    const d = delivery('ping', {zen: 'Encourage flow.', hook_id: 2})
    const router = createApiRouter(h.services)
    const event = {
      httpMethod: 'POST',
      path: '/dev/github/webhook',
      resource: '/github/webhook',
      requestContext: {stage: 'dev', requestId: randomUUID()},
      headers: {'x-github-event': d.event, 'x-github-delivery': d.id, 'x-hub-signature-256': sign(d.body), 'content-type': 'application/json'},
      body: Buffer.from(d.body).toString('base64'),
      isBase64Encoded: true,
      queryStringParameters: null,
    } as unknown as APIGatewayProxyEvent
    const response = await router.handle(event)
    expect(response.statusCode, response.body).to.equal(202)
  })

  it('/devflow stop on the pull request stops the session and says so in its comment', async function () {
    const d = delivery('issue_comment', pullRequestComment(pullRequestNumber, '/devflow stop'))
    const received = await send(d)
    expect(received.status, JSON.stringify(received.body)).to.equal(202)
    expect(received.body).to.include({outcome: 'stop', sessionId: issueSessionId})
    expect((await h.deps.sessions.get(issueSessionId))?.status).to.be.oneOf(['STOPPING', 'STOPPED'])
    const onPull = h.github.issues.commentsOn(REPO, pullRequestNumber)
    expect(onPull).to.have.length(1)
    expect(onPull[0].body).to.contain('DevFlow: stopped').and.contain(`Stopped by @${MAINTAINER}`)
  })

  it('a /devflow comment after the session stopped resumes that session (same id and owner, resumeCount 1) and queues the prompt on it', async function () {
    const stopped = await sessionRecord(issueSessionId)
    expect(stopped.status).to.equal('STOPPED')
    const sessionsBefore = (await h.scan('sessions')).length
    const d = delivery('issue_comment', pullRequestComment(pullRequestNumber, '/devflow now document the endpoint', WRITER))
    const received = await send(d)
    expect(received.status, JSON.stringify(received.body)).to.equal(202)
    expect(received.body).to.include({outcome: 'resume', sessionId: issueSessionId})

    const resumed = await sessionRecord(issueSessionId)
    expect(resumed).to.include({status: 'PROVISIONING', resumeCount: 1, userId: `github:${MAINTAINER}`})
    expect(resumed.taskArn).to.not.equal(stopped.taskArn)
    expect((await h.scan('sessions')).length, 'no new session').to.equal(sessionsBefore)
    const prompts = (await h.deps.prompts.list(issueSessionId, {limit: 10})).items
    expect(prompts).to.have.length(3)
    expect(prompts[2]).to.include({status: 'QUEUED', pr: 'draft', id: received.body.promptId})
    expect(prompts[2].text).to.contain('now document the endpoint')
    expect(await deliveryItem(d.id)).to.include({status: 'DONE', outcome: 'resume', session_id: issueSessionId, prompt_id: prompts[2].id})

    // The resumed session's new task bootstraps afresh and takes the prompt; its own comment on the pull request ends done.
    const newTask = new TestAgent(h.server.url, h.ecs, CLUSTER, {callerOf: taskRoleCaller})
    const token = await newTask.token(issueSessionId, resumed.taskArn!)
    await newTask.heartbeat(issueSessionId, token)
    await newTask.answerNextPrompt(issueSessionId, token)
    const onPull = h.github.issues.commentsOn(REPO, pullRequestNumber)
    expect(onPull, 'the earlier comment and this one').to.have.length(2)
    expect(onPull[1].body).to.contain('DevFlow: done').and.contain(issueSessionId)
    expect(onPull[1].history[0]).to.contain('DevFlow: queued').and.contain(`Requested by @${WRITER}`)
    expect(h.github.pulls.filter((p) => p.repo === REPO), 'still one pull request').to.have.length(1)
    await h.deps.sessions.get(issueSessionId).then((s) => expect(s?.userId, 'the owner stays').to.equal(`github:${MAINTAINER}`))
  })
})

describe('GitHub webhooks through `devflow api serve` as a process (SigV4 gate on)', function () {
  this.timeout(120_000)
  const platform = usePlatform({api: 'cli'})

  it('serves POST /github/webhook without SigV4: a signed ping is 202, a forged one 401', async function () {
    const d = delivery('ping', {zen: 'Keep it logically awesome.', hook_id: 3})
    const post = (signature: string) =>
      fetch(`${platform.api.url}/github/webhook`, {method: 'POST', headers: {'content-type': 'application/json', 'x-github-event': d.event, 'x-github-delivery': d.id, 'x-hub-signature-256': signature}, body: d.body})
    const forged = await post(sign(d.body, 'some-other-secret-entirely'))
    expect(forged.status).to.equal(401)
    const signed = await post(sign(d.body))
    expect(signed.status, await signed.clone().text()).to.equal(202)
    expect(await signed.json()).to.include({delivery: d.id, outcome: 'ignore'})
    expect(platform.api.log()).to.contain('webhook ignored')
  })
})
