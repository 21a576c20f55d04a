/**
 * `devflow usage` from the usage ledger's day rows (core/services/usage.ts) on the real SQLite
 * store: the groups, the caller's scope, the period in whole days, and the totals.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type Database from 'better-sqlite3'
import {expect} from 'chai'

import {openLocalDatabase} from '../../../../src/adapters/local/sqlite-store.js'
import {SqliteUsageStore} from '../../../../src/adapters/local/sqlite-usage-store.js'
import type {CoreDeps} from '../../../../src/core/services/index.js'
import {usageReport} from '../../../../src/core/services/usage.js'
import {usageItemsFor} from '../../../../src/core/usage-ledger.js'

describe('core services: devflow usage from the ledger', () => {
  let dir: string
  let db: Database.Database
  let usage: SqliteUsageStore
  const now = new Date('2026-03-20T12:00:00Z')
  const deps = () => ({usage, clock: {now: () => now}}) as unknown as CoreDeps
  const record = (userId: string, repo: string, day: string, delta: Parameters<SqliteUsageStore['add']>[1]) => usage.add(usageItemsFor({userId, repo}, new Date(`${day}T10:00:00Z`)), delta)

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'devflow-usage-report-'))
    db = openLocalDatabase(join(dir, 'devflow.db'))
    usage = new SqliteUsageStore(db)
    await record('ada', 'octo/app', '2026-03-19', {sessions: 1, prompts: 2, agentUsd: 0.5})
    await record('ada', 'octo/lib', '2026-03-20', {sessions: 1, computeUsd: 0.25, hours: 2})
    await record('bob', 'octo/app', '2026-03-20', {sessions: 1, prompts: 1, agentUsd: 1})
    await record('ada', 'octo/app', '2026-02-01', {sessions: 1, agentUsd: 9}) // before the period
  })
  afterEach(async () => {
    db.close()
    await rm(dir, {recursive: true, force: true})
  })

  it('an admin sees every user, by user, repository or day, with one total', async () => {
    const byUser = await usageReport(deps(), {userId: 'ops', admin: true}, {since: '7d'})
    expect(byUser).to.deep.include({from: '2026-03-13T00:00:00.000Z', to: now.toISOString(), by: 'user', scope: 'all'})
    expect(byUser.rows.map((row) => [row.key, row.sessions, row.prompts, row.totalUsd])).to.deep.equal([
      ['bob', 1, 1, 1],
      ['ada', 2, 2, 0.75],
    ])
    expect(byUser.total).to.deep.equal({sessions: 3, hours: 2, prompts: 3, computeUsd: 0.25, agentUsd: 1.5, totalUsd: 1.75})
    const byRepo = await usageReport(deps(), {userId: 'ops', admin: true}, {since: '7d', by: 'repo'})
    expect(byRepo.rows.map((row) => [row.key, row.sessions, row.totalUsd])).to.deep.equal([
      ['octo/app', 2, 1.5],
      ['octo/lib', 1, 0.25],
    ])
    expect(byRepo.total).to.deep.equal(byUser.total)
    const byDay = await usageReport(deps(), {userId: 'ops', admin: true}, {since: '7d', by: 'day'})
    expect(byDay.rows.map((row) => [row.key, row.sessions])).to.deep.equal([
      ['2026-03-19', 1],
      ['2026-03-20', 2],
    ])
  })

  it('anyone else sees their own only', async () => {
    const mine = await usageReport(deps(), {userId: 'ada'}, {since: '7d'})
    expect(mine.scope).to.equal('ada')
    expect(mine.rows.map((row) => [row.key, row.sessions, row.totalUsd])).to.deep.equal([['ada', 2, 0.75]])
    const byRepo = await usageReport(deps(), {userId: 'ada'}, {since: '7d', by: 'repo'})
    expect(byRepo.rows.map((row) => row.key)).to.deep.equal(['octo/app', 'octo/lib'])
    expect((await usageReport(deps(), {userId: 'carol'}, {})).rows).to.deep.equal([])
  })

  it('a longer period reaches older days', async () => {
    const year = await usageReport(deps(), {userId: 'ada'}, {since: '60d', by: 'day'})
    expect(year.rows.map((row) => row.key)).to.deep.equal(['2026-02-01', '2026-03-19', '2026-03-20'])
  })
})
