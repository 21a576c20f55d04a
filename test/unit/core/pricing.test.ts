import {expect} from 'chai'

import {CapacityProvider, Cost} from '../../../src/core/models.js'
import {
  agentCostUsd,
  billedSeconds,
  computeCostUsd,
  FALLBACK_REGION,
  FARGATE_PRICES,
  fargateRate,
  parsePriceOverride,
  sessionCost,
} from '../../../src/core/pricing.js'
import {rejection} from '../../helpers/assertions.js'

const at = (iso: string) => new Date(iso)
const oneVcpu2Gb = {cpu: 1024, memory: 2048}
const hourly = {vcpuHourUsd: 0.04, gbHourUsd: 0.005, asOf: 'test', source: 'test'}

describe('core/pricing', () => {
  it('has a dated, sourced price for each capacity in every listed region, Spot below on-demand', () => {
    expect(Object.keys(FARGATE_PRICES)).to.include.members(['us-east-1', 'eu-west-1', 'eu-central-1', 'ap-northeast-1'])
    for (const [region, rates] of Object.entries(FARGATE_PRICES)) {
      for (const capacity of CapacityProvider.options) {
        const rate = rates[capacity]
        expect(rate.asOf, region).to.match(/^\d{4}-\d{2}-\d{2}$/)
        expect(rate.source, region).to.have.length.greaterThan(10)
        expect(rate.vcpuHourUsd).to.be.greaterThan(0)
      }
      expect(rates.FARGATE_SPOT.vcpuHourUsd).to.be.lessThan(rates.FARGATE.vcpuHourUsd)
      expect(rates.FARGATE_SPOT.gbHourUsd).to.be.lessThan(rates.FARGATE.gbHourUsd)
    }
    expect(FARGATE_PRICES['us-east-1'].FARGATE).to.include({vcpuHourUsd: 0.04048, gbHourUsd: 0.004445})
  })

  it('takes the stage override over the table, and prices an unlisted region as the fallback, saying so', () => {
    const override = parsePriceOverride('{"FARGATE": {"vcpuHourUsd": 0.05, "gbHourUsd": 0.006}}')
    expect(fargateRate('eu-west-1', 'FARGATE', override)).to.include({vcpuHourUsd: 0.05, gbHourUsd: 0.006, asOf: 'stage setting'})
    // Only the capacity it names is overridden.
    expect(fargateRate('eu-west-1', 'FARGATE_SPOT', override)).to.deep.equal(FARGATE_PRICES['eu-west-1'].FARGATE_SPOT)
    const unlisted = fargateRate('sa-east-1', 'FARGATE')
    expect(unlisted.vcpuHourUsd).to.equal(FARGATE_PRICES[FALLBACK_REGION].FARGATE.vcpuHourUsd)
    expect(unlisted.source).to.contain('sa-east-1 is not in the table')
  })

  it('refuses a malformed override with INVALID_PRICES and a hint', async () => {
    for (const text of ['not json', '{"FARGATE": {"vcpuHourUsd": -1, "gbHourUsd": 0}}', '{"EC2": {}}', '{"FARGATE": {"vcpuHourUsd": 1}}']) {
      const error = await rejection((async () => parsePriceOverride(text))())
      expect(error.code, text).to.equal('INVALID_PRICES')
      expect(error.exitCode).to.equal(2)
      expect(error.hint).to.contain('vcpuHourUsd')
    }
  })

  it('bills a stopped task by the second from its start to its stop, with a one-minute minimum', () => {
    const now = at('2026-01-01T12:00:00Z')
    expect(billedSeconds({...oneVcpu2Gb, startedAt: '2026-01-01T10:00:00Z', stoppedAt: '2026-01-01T10:30:00.200Z'}, now)).to.equal(1801)
    expect(billedSeconds({...oneVcpu2Gb, startedAt: '2026-01-01T10:00:00Z', stoppedAt: '2026-01-01T10:00:05Z'}, now)).to.equal(60)
    expect(billedSeconds({...oneVcpu2Gb}, now), 'never started').to.equal(0)
    // Still running: the time so far.
    expect(billedSeconds({...oneVcpu2Gb, startedAt: '2026-01-01T11:00:00Z'}, now)).to.equal(3600)
  })

  it('prices vCPU and memory (GB = 1024 MiB) for the billed hours', () => {
    const task = {cpu: 2048, memory: 4096, startedAt: '2026-01-01T10:00:00Z', stoppedAt: '2026-01-01T12:00:00Z'}
    // 2 h x (2 vCPU x 0.04 + 4 GB x 0.005) = 2 x 0.10
    expect(computeCostUsd(task, hourly, at('2026-01-02T00:00:00Z'))).to.equal(0.2)
    // The real table: 1 vCPU, 4 GiB on us-east-1 on-demand for one hour.
    const real = computeCostUsd({cpu: 1024, memory: 4096, startedAt: '2026-01-01T10:00:00Z', stoppedAt: '2026-01-01T11:00:00Z'}, fargateRate('us-east-1', 'FARGATE'), at('2026-01-02T00:00:00Z'))
    expect(real).to.equal(0.0583) // 0.04048 + 4 x 0.004445 = 0.05826
    const spot = computeCostUsd({cpu: 1024, memory: 4096, startedAt: '2026-01-01T10:00:00Z', stoppedAt: '2026-01-01T11:00:00Z'}, fargateRate('us-east-1', 'FARGATE_SPOT'), at('2026-01-02T00:00:00Z'))
    expect(spot).to.be.lessThan(real)
  })

  it('counts only the part of the running time inside a window (month-to-date sums)', () => {
    const task = {...oneVcpu2Gb, startedAt: '2026-01-31T23:00:00Z', stoppedAt: '2026-02-01T01:00:00Z'}
    const now = at('2026-02-02T00:00:00Z')
    const january = {from: at('2026-01-01T00:00:00Z'), to: at('2026-02-01T00:00:00Z')}
    const february = {from: at('2026-02-01T00:00:00Z'), to: at('2026-03-01T00:00:00Z')}
    expect(billedSeconds(task, now, january)).to.equal(3600)
    expect(billedSeconds(task, now, february)).to.equal(3600)
    expect(computeCostUsd(task, hourly, now, january) + computeCostUsd(task, hourly, now, february)).to.equal(computeCostUsd(task, hourly, now))
  })

  it('sums the prompts\' reported costUsd and the running prompt\'s so far', () => {
    const prompts = [{result: {costUsd: 0.1234}}, {result: {}}, {}, {result: {costUsd: 0.5}}]
    expect(agentCostUsd(prompts)).to.equal(0.6234)
    expect(agentCostUsd(prompts, 0.02)).to.equal(0.6434)
    expect(agentCostUsd([])).to.equal(0)
  })

  it('gives DESIGN.md\'s cost object: compute, agent and their total', () => {
    const cost = sessionCost({
      task: {cpu: 1024, memory: 2048, startedAt: '2026-01-01T10:00:00Z'},
      rate: hourly,
      prompts: [{result: {costUsd: 0.25}}, {result: {costUsd: 0.1}}],
      runningPromptSoFarUsd: 0.05,
      now: at('2026-01-01T11:00:00Z'),
    })
    expect(cost).to.deep.equal({computeUsd: 0.05, agentUsd: 0.4, totalUsd: 0.45})
    expect(Cost.parse(cost)).to.deep.equal(cost)
  })

  it('counts within a window only the prompts that ended in it', () => {
    const cost = sessionCost({
      task: {cpu: 1024, memory: 2048},
      rate: hourly,
      prompts: [
        {result: {costUsd: 1}, updatedAt: '2026-01-31T23:59:59Z'},
        {result: {costUsd: 2}, updatedAt: '2026-02-01T00:00:00Z'},
      ],
      now: at('2026-02-02T00:00:00Z'),
      window: {from: at('2026-02-01T00:00:00Z'), to: at('2026-03-01T00:00:00Z')},
    })
    expect(cost).to.deep.equal({computeUsd: 0, agentUsd: 2, totalUsd: 2})
  })
})
