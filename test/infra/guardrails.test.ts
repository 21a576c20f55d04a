import {expect} from 'chai'

import {budgetLimitsFrom, egressSettingsFrom, priceOverrideFrom} from '../../infra/guardrails.js'
import {STAGES} from '../../infra/stages.js'
import {DEFAULT_REGISTRIES} from '../../src/core/egress.js'
import {rejection} from '../helpers/assertions.js'

describe('infra/guardrails: the guardrail context keys over the stage settings', () => {
  it('every stage has the allow-list on, its registries, and budgets by default', () => {
    for (const stage of Object.values(STAGES)) {
      expect(egressSettingsFrom({}, stage)).to.deep.equal({mode: 'allowList', allow: [...DEFAULT_REGISTRIES], http: false})
      const budgets = budgetLimitsFrom({}, stage)
      expect(budgets.sessionUsd).to.be.greaterThan(0)
      expect(budgets.userMonthlyUsd).to.be.greaterThan(budgets.sessionUsd ?? 0)
      expect(budgets.stageMonthlyUsd).to.be.greaterThan(budgets.userMonthlyUsd ?? 0)
    }
  })

  it('devflow:budgets merges over the stage\'s figures, as -c JSON text or a cdk.json object', () => {
    expect(budgetLimitsFrom({'devflow:budgets': '{"userMonthlyUsd": 50}'}, STAGES.dev)).to.deep.equal({...STAGES.dev.budgets, userMonthlyUsd: 50})
    expect(budgetLimitsFrom({'devflow:budgets': {sessionUsd: 2}}, STAGES.prod)).to.deep.equal({...STAGES.prod.budgets, sessionUsd: 2})
  })

  it('devflow:prices gives the stage\'s price override; none by default', async () => {
    expect(priceOverrideFrom({})).to.equal(undefined)
    expect(priceOverrideFrom({'devflow:prices': {FARGATE_SPOT: {vcpuHourUsd: 0.01, gbHourUsd: 0.001}}})).to.deep.equal({FARGATE_SPOT: {vcpuHourUsd: 0.01, gbHourUsd: 0.001}})
    expect((await rejection((async () => priceOverrideFrom({'devflow:prices': '{"FARGATE": 1}'}))())).code).to.equal('INVALID_PRICES')
    expect((await rejection((async () => budgetLimitsFrom({'devflow:budgets': '{"sessionUsd": -1}'}, STAGES.dev))())).code).to.equal('INVALID_BUDGETS')
  })
})
