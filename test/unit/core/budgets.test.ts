import {expect} from 'chai'

import {
  budgetAlerts,
  type BudgetSpend,
  crossedThresholds,
  decidePromptStart,
  MIN_PROMPT_BUDGET_USD,
  monthWindow,
  parseBudgetLimits,
  raisedSessionBudget,
  standings,
} from '../../../src/core/budgets.js'
import {budgetExceeded, DevflowError, ExitCode} from '../../../src/core/errors.js'
import {rejection} from '../../helpers/assertions.js'

const now = new Date('2026-03-14T09:00:00Z')
const limits = {sessionUsd: 5, userMonthlyUsd: 100, stageMonthlyUsd: 1000}
const spend = (over: Partial<BudgetSpend> = {}): BudgetSpend => ({
  stage: 'dev',
  sessionId: 's-abc',
  userId: 'local:ana',
  sessionSpentUsd: 1,
  userMonthSpentUsd: 10,
  stageMonthSpentUsd: 100,
  ...over,
})

function refusal(decision: ReturnType<typeof decidePromptStart>): DevflowError {
  if (decision.ok) throw new Error(`expected a refusal, got ${JSON.stringify(decision)}`)
  return decision.error
}

describe('core/budgets', () => {
  it('BUDGET_EXCEEDED is a 409 conflict with exit code 5 and machine-readable details', () => {
    const error = budgetExceeded('m', 'h', {scope: 'user', limitUsd: 1, spentUsd: 2})
    expect(error.code).to.equal('BUDGET_EXCEEDED')
    expect(error.httpStatus).to.equal(409)
    expect(error.exitCode).to.equal(ExitCode.CONFLICT)
    expect(error.toJSON().error.details).to.deep.equal({scope: 'user', limitUsd: 1, spentUsd: 2})
  })

  it('lets a prompt start with the smallest remainder as its ceiling (--max-budget-usd)', () => {
    expect(decidePromptStart(spend(), limits, now)).to.deep.equal({ok: true, maxBudgetUsd: 4, limitedBy: 'session'})
    expect(decidePromptStart(spend({userMonthSpentUsd: 98.5}), limits, now)).to.deep.equal({ok: true, maxBudgetUsd: 1.5, limitedBy: 'user'})
    expect(decidePromptStart(spend({stageMonthSpentUsd: 999.75}), limits, now)).to.deep.equal({ok: true, maxBudgetUsd: 0.25, limitedBy: 'stage'})
    // The session's own budget (start --budget, budget --add) replaces the stage default.
    expect(decidePromptStart(spend({sessionBudgetUsd: 20, sessionSpentUsd: 6}), limits, now)).to.deep.include({maxBudgetUsd: 14})
  })

  it('has no ceiling when no budget applies', () => {
    expect(decidePromptStart(spend({sessionSpentUsd: 1e6}), {}, now)).to.deep.equal({ok: true})
    expect(standings(spend(), {})).to.deep.equal([])
  })

  it('refuses a prompt on a spent session budget, naming it and `session budget --add`', () => {
    const error = refusal(decidePromptStart(spend({sessionSpentUsd: 5.2}), limits, now))
    expect(error.code).to.equal('BUDGET_EXCEEDED')
    expect(error.message).to.equal('Session s-abc has spent its budget ($5.20 of $5.00); its prompts wait.')
    expect(error.hint).to.contain('devflow session budget s-abc --add')
    expect(error.details).to.include({scope: 'session', limitUsd: 5, spentUsd: 5.2, sessionId: 's-abc'})
  })

  it('refuses below the one-cent floor rather than start a prompt that can do nothing', () => {
    refusal(decidePromptStart(spend({sessionSpentUsd: 5 - MIN_PROMPT_BUDGET_USD / 2}), limits, now))
    expect(decidePromptStart(spend({sessionSpentUsd: 5 - MIN_PROMPT_BUDGET_USD}), limits, now).ok).to.equal(true)
  })

  it('refuses on the user\'s and the stage\'s monthly budgets, with the reset date and how to raise them', () => {
    const user = refusal(decidePromptStart(spend({userMonthSpentUsd: 100}), limits, now))
    expect(user.message).to.equal('local:ana has spent this month\'s budget on stage dev ($100.00 of $100.00).')
    expect(user.hint).to.contain('It resets on 2026-04-01')
    expect(user.hint).to.contain(`devflow deploy --stage dev -c devflow:budgets='{"userMonthlyUsd": 150}'`)
    expect(user.details).to.include({scope: 'user', userId: 'local:ana', resetsAt: '2026-04-01'})
    const stage = refusal(decidePromptStart(spend({stageMonthSpentUsd: 1200}), limits, now))
    expect(stage.message).to.equal('Stage dev has spent this month\'s budget ($1200.00 of $1000.00).')
    expect(stage.hint).to.contain('"stageMonthlyUsd": 1500')
    expect(stage.details).to.include({scope: 'stage', stage: 'dev'})
  })

  it('names the session budget first when several are spent', () => {
    const error = refusal(decidePromptStart(spend({sessionSpentUsd: 9, userMonthSpentUsd: 200, stageMonthSpentUsd: 2000}), limits, now))
    expect(error.details?.scope).to.equal('session')
  })

  it('monthly budgets count the UTC calendar month', () => {
    expect(monthWindow(now)).to.deep.equal({from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-04-01T00:00:00Z')})
    expect(monthWindow(new Date('2026-12-31T23:59:59Z')).to.toISOString()).to.equal('2027-01-01T00:00:00.000Z')
  })

  it('reports the 80% and 100% thresholds once each, when spend crosses them', () => {
    expect(crossedThresholds(3, 4, 5)).to.deep.equal([80])
    expect(crossedThresholds(4, 4.9, 5)).to.deep.equal([])
    expect(crossedThresholds(4.9, 5, 5)).to.deep.equal([100])
    expect(crossedThresholds(0, 7, 5)).to.deep.equal([80, 100])
    expect(crossedThresholds(6, 7, 5), 'already past both').to.deep.equal([])
    expect(crossedThresholds(6, 1, 5), 'spend went down (a raised budget is a new limit, not less spend)').to.deep.equal([])
  })

  it('turns a change in spend into the alerts due, per budget', () => {
    const alerts = budgetAlerts(spend({sessionSpentUsd: 3.9, userMonthSpentUsd: 79}), spend({sessionSpentUsd: 5.1, userMonthSpentUsd: 80.2}), limits)
    expect(alerts).to.deep.equal([
      {scope: 'session', thresholdPercent: 80, limitUsd: 5, spentUsd: 5.1, stage: 'dev', userId: 'local:ana', sessionId: 's-abc'},
      {scope: 'session', thresholdPercent: 100, limitUsd: 5, spentUsd: 5.1, stage: 'dev', userId: 'local:ana', sessionId: 's-abc'},
      {scope: 'user', thresholdPercent: 80, limitUsd: 100, spentUsd: 80.2, stage: 'dev', userId: 'local:ana', sessionId: 's-abc'},
    ])
  })

  it('`session budget --add` raises the budget in force, and refuses a non-positive amount', async () => {
    expect(raisedSessionBudget({spentUsd: 5.2}, limits, 5)).to.equal(10)
    expect(raisedSessionBudget({budgetUsd: 12, spentUsd: 12}, limits, 2.5)).to.equal(14.5)
    expect(raisedSessionBudget({spentUsd: 3}, {}, 2), 'no budget at all: what it spent plus the amount').to.equal(5)
    for (const add of [0, -1, Number.NaN]) {
      const error = await rejection((async () => raisedSessionBudget({spentUsd: 0}, limits, add))())
      expect(error.code).to.equal('INVALID_BUDGET')
    }
  })

  it('reads a stage\'s budgets from JSON and refuses what is not', async () => {
    expect(parseBudgetLimits('{"sessionUsd": 5, "userMonthlyUsd": 50}')).to.deep.equal({sessionUsd: 5, userMonthlyUsd: 50})
    for (const text of ['{', '{"sessionUsd": 0}', '{"perDay": 3}', '[]']) {
      const error = await rejection((async () => parseBudgetLimits(text))())
      expect(error.code, text).to.equal('INVALID_BUDGETS')
      expect(error.exitCode).to.equal(2)
    }
  })
})
