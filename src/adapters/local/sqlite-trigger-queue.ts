/**
 * TriggerQueue in the local SQLite file: table `github_trigger_queue` (the item as JSON beside the
 * columns that are selected and ordered on) and `github_queue_locks` (one row per repository while
 * a drain holds it). Every write that depends on what is there is one IMMEDIATE transaction, so two
 * drains in different processes cannot both take one item or both hold one lock.
 */
import type Database from 'better-sqlite3'

import {byQueueOrder, newQueueItem, type NewQueuedTrigger, type QueueSettle, type QueueState, QueuedTrigger, queueKey, takeable, type TriggerQueue} from '../../core/github/queue.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS github_trigger_queue (
  id TEXT PRIMARY KEY,
  repo_key TEXT NOT NULL,
  queued_at TEXT NOT NULL,
  state TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS github_trigger_queue_pending ON github_trigger_queue (state, repo_key, queued_at, id);
CREATE TABLE IF NOT EXISTS github_queue_locks (
  repo_key TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  lock_until TEXT NOT NULL
);
`

const PENDING: readonly QueueState[] = ['WAITING', 'STARTING']

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

export class SqliteTriggerQueue implements TriggerQueue {
  /** @param db a database from openLocalDatabase (WAL, busy timeout); the tables are created here. */
  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA)
  }

  async enqueue(item: NewQueuedTrigger): Promise<QueuedTrigger> {
    const run = this.db.transaction((): QueuedTrigger => {
      this.db.prepare('DELETE FROM github_trigger_queue WHERE expires_at < ?').run(item.queuedAt)
      const existing = this.read(item.id)
      if (existing) return existing
      const record = newQueueItem(item, item.queuedAt)
      this.db
        .prepare('INSERT INTO github_trigger_queue (id, repo_key, queued_at, state, expires_at, record) VALUES (?, ?, ?, ?, ?, ?)')
        .run(record.id, queueKey(record.repo), record.queuedAt, record.state, record.expiresAt, JSON.stringify(record))
      return record
    })
    return run.immediate()
  }

  async get(id: string): Promise<QueuedTrigger | undefined> {
    return this.read(id)
  }

  async pending(repo: string): Promise<QueuedTrigger[]> {
    const rows = this.db
      .prepare(`SELECT record FROM github_trigger_queue WHERE repo_key = ? AND state IN (${PENDING.map(() => '?').join(', ')}) ORDER BY queued_at, id`)
      .all(queueKey(repo), ...PENDING) as {record: string}[]
    return rows.map((row) => QueuedTrigger.parse(JSON.parse(row.record))).sort(byQueueOrder)
  }

  async pendingRepos(): Promise<string[]> {
    const rows = this.db.prepare(`SELECT DISTINCT repo_key FROM github_trigger_queue WHERE state IN (${PENDING.map(() => '?').join(', ')}) ORDER BY repo_key`).all(...PENDING) as {repo_key: string}[]
    return rows.map((row) => row.repo_key)
  }

  async take(id: string, at: string, leaseUntil: string): Promise<QueuedTrigger | undefined> {
    return this.change(id, (current) => (takeable(current, at) ? {...current, state: 'STARTING', leaseUntil, updatedAt: at} : undefined))
  }

  async settle(id: string, from: readonly QueueState[], result: QueueSettle): Promise<QueuedTrigger | undefined> {
    return this.change(id, (current) =>
      from.includes(current.state)
        ? {...current, state: result.state, updatedAt: result.at, leaseUntil: undefined, sessionId: result.sessionId ?? current.sessionId, promptId: result.promptId ?? current.promptId, error: result.error ?? current.error}
        : undefined,
    )
  }

  async lock(repo: string, holder: string, at: string, until: string): Promise<boolean> {
    const run = this.db.transaction((): boolean => {
      const row = this.db.prepare('SELECT holder, lock_until FROM github_queue_locks WHERE repo_key = ?').get(queueKey(repo)) as {holder: string; lock_until: string} | undefined
      if (row && row.holder !== holder && row.lock_until >= at) return false
      this.db
        .prepare('INSERT INTO github_queue_locks (repo_key, holder, lock_until) VALUES (?, ?, ?) ON CONFLICT (repo_key) DO UPDATE SET holder = excluded.holder, lock_until = excluded.lock_until')
        .run(queueKey(repo), holder, until)
      return true
    })
    return run.immediate()
  }

  async unlock(repo: string, holder: string): Promise<void> {
    this.db.prepare('DELETE FROM github_queue_locks WHERE repo_key = ? AND holder = ?').run(queueKey(repo), holder)
  }

  private change(id: string, next: (current: QueuedTrigger) => QueuedTrigger | undefined): Promise<QueuedTrigger | undefined> {
    const run = this.db.transaction((): QueuedTrigger | undefined => {
      const current = this.read(id)
      const changed = current ? next(current) : undefined
      if (!changed) return undefined
      const record = QueuedTrigger.parse(withoutUndefined(changed))
      this.db.prepare('UPDATE github_trigger_queue SET state = ?, record = ? WHERE id = ?').run(record.state, JSON.stringify(record), id)
      return record
    })
    return Promise.resolve(run.immediate())
  }

  private read(id: string): QueuedTrigger | undefined {
    const row = this.db.prepare('SELECT record FROM github_trigger_queue WHERE id = ?').get(id) as {record: string} | undefined
    return row ? QueuedTrigger.parse(JSON.parse(row.record)) : undefined
  }
}
