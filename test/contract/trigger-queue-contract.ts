/**
 * The one contract of the TriggerQueue port (the per-repository limit on sessions from GitHub).
 * The SQLite store of `devflow local` and the DynamoDB store on moto run this same suite: an item
 * per delivery, pending items oldest first per repository, a take won by exactly one drain, a
 * settle only from the states it names, and a drain lock only one holder has.
 */
import {randomUUID} from 'node:crypto'

import {expect} from 'chai'

import {type NewQueuedTrigger, QUEUE_LEASE_SECONDS, type TriggerQueue} from '../../src/core/github/queue.js'

export interface TriggerQueueUnderTest {
  readonly queue: TriggerQueue
  readonly cleanup: () => Promise<void>
}

const T0 = new Date('2026-03-01T10:00:00.000Z')

function later(seconds: number): string {
  return new Date(T0.getTime() + seconds * 1000).toISOString()
}

function trigger(overrides: Partial<NewQueuedTrigger> = {}): NewQueuedTrigger {
  return {
    id: randomUUID(),
    repo: 'Acme/App',
    queuedAt: T0.toISOString(),
    ownerId: 'github:octocat',
    sender: 'octocat',
    branch: 'main',
    source: {kind: 'github', repo: 'Acme/App', issue: 7},
    prompt: 'Work on issue #7',
    issueNumber: 7,
    commentId: 1001,
    ...overrides,
  }
}

export function triggerQueueContract(name: string, open: () => Promise<TriggerQueueUnderTest>): void {
  describe(`trigger queue contract: ${name}`, function () {
    let queue: TriggerQueue
    let cleanup: () => Promise<void>

    beforeEach(async function () {
      ;({queue, cleanup} = await open())
    })

    afterEach(async function () {
      await cleanup()
    })

    it('queues one WAITING item per delivery and reads it back; a second enqueue returns the first', async function () {
      const item = trigger()
      const stored = await queue.enqueue(item)
      expect(stored).to.deep.include({...item, state: 'WAITING', updatedAt: T0.toISOString()})
      expect(stored.expiresAt > stored.queuedAt).to.equal(true)
      expect(await queue.get(item.id)).to.deep.equal(stored)
      const again = await queue.enqueue({...item, prompt: 'a different prompt', queuedAt: later(5)})
      expect(again).to.deep.equal(stored)
      expect(await queue.pending('acme/app')).to.have.length(1)
    })

    it('keeps the session an item resumes (a comment on the pull request of an ended session)', async function () {
      const item = trigger({branch: 'devflow/s-abc', resumeSessionId: 's-abc', source: {kind: 'github', repo: 'Acme/App', pullRequest: 9}, issueNumber: 9})
      await queue.enqueue(item)
      expect(await queue.get(item.id)).to.deep.include({resumeSessionId: 's-abc', branch: 'devflow/s-abc'})
      expect((await queue.pending('acme/app')).find((i) => i.id === item.id)).to.deep.include({resumeSessionId: 's-abc'})
    })

    it('lists a repository\'s pending items oldest first, whatever the case of its name, and the repositories that have some', async function () {
      const second = trigger({queuedAt: later(20)})
      const first = trigger({queuedAt: later(10)})
      const other = trigger({repo: 'acme/other', source: {kind: 'github', repo: 'acme/other', issue: 1}, queuedAt: later(5)})
      for (const item of [second, first, other]) await queue.enqueue(item)
      expect((await queue.pending('ACME/app')).map((i) => i.id)).to.deep.equal([first.id, second.id])
      expect(await queue.pendingRepos()).to.deep.equal(['acme/app', 'acme/other'])
    })

    it('lets exactly one of two racing takes win, and keeps a taken item from the others until its lease runs out', async function () {
      const item = trigger()
      await queue.enqueue(item)
      const lease = later(QUEUE_LEASE_SECONDS)
      const outcomes = await Promise.all([queue.take(item.id, later(1), lease), queue.take(item.id, later(1), lease)])
      expect(outcomes.filter((o) => o !== undefined)).to.have.length(1)
      expect(outcomes.find((o) => o !== undefined)).to.deep.include({state: 'STARTING', leaseUntil: lease})
      expect(await queue.take(item.id, later(QUEUE_LEASE_SECONDS - 1), later(2 * QUEUE_LEASE_SECONDS))).to.equal(undefined)
      expect((await queue.pending('acme/app')).map((i) => i.state), 'a STARTING item stays pending until it is settled').to.deep.equal(['STARTING'])
      const takeover = await queue.take(item.id, later(QUEUE_LEASE_SECONDS + 1), later(2 * QUEUE_LEASE_SECONDS + 1))
      expect(takeover).to.deep.include({state: 'STARTING', leaseUntil: later(2 * QUEUE_LEASE_SECONDS + 1)})
    })

    it('settles only from the states it names, recording the session and prompt, and leaves the pending list', async function () {
      const item = trigger()
      await queue.enqueue(item)
      expect(await queue.settle(item.id, ['STARTING'], {state: 'STARTED', at: later(2), sessionId: 's-abcdefghijklmnopqrst'})).to.equal(undefined)
      await queue.take(item.id, later(1), later(QUEUE_LEASE_SECONDS))
      const started = await queue.settle(item.id, ['STARTING'], {state: 'STARTED', at: later(2), sessionId: 's-abcdefghijklmnopqrst', promptId: 'p-abcdefghijklmnopqrst'})
      expect(started).to.deep.include({state: 'STARTED', sessionId: 's-abcdefghijklmnopqrst', promptId: 'p-abcdefghijklmnopqrst', updatedAt: later(2)})
      expect(started).to.not.have.property('leaseUntil')
      expect(await queue.get(item.id)).to.deep.equal(started)
      expect(await queue.pending('acme/app')).to.deep.equal([])
      expect(await queue.pendingRepos()).to.deep.equal([])
      expect(await queue.take(item.id, later(QUEUE_LEASE_SECONDS * 10), later(QUEUE_LEASE_SECONDS * 11)), 'a started item is never taken again').to.equal(undefined)
    })

    it('cancels a waiting item and records a failure with its error', async function () {
      const waiting = trigger()
      const failing = trigger({queuedAt: later(1)})
      await queue.enqueue(waiting)
      await queue.enqueue(failing)
      expect(await queue.settle(waiting.id, ['WAITING'], {state: 'CANCELLED', at: later(3)})).to.deep.include({state: 'CANCELLED'})
      await queue.take(failing.id, later(2), later(QUEUE_LEASE_SECONDS))
      const failed = await queue.settle(failing.id, ['STARTING'], {state: 'FAILED', at: later(4), error: {code: 'REPO_NOT_ALLOWED', message: 'no'}})
      expect(failed).to.deep.include({state: 'FAILED', error: {code: 'REPO_NOT_ALLOWED', message: 'no'}})
      expect(await queue.settle(randomUUID(), ['WAITING'], {state: 'CANCELLED', at: later(5)}), 'an unknown item').to.equal(undefined)
    })

    it('gives the drain lock to one holder at a time, again to its holder, and to another once it expired or was let go', async function () {
      const until = later(QUEUE_LEASE_SECONDS)
      const [a, b] = await Promise.all([queue.lock('Acme/App', 'drain-a', later(0), until), queue.lock('acme/app', 'drain-b', later(0), until)])
      expect([a, b].filter(Boolean)).to.have.length(1)
      const holder = a ? 'drain-a' : 'drain-b'
      const other = a ? 'drain-b' : 'drain-a'
      expect(await queue.lock('acme/app', holder, later(1), until)).to.equal(true)
      expect(await queue.lock('acme/app', other, later(1), until)).to.equal(false)
      expect(await queue.lock('acme/other', other, later(1), until), 'another repository has its own lock').to.equal(true)
      await queue.unlock('acme/app', other)
      expect(await queue.lock('acme/app', other, later(2), until), 'unlock by a non-holder changes nothing').to.equal(false)
      expect(await queue.lock('acme/app', other, later(QUEUE_LEASE_SECONDS + 1), later(2 * QUEUE_LEASE_SECONDS)), 'an expired lock').to.equal(true)
      await queue.unlock('acme/app', other)
      expect(await queue.lock('acme/app', holder, later(QUEUE_LEASE_SECONDS + 2), later(3 * QUEUE_LEASE_SECONDS))).to.equal(true)
    })
  })
}
