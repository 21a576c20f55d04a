/**
 * The SQLite queue across processes (two `devflow local` servers cannot share a data dir, but a
 * server and the CLI's admin paths can, and better-sqlite3 in one process never races itself):
 * four processes at the same moment ask for one repository's drain lock and take every pending
 * item. Exactly one gets the lock, and every item is taken by exactly one of them.
 */
import {execFile} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {expect} from 'chai'

import {openLocalDatabase} from '../../src/adapters/local/sqlite-store.js'
import {SqliteTriggerQueue} from '../../src/adapters/local/sqlite-trigger-queue.js'
import {ROOT} from '../helpers/cli.js'

const run = promisify(execFile)

describe('trigger queue on SQLite: processes racing over one file', function () {
  this.timeout(60_000)

  it('gives the lock to one process and each item to exactly one', async function () {
    const dir = await mkdtemp(join(tmpdir(), 'devflow-queue-race-'))
    try {
      const file = join(dir, 'devflow.db')
      const db = openLocalDatabase(file)
      const queue = new SqliteTriggerQueue(db)
      const ids: string[] = []
      for (let n = 0; n < 40; n++) {
        const id = randomUUID()
        ids.push(id)
        await queue.enqueue({id, repo: 'acme/app', queuedAt: new Date(Date.UTC(2026, 2, 1, 10, 0, n)).toISOString(), ownerId: 'github:o', sender: 'o', branch: 'main', source: {kind: 'github', repo: 'acme/app', issue: n + 1}, prompt: 'p', issueNumber: n + 1})
      }
      db.close()
      const startAt = String(Date.now() + 6000)
      const racers = ['a', 'b', 'c', 'd'].map((holder) =>
        run(process.execPath, ['--import', 'tsx', '--no-warnings', join(ROOT, 'test', 'helpers', 'sqlite-queue-racer.ts'), file, holder, startAt], {cwd: ROOT}),
      )
      const results = (await Promise.all(racers)).map(({stdout}) => JSON.parse(stdout.trim()) as {holder: string; locked: boolean; taken: string[]})
      expect(results.filter((r) => r.locked), 'one lock holder').to.have.length(1)
      const taken = results.flatMap((r) => r.taken)
      expect(taken, 'no item taken twice').to.have.length(new Set(taken).size)
      expect([...taken].sort()).to.deep.equal([...ids].sort())
      const check = openLocalDatabase(file)
      expect((await new SqliteTriggerQueue(check).pending('acme/app')).every((i) => i.state === 'STARTING')).to.equal(true)
      check.close()
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })
})
