/**
 * Issue 15 on moto, in process: compute cost from the task times the control plane records (moto
 * reports no startedAt/stoppedAt), budgets at enqueue and claim, the pause and `budget --add`, the
 * reaper's BUDGET stop, the monthly user budget, `GET /usage`, and the notifications a webhook on
 * 127.0.0.1 receives.
 */
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

import {expect} from 'chai'

import {WebhookNotifier} from '../../../src/adapters/http/webhook-notifier.js'
import {fargateRate} from '../../../src/core/pricing.js'
import {REPO, usePlatform} from '../../helpers/platform-fixture.js'

interface Delivery {
  event: string
  data: {kind: string; sessionId?: string; reason?: string; outcome?: string; alert?: {scope: string; thresholdPercent: number; sessionId: string}}
}

/** 1 vCPU and 4 GB on FARGATE_SPOT (the fixture's dev capacity) in us-east-1: USD per hour. */
const SPOT = fargateRate('us-east-1', 'FARGATE_SPOT')
const HOURLY_USD = SPOT.vcpuHourUsd + 4 * SPOT.gbHourUsd

describe('control plane: guardrails on moto', function () {
  this.timeout(60_000)
  const h = usePlatform()
  let webhook: Server
  const deliveries: Delivery[] = []

  before(async () => {
    webhook = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
      request.on('end', () => {
        deliveries.push(JSON.parse(body) as Delivery)
        response.writeHead(200).end()
      })
    })
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`
    h.rewire((deps) => ({
      settings: {...deps.settings, stage: 'dev', region: 'us-east-1', budgets: {sessionUsd: 1, userMonthlyUsd: 3}},
      notifier: new WebhookNotifier({url, format: 'json', log: () => {}}),
    }))
  })

  after(async () => {
    h.rewire(() => ({}))
    await new Promise((resolve) => webhook.close(resolve))
  })

  /** A started session whose agent said hello; its token for the agent routes. */
  async function runningSession(user: string, body: Record<string, unknown> = {}) {
    const started = await h.call('POST', '/sessions', {user, body: {repo: REPO, idleTimeout: '4h', ttl: '8h', ...body}})
    expect(started.status, JSON.stringify(started.body)).to.equal(201)
    const {token} = await h.bootstrap(started.body.id, started.body.taskArn)
    await h.call('POST', `/agent/sessions/${started.body.id}/heartbeat`, {token, body: {state: 'working'}})
    return {id: started.body.id as string, taskArn: started.body.taskArn as string, token}
  }

  const stored = async (id: string) => (await h.scan('sessions')).find((item) => item.session_id === id) as Record<string, unknown>
  /** The usage ledger's month item of a user (core/usage-ledger.ts), as stored. */
  const ownerMonth = async (user: string) =>
    (await h.scan('usage')).find((item) => String(item.scope).startsWith('owner#') && String(item.scope).includes(user) && String(item.period).startsWith('month#')) as Record<string, number> | undefined

  it('counts compute from when the task was first seen running until it stopped', async () => {
    const {id} = await runningSession('cora')
    const first = await h.call('GET', `/sessions/${id}`, {user: 'cora'})
    expect(first.body.status).to.equal('RUNNING')
    const startedAt = (await stored(id)).task_started_at as string
    expect(Date.parse(startedAt)).to.be.a('number').and.not.NaN

    h.advance(60 * 60 * 1000)
    const anHourOn = await h.call('GET', `/sessions/${id}`, {user: 'cora'})
    expect(anHourOn.body.cost.computeUsd).to.be.closeTo(HOURLY_USD, 0.0005)
    expect(anHourOn.body.cost).to.deep.include({agentUsd: 0})

    const stopped = await h.call('DELETE', `/sessions/${id}`, {user: 'cora'})
    expect(stopped.body).to.include({status: 'STOPPED', stopReason: 'USER'})
    expect((await stored(id)).task_stopped_at).to.be.a('string')
    h.advance(60 * 60 * 1000)
    const later = await h.call('GET', `/sessions/${id}`, {user: 'cora'})
    expect(later.body.cost.computeUsd).to.equal(stopped.body.cost.computeUsd)
    // The task's stop put its compute and hours into the user's month of the ledger, once.
    await h.call('DELETE', `/sessions/${id}`, {user: 'cora'})
    const month = await ownerMonth('cora')
    expect(month).to.deep.include({sessions: 1, compute_usd: stopped.body.cost.computeUsd})
    expect(month?.hours).to.be.closeTo(1, 0.01)
  })

  it('bounds a claimed prompt by what remains, pauses on AGENT_BUDGET_EXCEEDED, and claims again after budget --add', async () => {
    const {id, token} = await runningSession('pia', {budgetUsd: 0.5})
    const queued = await h.call('POST', `/sessions/${id}/prompts`, {user: 'pia', body: {text: 'first'}})
    const claimed = await h.call('GET', `/agent/sessions/${id}/prompts/next?wait=0`, {token})
    expect(claimed.status).to.equal(200)
    expect(claimed.body.maxBudgetUsd).to.be.within(0.49, 0.5)

    const ended = await h.call('POST', `/agent/sessions/${id}/prompts/${queued.body.id}/result`, {
      token,
      body: {status: 'FAILED', summary: 'Stopped at the budget.', costUsd: 0.2, error: {code: 'AGENT_BUDGET_EXCEEDED', message: 'Claude Code reached --max-budget-usd.'}},
    })
    expect(ended.status).to.equal(200)
    const paused = await h.call('GET', `/sessions/${id}`, {user: 'pia'})
    expect(paused.body).to.include({status: 'RUNNING', paused: true, budgetUsd: 0.5})
    expect(paused.body.cost.agentUsd).to.equal(0.2)

    // Queued while paused: it waits.
    const waiting = await h.call('POST', `/sessions/${id}/prompts`, {user: 'pia', body: {text: 'second'}})
    expect(waiting.status).to.equal(202)
    expect((await h.call('GET', `/agent/sessions/${id}/prompts/next?wait=0`, {token})).status).to.equal(204)

    const raised = await h.call('POST', `/sessions/${id}/budget`, {user: 'pia', body: {addUsd: 1}})
    expect(raised.status).to.equal(200)
    expect(raised.body.budgetUsd).to.equal(1.5)
    expect(raised.body).to.not.have.property('paused')
    const resumed = await h.call('GET', `/agent/sessions/${id}/prompts/next?wait=0`, {token})
    expect(resumed.status).to.equal(200)
    expect(resumed.body).to.include({id: waiting.body.id})
    expect(resumed.body.maxBudgetUsd).to.be.within(1.29, 1.3)

    expect(deliveries.filter((d) => d.data.sessionId === id).map((d) => [d.data.kind, d.data.outcome])).to.deep.include(['prompt.ended', 'BUDGET'])
    const foreign = await h.call('POST', `/sessions/${id}/budget`, {user: 'someone-else', body: {addUsd: 1}})
    expect(foreign.status).to.equal(404)
    const bad = await h.call('POST', `/sessions/${id}/budget`, {user: 'pia', body: {addUsd: -1}})
    expect(bad.status).to.equal(400)
  })

  it('refuses a prompt once the session budget is spent (BUDGET_EXCEEDED, 409), and alerts at 80% and 100%', async () => {
    const {id, token} = await runningSession('sam', {budgetUsd: 0.4})
    const queued = await h.call('POST', `/sessions/${id}/prompts`, {user: 'sam', body: {text: 'spend'}})
    await h.call('GET', `/agent/sessions/${id}/prompts/next?wait=0`, {token})
    await h.call('POST', `/agent/sessions/${id}/prompts/${queued.body.id}/result`, {token, body: {status: 'SUCCEEDED', summary: 'done', costUsd: 0.4}})

    const refused = await h.call('POST', `/sessions/${id}/prompts`, {user: 'sam', body: {text: 'more'}})
    expect(refused.status).to.equal(409)
    expect(refused.body.error).to.include({code: 'BUDGET_EXCEEDED'})
    expect(refused.body.error.details).to.include({scope: 'session', limitUsd: 0.4})
    expect(refused.body.error.hint).to.include(`devflow session budget ${id} --add`)
    const alerts = deliveries.filter((d) => d.data.kind === 'budget.alert' && d.data.alert?.sessionId === id).map((d) => d.data.alert?.thresholdPercent)
    expect(alerts).to.deep.equal([80, 100])
    expect((await stored(id)).budget_alerted).to.deep.equal([80, 100])
  })

  it('refuses a prompt in any session of a user whose monthly budget is spent', async () => {
    const first = await runningSession('una')
    const queued = await h.call('POST', `/sessions/${first.id}/prompts`, {user: 'una', body: {text: 'expensive'}})
    await h.call('GET', `/agent/sessions/${first.id}/prompts/next?wait=0`, {token: first.token})
    await h.call('POST', `/agent/sessions/${first.id}/prompts/${queued.body.id}/result`, {token: first.token, body: {status: 'SUCCEEDED', summary: 'done', costUsd: 0.9}})
    // The session budget (the stage's 1 USD) still has room, the user's 3 USD month too: raise the spend elsewhere.
    const second = await runningSession('una', {budgetUsd: 10})
    const big = await h.call('POST', `/sessions/${second.id}/prompts`, {user: 'una', body: {text: 'bigger'}})
    await h.call('GET', `/agent/sessions/${second.id}/prompts/next?wait=0`, {token: second.token})
    await h.call('POST', `/agent/sessions/${second.id}/prompts/${big.body.id}/result`, {token: second.token, body: {status: 'SUCCEEDED', summary: 'done', costUsd: 2.2}})

    const refused = await h.call('POST', `/sessions/${second.id}/prompts`, {user: 'una', body: {text: 'one more'}})
    expect(refused.status).to.equal(409)
    expect(refused.body.error.details).to.include({scope: 'user', limitUsd: 3})
    expect(refused.body.error.message).to.include("this month's budget")
    expect(deliveries.some((d) => d.data.kind === 'budget.alert' && d.data.alert?.scope === 'user')).to.equal(true)

    const usage = await h.call('GET', '/usage?by=repo', {user: 'una'})
    expect(usage.status).to.equal(200)
    expect(usage.body).to.include({scope: 'una', by: 'repo'})
    expect(usage.body.rows).to.have.length(1)
    expect(usage.body.rows[0]).to.include({key: REPO, sessions: 2, prompts: 2})
    expect(usage.body.rows[0].agentUsd).to.equal(3.1)
    // The monthly budget read this one item, updated as each result was recorded.
    expect(await ownerMonth('una')).to.deep.include({sessions: 2, prompts: 2, agent_usd: 3.1})
    const badUsage = await h.call('GET', '/usage?by=planet', {user: 'una'})
    expect(badUsage.status).to.equal(400)
  })

  it('the reaper stops a session whose compute cost passed its budget, with stopReason BUDGET, and says so', async () => {
    const {id, taskArn} = await runningSession('rex', {budgetUsd: 0.05})
    await h.call('GET', `/sessions/${id}`, {user: 'rex'})
    // Past the budget at the Spot price: 4 hours cost about 0.07 USD.
    h.advance(4 * 60 * 60 * 1000)
    expect(4 * HOURLY_USD).to.be.above(0.05)

    const report = await h.services.reapSessions()
    expect(report.stopped).to.deep.include({sessionId: id, reason: 'BUDGET'})
    const read = await h.call('GET', `/sessions/${id}`, {user: 'rex'})
    expect(read.body).to.deep.include({status: 'STOPPED', stopReason: 'BUDGET', error: {code: 'SESSION_BUDGET', message: 'The session\'s compute cost passed its budget.'}})
    expect((await h.tasks()).find((t) => t.taskArn === taskArn)?.desiredStatus).to.equal('STOPPED')
    expect(deliveries.some((d) => d.data.kind === 'session.reaped' && d.data.sessionId === id && d.data.reason === 'BUDGET')).to.equal(true)
  })

  it('POST /notifications/test sends one message to the webhook', async () => {
    const before = deliveries.length
    const sent = await h.call('POST', '/notifications/test', {user: 'tess', body: {}})
    expect(sent.body).to.deep.equal({delivered: true, status: 200})
    expect(deliveries.slice(before).map((d) => d.event)).to.deep.equal(['test'])
  })
})
