/**
 * The one contract of the UsageStore port (the usage ledger). The SQLite store of `devflow local`
 * and the DynamoDB store on moto run this same suite: adds sum per item, concurrent adds lose
 * nothing, an item never added to reads zero, and a range returns a scope's periods in order.
 */
import {expect} from 'chai'

import type {UsageStore} from '../../src/core/ports.js'
import {ownerScope, STAGE_SCOPE, usageItemsFor, ZERO_USAGE} from '../../src/core/usage-ledger.js'

export interface UsageStoreUnderTest {
  readonly usage: UsageStore
  readonly cleanup: () => Promise<void>
}

const AT = new Date('2026-03-14T10:00:00.000Z')
const SESSION = {userId: 'local:ada', repo: 'octo/app'}

export function usageStoreContract(name: string, open: () => Promise<UsageStoreUnderTest>): void {
  describe(`usage store contract: ${name}`, function () {
    let store: UsageStore
    let cleanup: () => Promise<void>
    beforeEach(async () => {
      ;({usage: store, cleanup} = await open())
    })
    afterEach(() => cleanup())

    it('reads zero for an item never added to', async () => {
      expect(await store.get({scope: STAGE_SCOPE, period: 'month#2026-03'})).to.deep.equal(ZERO_USAGE)
    })

    it('adds each figure to every item of a recording, and sums later recordings', async () => {
      const items = usageItemsFor(SESSION, AT)
      await store.add(items, {sessions: 1})
      await store.add(items, {prompts: 1, agentUsd: 0.1})
      await store.add(items, {prompts: 1, agentUsd: 0.2})
      await store.add(items, {computeUsd: 0.05, hours: 1.5})
      for (const item of items) {
        expect(await store.get(item), `${item.scope} ${item.period}`).to.deep.equal({sessions: 1, hours: 1.5, prompts: 2, computeUsd: 0.05, agentUsd: 0.3, totalUsd: 0.35})
      }
      expect(await store.get({scope: ownerScope('local:bob'), period: 'month#2026-03'}), 'another owner').to.deep.equal(ZERO_USAGE)
    })

    it('loses no add when many arrive at once (each add is atomic)', async () => {
      const item = {scope: STAGE_SCOPE, period: 'month#2026-03'}
      await Promise.all(Array.from({length: 25}, () => store.add([item], {prompts: 1, agentUsd: 0.01})))
      expect(await store.get(item)).to.include({prompts: 25, agentUsd: 0.25})
    })

    it('returns a scope\'s periods within a range, in order, and nothing of another scope', async () => {
      await store.add(usageItemsFor(SESSION, new Date('2026-03-02T00:00:00Z')), {sessions: 1})
      await store.add(usageItemsFor({...SESSION, repo: 'octo/lib'}, new Date('2026-03-01T23:59:59Z')), {sessions: 1})
      await store.add(usageItemsFor(SESSION, new Date('2026-02-27T12:00:00Z')), {sessions: 1})
      await store.add(usageItemsFor({userId: 'local:bob', repo: 'octo/app'}, new Date('2026-03-02T00:00:00Z')), {sessions: 1})
      const rows = await store.range(ownerScope('local:ada'), '2026-03-01', '2026-03-31~')
      expect(rows.map((row) => [row.period, row.sessions])).to.deep.equal([
        ['2026-03-01#repo#octo/lib', 1],
        ['2026-03-02#repo#octo/app', 1],
      ])
      const stage = await store.range(STAGE_SCOPE, '2026-03-02', '2026-03-02~')
      expect(stage.map((row) => row.period)).to.deep.equal(['2026-03-02#repo#octo/app', '2026-03-02#user#local:ada', '2026-03-02#user#local:bob'])
      expect(stage.find((row) => row.period === '2026-03-02#repo#octo/app')?.sessions, 'both users on that repo').to.equal(2)
    })

    it('an empty delta writes nothing', async () => {
      await store.add([{scope: STAGE_SCOPE, period: '2026-03-05#repo#x/y'}], {})
      expect(await store.range(STAGE_SCOPE, '2026-03-05', '2026-03-05~')).to.deep.equal([])
    })
  })
}
