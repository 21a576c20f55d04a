/**
 * The warm pool's store of `devflow local` (core/warm-pool.ts), in the local database beside the
 * sessions: the same conditional writes as the DynamoDB adapter, checked by the same contract suite.
 */
import type Database from 'better-sqlite3'

import {concurrentUpdate, conflict, notFound} from '../../core/errors.js'
import {type WarmPoolCounters, type WarmPoolStore, type WarmTaskChanges, WarmTaskRecord} from '../../core/warm-pool.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS warm_tasks (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  version INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS warm_counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
`

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

export class SqliteWarmPoolStore implements WarmPoolStore {
  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA)
  }

  async create(record: WarmTaskRecord): Promise<void> {
    const valid = WarmTaskRecord.parse(record)
    const inserted = this.db.prepare('INSERT OR IGNORE INTO warm_tasks (id, status, version, record) VALUES (?, ?, ?, ?)').run(valid.id, valid.status, valid.version, JSON.stringify(valid))
    if (inserted.changes === 0) throw conflict('WARM_TASK_EXISTS', `Warm task ${valid.id} already exists.`, 'Use a new id.')
  }

  async get(id: string): Promise<WarmTaskRecord | undefined> {
    const row = this.db.prepare('SELECT record FROM warm_tasks WHERE id = ?').get(id) as {record: string} | undefined
    return row ? WarmTaskRecord.parse(JSON.parse(row.record)) : undefined
  }

  async list(): Promise<WarmTaskRecord[]> {
    const rows = this.db.prepare('SELECT record FROM warm_tasks').all() as {record: string}[]
    return rows.map((row) => WarmTaskRecord.parse(JSON.parse(row.record)))
  }

  async update(id: string, expectedVersion: number, changes: WarmTaskChanges): Promise<WarmTaskRecord> {
    const apply = this.db.transaction(() => {
      const row = this.db.prepare('SELECT version, record FROM warm_tasks WHERE id = ?').get(id) as {version: number; record: string} | undefined
      if (!row) throw notFound('WARM_TASK_NOT_FOUND', `Warm task ${id} is not in the pool.`, 'The pool keeper removed it.')
      if (row.version !== expectedVersion) throw concurrentUpdate(`Warm task ${id}`)
      return this.write(JSON.parse(row.record) as WarmTaskRecord, changes)
    })
    return apply.immediate()
  }

  async assign(id: string, sessionId: string, at: string): Promise<WarmTaskRecord | undefined> {
    const apply = this.db.transaction(() => {
      const row = this.db.prepare("SELECT record FROM warm_tasks WHERE id = ? AND status = 'WARM'").get(id) as {record: string} | undefined
      return row ? this.write(JSON.parse(row.record) as WarmTaskRecord, {status: 'ASSIGNED', sessionId, assignedAt: at}) : undefined
    })
    return apply.immediate()
  }

  async remove(id: string): Promise<void> {
    this.db.prepare('DELETE FROM warm_tasks WHERE id = ?').run(id)
  }

  async count(outcome: 'hit' | 'miss'): Promise<void> {
    this.db.prepare('INSERT INTO warm_counters (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1').run(outcome)
  }

  async counters(): Promise<WarmPoolCounters> {
    const rows = this.db.prepare('SELECT name, value FROM warm_counters').all() as {name: string; value: number}[]
    const value = (name: string) => rows.find((row) => row.name === name)?.value ?? 0
    return {hits: value('hit'), misses: value('miss')}
  }

  /** Inside a transaction: the new version of the record. An explicit undefined removes a field. */
  private write(current: WarmTaskRecord, changes: WarmTaskChanges): WarmTaskRecord {
    const next = WarmTaskRecord.parse(withoutUndefined({...current, ...changes, id: current.id, startedAt: current.startedAt, version: current.version + 1}))
    this.db.prepare('UPDATE warm_tasks SET status = ?, version = ?, record = ? WHERE id = ?').run(next.status, next.version, JSON.stringify(next), next.id)
    return next
  }
}
