/**
 * The one contract of the SessionStore and PromptStore ports. Every store adapter (the embedded
 * SQLite store of `devflow local`, the DynamoDB store on moto) runs this same suite, so the two
 * cannot drift: conditional updates, the conflict codes, newest-first paging, prompt order and
 * prompt events.
 */
import {expect} from 'chai'

import {DevflowError} from '../../src/core/errors.js'
import {randomIds} from '../../src/core/ids.js'
import type {PromptRecord, SessionRecord} from '../../src/core/models.js'
import type {PromptStore, SessionStore} from '../../src/core/ports.js'
import {rejection} from '../helpers/assertions.js'

export interface StoreUnderTest {
  readonly sessions: SessionStore
  readonly prompts: PromptStore
  /** Drops the stores' state so each test starts empty. */
  readonly cleanup: () => Promise<void>
}


function session(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomIds.sessionId(),
    userId: 'user-a',
    repo: 'acme/app',
    branch: 'main',
    status: 'PENDING',
    capacity: 'FARGATE_SPOT',
    cpu: 1024,
    memory: 4096,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T04:00:00.000Z',
    idleTimeoutSeconds: 1800,
    agentTokenHash: 'a'.repeat(64),
    version: 0,
    ...overrides,
  }
}

function prompt(sessionId: string, seq: number, overrides: Partial<PromptRecord> = {}): PromptRecord {
  return {
    id: randomIds.promptId(),
    sessionId,
    seq,
    text: `prompt ${seq}`,
    status: 'QUEUED',
    pr: 'none',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    attempt: 0,
    version: 0,
    ...overrides,
  }
}

function at(minute: number): string {
  return new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString()
}

export function storeContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`store contract: ${name}`, function () {
    let store: StoreUnderTest

    beforeEach(async function () {
      store = await open()
    })

    afterEach(async function () {
      await store.cleanup()
    })

    describe('SessionStore', function () {
      it('stores a session and reads it back unchanged', async function () {
        const record = session({taskArn: 'arn:task/1', idempotencyKey: 'k-1', error: {code: 'X', message: 'y'}})
        await store.sessions.create(record)
        expect(await store.sessions.get(record.id)).to.deep.equal(record)
      })

      it('returns undefined for an unknown id', async function () {
        expect(await store.sessions.get(randomIds.sessionId())).to.equal(undefined)
      })

      it('refuses a second create with the same id (idempotency race) with SESSION_EXISTS', async function () {
        const record = session()
        await store.sessions.create(record)
        const error = await rejection(store.sessions.create({...record, repo: 'other/repo'}))
        expect(error.code).to.equal('SESSION_EXISTS')
        expect(error.kind).to.equal('conflict')
        expect((await store.sessions.get(record.id))?.repo).to.equal('acme/app')
      })

      it('updates conditionally on the version and increments it', async function () {
        const record = session()
        await store.sessions.create(record)
        const updated = await store.sessions.update(record.id, 0, {status: 'PROVISIONING', taskArn: 'arn:task/2', updatedAt: at(1)})
        expect(updated).to.include({status: 'PROVISIONING', taskArn: 'arn:task/2', version: 1, userId: 'user-a', createdAt: record.createdAt})
        expect(await store.sessions.get(record.id)).to.deep.equal(updated)
      })

      it('lets exactly one of two racing updates from the same version win (CONCURRENT_UPDATE)', async function () {
        const record = session()
        await store.sessions.create(record)
        const outcomes = await Promise.allSettled([
          store.sessions.update(record.id, 0, {status: 'STOPPING'}),
          store.sessions.update(record.id, 0, {status: 'FAILED'}),
        ])
        const won = outcomes.filter((o) => o.status === 'fulfilled')
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')
        expect(won).to.have.length(1)
        expect(lost).to.have.length(1)
        expect((lost[0].reason as DevflowError).code).to.equal('CONCURRENT_UPDATE')
        const stored = await store.sessions.get(record.id)
        expect(stored?.version).to.equal(1)
        expect(stored?.status).to.equal((won[0] as PromiseFulfilledResult<SessionRecord>).value.status)
      })

      it('rejects a stale version without changing the record', async function () {
        const record = session()
        await store.sessions.create(record)
        await store.sessions.update(record.id, 0, {status: 'PROVISIONING'})
        const error = await rejection(store.sessions.update(record.id, 0, {status: 'FAILED'}))
        expect(error.code).to.equal('CONCURRENT_UPDATE')
        expect((await store.sessions.get(record.id))?.status).to.equal('PROVISIONING')
      })

      it('reports SESSION_NOT_FOUND when updating a missing session', async function () {
        const error = await rejection(store.sessions.update(randomIds.sessionId(), 0, {status: 'FAILED'}))
        expect(error.code).to.equal('SESSION_NOT_FOUND')
        expect(error.kind).to.equal('not_found')
      })

      it('removes an optional field updated to undefined', async function () {
        const record = session({error: {code: 'OLD', message: 'old'}})
        await store.sessions.create(record)
        const updated = await store.sessions.update(record.id, 0, {error: undefined})
        expect(updated).to.not.have.property('error')
        expect(await store.sessions.get(record.id)).to.not.have.property('error')
      })

      it("lists a user's sessions newest first, page by page, and no one else's", async function () {
        const mine = [1, 2, 3, 4, 5].map((minute) => session({createdAt: at(minute)}))
        for (const record of mine) await store.sessions.create(record)
        await store.sessions.create(session({userId: 'user-b', createdAt: at(6)}))

        const seen: string[] = []
        let nextToken: string | undefined
        let pages = 0
        do {
          const page = await store.sessions.listByUser('user-a', {limit: 2, nextToken})
          expect(page.items.length).to.be.at.most(2)
          seen.push(...page.items.map((item) => item.id))
          nextToken = page.nextToken
          pages += 1
        } while (nextToken && pages < 10)
        expect(seen).to.deep.equal(mine.map((record) => record.id).reverse())
      })

      it('lists every user for admin mode', async function () {
        await store.sessions.create(session({userId: 'user-a', createdAt: at(1)}))
        await store.sessions.create(session({userId: 'user-b', createdAt: at(2)}))
        const page = await store.sessions.listAll({limit: 10})
        expect(page.items.map((item) => item.userId).sort()).to.deep.equal(['user-a', 'user-b'])
        expect(page.nextToken).to.equal(undefined)
      })

      it('answers ping', async function () {
        await store.sessions.ping()
      })
    })

    describe('PromptStore', function () {
      const sessionId = 's-aaaaaaaaaaaaaaaaaaaa'

      it('stores prompts and lists them in seq order, page by page', async function () {
        const records = [3, 1, 2].map((seq) => prompt(sessionId, seq))
        for (const record of records) await store.prompts.create(record)
        await store.prompts.create(prompt('s-bbbbbbbbbbbbbbbbbbbb', 1))

        const first = await store.prompts.list(sessionId, {limit: 2})
        expect(first.items.map((item) => item.seq)).to.deep.equal([1, 2])
        expect(first.nextToken).to.be.a('string')
        const second = await store.prompts.list(sessionId, {limit: 2, nextToken: first.nextToken})
        expect(second.items.map((item) => item.seq)).to.deep.equal([3])
        expect(second.nextToken).to.equal(undefined)
        expect(await store.prompts.get(sessionId, records[0].id)).to.deep.equal(records[0])
      })

      it('refuses a taken seq with PROMPT_SEQ_TAKEN', async function () {
        await store.prompts.create(prompt(sessionId, 1))
        const error = await rejection(store.prompts.create(prompt(sessionId, 1)))
        expect(error.code).to.equal('PROMPT_SEQ_TAKEN')
        expect(error.kind).to.equal('conflict')
      })

      it('knows the last seq of a session, 0 when none', async function () {
        expect(await store.prompts.lastSeq(sessionId)).to.equal(0)
        await store.prompts.create(prompt(sessionId, 1))
        await store.prompts.create(prompt(sessionId, 2))
        expect(await store.prompts.lastSeq(sessionId)).to.equal(2)
      })

      it('returns undefined for an unknown prompt, or one of another session', async function () {
        const record = prompt(sessionId, 1)
        await store.prompts.create(record)
        expect(await store.prompts.get(sessionId, randomIds.promptId())).to.equal(undefined)
        expect(await store.prompts.get('s-bbbbbbbbbbbbbbbbbbbb', record.id)).to.equal(undefined)
      })

      it('claims a prompt with one conditional update: one of two racing claims wins', async function () {
        const record = prompt(sessionId, 1)
        await store.prompts.create(record)
        const claim = {status: 'RUNNING' as const, attempt: 1, leaseUntil: at(5)}
        const outcomes = await Promise.allSettled([store.prompts.update(sessionId, record.id, 0, claim), store.prompts.update(sessionId, record.id, 0, claim)])
        expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(1)
        const lost = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')
        expect((lost?.reason as DevflowError).code).to.equal('CONCURRENT_UPDATE')

        const done = await store.prompts.update(sessionId, record.id, 1, {
          status: 'SUCCEEDED',
          leaseUntil: undefined,
          result: {summary: 'done', branch: 'devflow/x', commit: 'abc1234', turns: 2, costUsd: 0.01},
        })
        expect(done).to.not.have.property('leaseUntil')
        expect(await store.prompts.get(sessionId, record.id)).to.deep.equal(done)
        expect(done.version).to.equal(2)
      })

      it('reports PROMPT_NOT_FOUND when updating a missing prompt', async function () {
        const error = await rejection(store.prompts.update(sessionId, randomIds.promptId(), 0, {status: 'CANCELLED'}))
        expect(error.code).to.equal('PROMPT_NOT_FOUND')
      })

      it('appends events with increasing seq and lists those after a position', async function () {
        const promptId = randomIds.promptId()
        const first = await store.prompts.appendEvents(promptId, [
          {type: 'text', text: 'one', at: at(1)},
          {type: 'tool', data: {name: 'Edit'}, at: at(1)},
        ])
        expect(first.map((event) => event.seq)).to.deep.equal([1, 2])
        const second = await store.prompts.appendEvents(promptId, [{type: 'text', text: 'three', at: at(2)}])
        expect(second.map((event) => event.seq)).to.deep.equal([3])

        expect((await store.prompts.listEvents(promptId, 0, 100)).map((event) => event.seq)).to.deep.equal([1, 2, 3])
        expect(await store.prompts.listEvents(promptId, 1, 1)).to.deep.equal([{type: 'tool', data: {name: 'Edit'}, at: at(1), seq: 2}])
        expect(await store.prompts.listEvents(promptId, 3, 100)).to.deep.equal([])
        expect(await store.prompts.listEvents(randomIds.promptId(), 0, 100)).to.deep.equal([])
      })

      it('reads back any JSON data as it was stored: empty keys, huge numbers, deep nesting, empty containers', async function () {
        const promptId = randomIds.promptId()
        let deep: unknown = 'deep'
        for (let level = 0; level < 40; level++) deep = [deep]
        const data = [{'': ''}, {n: 1e300, tiny: 5e-324, empty: {}, list: []}, deep, '', null]
        await store.prompts.appendEvents(promptId, data.map((value) => ({type: 'tool', data: value, at: at(1)})))
        expect((await store.prompts.listEvents(promptId, 0, 100)).map((event) => event.data)).to.deep.equal(data)
      })
    })
  })
}
