/**
 * Issue 15 end to end on the local platform, with the CLI as a process: a session's cost from its
 * prompts' reported costUsd and its task's recorded time, a session budget that bounds the running
 * prompt (--max-budget-usd reaches the stub `claude`, which stops there as the real CLI does), the
 * pause that follows, the BUDGET_EXCEEDED refusal, `session budget --add`, `devflow usage`, and the
 * notifications a webhook on 127.0.0.1 receives.
 */
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

import {expect} from 'chai'

import {bareRepository, git, type LocalPlatform, startLocalPlatform} from '../helpers/local-platform.js'
import {expectMatchesSchema} from '../helpers/output-schemas.js'

interface Cost {
  computeUsd: number
  agentUsd: number
  totalUsd: number
}

interface Session {
  id: string
  status: string
  cost: Cost
  budgetUsd?: number
  paused?: boolean
}

interface Prompt {
  id: string
  status: string
  maxBudgetUsd?: number
  result?: {costUsd?: number}
  error?: {code: string}
}

interface Delivery {
  event: string
  data: {kind: string; outcome?: string; alert?: {scope: string; thresholdPercent: number}}
}

describe('e2e: guardrails on the local platform', function () {
  this.timeout(240_000)
  let local: LocalPlatform
  let dir: string
  let webhook: Server
  const deliveries: Delivery[] = []

  const run = (args: string[]) => local.run(args)

  before(async function () {
    webhook = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
      request.on('end', () => {
        deliveries.push(JSON.parse(body) as Delivery)
        response.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve))
    local = await startLocalPlatform({
      prefix: 'devflow-guardrails-e2e-',
      runTimeout: 120_000,
      env: {
        DEVFLOW_STAGE: 'local',
        DEVFLOW_BUDGETS: '{"sessionUsd": 2}',
        DEVFLOW_NOTIFY_WEBHOOK: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`,
        DEVFLOW_NOTIFY_FORMAT: 'json',
      },
    })
    dir = local.dir
  })

  after(async function () {
    await local.stop()
    await new Promise((resolve) => webhook.close(resolve))
  })

  it('counts cost, bounds a prompt by the budget, pauses, refuses, and takes prompts again after budget --add', async function () {
    const listed = await run(['config', 'list', '--json'])
    const settings = listed.json<{settings: Array<{key: string; value?: string}>}>().settings
    expect(settings.find((s) => s.key === 'budgets')?.value).to.equal('{"sessionUsd":2}')

    const bare = bareRepository(dir)
    const start = await run(['session', 'start', '--repo', bare, '--budget', '0.3', '--wait', '--timeout', '60s', '--json'])
    expect(start.exitCode, start.stderr).to.equal(0)
    const session = start.json<Session>()
    expect(session).to.include({status: 'RUNNING', budgetUsd: 0.3})

    // A prompt within the budget: its reported cost becomes the session's agent cost.
    const first = await run(['session', 'prompt', session.id, '--wait', '--timeout', '90s', '--json', 'cost 0.1\nwrite a.txt A'])
    expect(first.exitCode, first.stderr).to.equal(0)
    const firstPrompt = first.json<Prompt>()
    expect(firstPrompt.result?.costUsd).to.equal(0.1)
    expect(firstPrompt.maxBudgetUsd).to.be.within(0.28, 0.3)
    const afterFirst = (await run(['session', 'status', session.id, '--json'])).json<Session>()
    expectMatchesSchema('session-status', afterFirst)
    expect(afterFirst.cost.agentUsd).to.equal(0.1)
    expect(afterFirst.cost.computeUsd).to.be.greaterThan(0)
    expect(afterFirst.cost.totalUsd).to.be.closeTo(afterFirst.cost.agentUsd + afterFirst.cost.computeUsd, 0.0001)

    // A prompt that would spend more than what remains: Claude Code stops at its ceiling.
    const second = await run(['session', 'prompt', session.id, '--wait', '--timeout', '90s', '--json', 'cost 0.5\nwrite b.txt B'])
    expect(second.exitCode).to.equal(7)
    const secondPrompt = second.json<Prompt>()
    expect(secondPrompt.status).to.equal('FAILED')
    expect(secondPrompt.error?.code).to.equal('AGENT_BUDGET_EXCEEDED')
    expect(secondPrompt.result?.costUsd).to.equal(secondPrompt.maxBudgetUsd)
    const paused = (await run(['session', 'status', session.id, '--json'])).json<Session>()
    expect(paused.paused).to.equal(true)
    expect(paused.status).to.equal('RUNNING')
    const table = await run(['session', 'list'])
    expect(table.stdout).to.match(/COST/).and.match(/\$0\.3\d\/\$0\.30 paused/)

    // The next prompt is refused with the budget named and how to raise it.
    const refused = await run(['session', 'prompt', session.id, '--json', 'write c.txt C'])
    expect(refused.exitCode).to.equal(5)
    const error = JSON.parse(refused.stdout) as {error: {code: string; message: string; hint: string; details: {scope: string}}}
    expect(error.error).to.include({code: 'BUDGET_EXCEEDED'})
    expect(error.error.details.scope).to.equal('session')
    expect(error.error.hint).to.include(`devflow session budget ${session.id} --add`)

    const raised = await run(['session', 'budget', session.id, '--add', '1', '--json'])
    expect(raised.exitCode, raised.stderr).to.equal(0)
    const raisedSession = raised.json<Session>()
    expectMatchesSchema('session-budget', raisedSession)
    expect(raisedSession.budgetUsd).to.equal(1.3)
    expect(raisedSession.paused).to.equal(undefined)

    const third = await run(['session', 'prompt', session.id, '--wait', '--timeout', '90s', '--json', 'write c.txt C'])
    expect(third.exitCode, third.stderr).to.equal(0)
    const thirdPrompt = third.json<Prompt>()
    expect(thirdPrompt.status).to.equal('SUCCEEDED')
    expect(git(['show', `devflow/${session.id}:c.txt`], bare)).to.equal('C')

    const usage = await run(['usage', '--by', 'repo', '--json'])
    expect(usage.exitCode, usage.stderr).to.equal(0)
    const report = usage.json<{rows: Array<{key: string; sessions: number; prompts: number; agentUsd: number}>; total: {totalUsd: number}}>()
    expectMatchesSchema('usage', report)
    expect(report.rows).to.have.length(1)
    expect(report.rows[0]).to.include({key: 'local/app', sessions: 1, prompts: 3})
    expect(report.rows[0].agentUsd).to.be.closeTo(0.1 + (secondPrompt.maxBudgetUsd ?? 0) + (thirdPrompt.result?.costUsd ?? 0), 0.0001)
    const human = await run(['usage'])
    expect(human.stdout).to.match(/SESSIONS\s+HOURS\s+PROMPTS\s+COMPUTE\s+AGENT\s+COST/)

    const test = await run(['notify', 'test', '--json'])
    expect(test.exitCode, test.stderr).to.equal(0)
    expectMatchesSchema('notify-test', test.json())
    expect(test.json()).to.include({delivered: true, status: 204})

    const kinds = deliveries.map((d) => [d.data.kind, d.data.outcome ?? d.data.alert?.thresholdPercent ?? ''])
    expect(kinds).to.deep.include.members([
      ['prompt.ended', 'SUCCEEDED'],
      ['prompt.ended', 'BUDGET'],
      ['budget.alert', 80],
      ['budget.alert', 100],
      ['test', ''],
    ])
    expect(deliveries.filter((d) => d.data.kind === 'budget.alert')).to.have.length(2)
  })

  it('refuses a --budget that is not a USD amount before anything is sent', async function () {
    const before = (await run(['session', 'list', '--json'])).json<{items: Session[]}>().items.length
    const bad = await run(['session', 'start', '--repo', 'octo/app', '--budget', 'lots'])
    expect(bad.exitCode).to.equal(2)
    expect(bad.stderr).to.include('"lots" is not a session budget in USD')
    expect((await run(['session', 'list', '--json'])).json<{items: Session[]}>().items).to.have.length(before)
  })
})
