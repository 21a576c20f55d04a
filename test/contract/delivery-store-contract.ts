/**
 * The one contract of the DeliveryStore port (webhook deliveries by X-GitHub-Delivery). The SQLite
 * store of `devflow local` and the DynamoDB store on moto run this same suite: a delivery is
 * processed once, a failed one may be retried, a dead claim expires, and the newest come first.
 */
import {randomUUID} from 'node:crypto'

import {expect} from 'chai'

import {type DeliveryClaim, deliveryClaim, DELIVERY_LEASE_SECONDS, type DeliveryStore} from '../../src/core/github/deliveries.js'
import {rejection} from '../helpers/assertions.js'

export interface DeliveryStoreUnderTest {
  readonly deliveries: DeliveryStore
  readonly cleanup: () => Promise<void>
}

const T0 = new Date('2026-03-01T10:00:00.000Z')

function later(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000)
}

function claimAt(at: Date, overrides: Partial<DeliveryClaim> = {}, id: string = randomUUID()): DeliveryClaim {
  return {...deliveryClaim({id, event: 'issues', action: 'labeled', repo: 'acme/app'}, at), ...overrides}
}

export function deliveryStoreContract(name: string, open: () => Promise<DeliveryStoreUnderTest>): void {
  describe(`delivery store contract: ${name}`, function () {
    let store: DeliveryStore
    let cleanup: () => Promise<void>

    beforeEach(async function () {
      ;({deliveries: store, cleanup} = await open())
    })

    afterEach(async function () {
      await cleanup()
    })

    it('claims a new delivery and reads it back', async function () {
      const claim = claimAt(T0)
      const result = await store.claim(claim)
      expect(result.claimed).to.equal(true)
      const expected = {
        id: claim.id,
        event: 'issues',
        action: 'labeled',
        repo: 'acme/app',
        receivedAt: T0.toISOString(),
        updatedAt: T0.toISOString(),
        status: 'PROCESSING',
        leaseUntil: later(DELIVERY_LEASE_SECONDS).toISOString(),
        attempts: 1,
        expiresAt: claim.expiresAt,
      }
      expect(result.claimed && result.record).to.deep.equal(expected)
      expect(await store.get(claim.id)).to.deep.equal(expected)
    })

    it('answers a redelivery of a finished delivery as a duplicate, unchanged', async function () {
      const claim = claimAt(T0)
      await store.claim(claim)
      const done = await store.finish(claim.id, {status: 'DONE', at: later(1).toISOString(), outcome: 'start', detail: 's-abcdefghijklmnopqrst'})
      expect(done).to.deep.include({status: 'DONE', outcome: 'start', detail: 's-abcdefghijklmnopqrst', attempts: 1})
      expect(done).to.not.have.property('leaseUntil')

      const again = await store.claim(claimAt(later(3600), {}, claim.id))
      expect(again).to.deep.equal({claimed: false, existing: done})
      expect(await store.get(claim.id)).to.deep.equal(done)
    })

    it('lets exactly one of two racing claims of one delivery win', async function () {
      const id = randomUUID()
      const outcomes = await Promise.all([store.claim(claimAt(T0, {}, id)), store.claim(claimAt(T0, {}, id))])
      expect(outcomes.filter((o) => o.claimed)).to.have.length(1)
      expect(outcomes.filter((o) => !o.claimed)).to.have.length(1)
      expect((await store.get(id))?.attempts).to.equal(1)
    })

    it('refuses a claim while another is processing under a live lease', async function () {
      const claim = claimAt(T0)
      await store.claim(claim)
      const second = await store.claim(claimAt(later(DELIVERY_LEASE_SECONDS - 1), {}, claim.id))
      expect(second.claimed).to.equal(false)
      expect(!second.claimed && second.existing.status).to.equal('PROCESSING')
    })

    it('takes over a claim whose lease ran out, keeping the first receipt time', async function () {
      const claim = claimAt(T0)
      await store.claim(claim)
      const retry = await store.claim(claimAt(later(DELIVERY_LEASE_SECONDS + 1), {}, claim.id))
      expect(retry.claimed).to.equal(true)
      expect(retry.claimed && retry.record).to.deep.include({attempts: 2, receivedAt: T0.toISOString(), updatedAt: later(DELIVERY_LEASE_SECONDS + 1).toISOString(), status: 'PROCESSING'})
    })

    it('lets a failed delivery be claimed again, dropping the old outcome', async function () {
      const claim = claimAt(T0)
      await store.claim(claim)
      await store.finish(claim.id, {status: 'FAILED', at: later(2).toISOString(), outcome: 'start', detail: 'GITHUB_UNAVAILABLE'})
      const retry = await store.claim(claimAt(later(60), {}, claim.id))
      expect(retry.claimed).to.equal(true)
      const record = retry.claimed ? retry.record : undefined
      expect(record).to.deep.include({status: 'PROCESSING', attempts: 2})
      expect(record).to.not.have.property('outcome')
      expect(record).to.not.have.property('detail')
    })

    it('records the work a delivery created and keeps it across a retry after a failure', async function () {
      const claim = claimAt(T0)
      await store.claim(claim)
      expect(await store.recordWork(claim.id, {sessionId: 's-abcdefghijklmnopqrst'})).to.deep.include({sessionId: 's-abcdefghijklmnopqrst', status: 'PROCESSING'})
      const recorded = await store.recordWork(claim.id, {sessionId: 's-abcdefghijklmnopqrst', promptId: 'p-abcdefghijklmnopqrst'})
      expect(recorded).to.deep.include({sessionId: 's-abcdefghijklmnopqrst', promptId: 'p-abcdefghijklmnopqrst'})
      await store.finish(claim.id, {status: 'FAILED', at: later(2).toISOString(), detail: 'GITHUB_UNAVAILABLE'})
      const retry = await store.claim(claimAt(later(60), {}, claim.id))
      expect(retry.claimed && retry.record).to.deep.include({attempts: 2, sessionId: 's-abcdefghijklmnopqrst', promptId: 'p-abcdefghijklmnopqrst'})
      const error = await rejection(store.recordWork(randomUUID(), {sessionId: 's-abcdefghijklmnopqrst'}))
      expect(error.code).to.equal('DELIVERY_NOT_FOUND')
    })

    it('reports DELIVERY_NOT_FOUND when finishing an unknown delivery, and writes nothing', async function () {
      const id = randomUUID()
      const error = await rejection(store.finish(id, {status: 'DONE', at: T0.toISOString()}))
      expect(error.code).to.equal('DELIVERY_NOT_FOUND')
      expect(error.kind).to.equal('not_found')
      expect(await store.get(id)).to.equal(undefined)
    })

    it('keeps a delivery without action or repository (ping)', async function () {
      const claim = {...deliveryClaim({id: randomUUID(), event: 'ping'}, T0)}
      const result = await store.claim(claim)
      expect(result.claimed && result.record).to.not.have.property('action')
      expect(result.claimed && result.record).to.not.have.property('repo')
    })

    it('lists the newest deliveries first, at most the limit', async function () {
      const ids: string[] = []
      for (let minute = 0; minute < 4; minute++) {
        const claim = claimAt(later(minute * 60))
        ids.push(claim.id)
        await store.claim(claim)
      }
      expect((await store.recent(3)).map((record) => record.id)).to.deep.equal(ids.slice(1).reverse())
      expect(await store.recent(10)).to.have.length(4)
    })
  })
}
