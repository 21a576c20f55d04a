/**
 * UsageStore in the local SQLite file: table `usage`, one row per (scope, period)
 * (src/core/usage-ledger.ts). An add is an upsert that adds to the stored figures in one
 * statement per item, inside one IMMEDIATE transaction, so concurrent writers never lose an add.
 */
import type Database from 'better-sqlite3'

import type {UsageStore} from '../../core/ports.js'
import {type UsageDelta, type UsageFigures, type UsageItemKey, type UsageRow, withTotal, ZERO_USAGE} from '../../core/usage-ledger.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS usage (
  scope TEXT NOT NULL,
  period TEXT NOT NULL,
  sessions REAL NOT NULL DEFAULT 0,
  hours REAL NOT NULL DEFAULT 0,
  prompts REAL NOT NULL DEFAULT 0,
  compute_usd REAL NOT NULL DEFAULT 0,
  agent_usd REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (scope, period)
);
`

interface Row {
  scope: string
  period: string
  sessions: number
  hours: number
  prompts: number
  compute_usd: number
  agent_usd: number
}

function figuresOf(row: Row | undefined): UsageFigures {
  if (!row) return ZERO_USAGE
  return withTotal({sessions: row.sessions, hours: row.hours, prompts: row.prompts, computeUsd: row.compute_usd, agentUsd: row.agent_usd})
}

export class SqliteUsageStore implements UsageStore {
  /** @param db a database from openLocalDatabase; the table is created here. */
  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA)
  }

  async add(items: readonly UsageItemKey[], delta: UsageDelta): Promise<void> {
    const values = [delta.sessions ?? 0, delta.hours ?? 0, delta.prompts ?? 0, delta.computeUsd ?? 0, delta.agentUsd ?? 0]
    if (values.every((value) => value === 0)) return
    const upsert = this.db.prepare(
      'INSERT INTO usage (scope, period, sessions, hours, prompts, compute_usd, agent_usd) VALUES (?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (scope, period) DO UPDATE SET sessions = sessions + excluded.sessions, hours = hours + excluded.hours, prompts = prompts + excluded.prompts, ' +
        'compute_usd = compute_usd + excluded.compute_usd, agent_usd = agent_usd + excluded.agent_usd',
    )
    this.db.transaction(() => {
      for (const item of items) upsert.run(item.scope, item.period, ...values)
    }).immediate()
  }

  async get(item: UsageItemKey): Promise<UsageFigures> {
    return figuresOf(this.db.prepare('SELECT * FROM usage WHERE scope = ? AND period = ?').get(item.scope, item.period) as Row | undefined)
  }

  async range(scope: string, from: string, to: string): Promise<UsageRow[]> {
    const rows = this.db.prepare('SELECT * FROM usage WHERE scope = ? AND period BETWEEN ? AND ? ORDER BY period').all(scope, from, to) as Row[]
    return rows.map((row) => ({scope, period: row.period, ...figuresOf(row)}))
  }
}
