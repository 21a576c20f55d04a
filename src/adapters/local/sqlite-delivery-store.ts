/**
 * DeliveryStore in the local SQLite file (the embedded platform's database): table
 * `github_deliveries`, the record as JSON beside the columns that are ordered on. A claim is one
 * IMMEDIATE transaction (read, apply core's `claimable` rule, write), so two claimants in
 * different processes cannot both win. SQLite has no TTL: expired records are dropped on claim.
 */
import type Database from 'better-sqlite3'

import {notFound} from '../../core/errors.js'
import {claimable, type ClaimResult, type DeliveryClaim, type DeliveryFinish, DeliveryRecord, type DeliveryStore, type DeliveryWork} from '../../core/github/deliveries.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS github_deliveries (
  id TEXT PRIMARY KEY,
  received_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS github_deliveries_by_received ON github_deliveries (received_at DESC, id DESC);
`

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

export class SqliteDeliveryStore implements DeliveryStore {
  /** @param db a database from openLocalDatabase (WAL, busy timeout); the table is created here. */
  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA)
  }

  async claim(claim: DeliveryClaim): Promise<ClaimResult> {
    const run = this.db.transaction((): ClaimResult => {
      this.db.prepare('DELETE FROM github_deliveries WHERE expires_at < ?').run(claim.at)
      const existing = this.read(claim.id)
      if (!claimable(existing, claim.at)) return {claimed: false, existing: existing as DeliveryRecord}
      const record = DeliveryRecord.parse(
        withoutUndefined({
          id: claim.id,
          event: claim.event,
          action: claim.action ?? existing?.action,
          repo: claim.repo ?? existing?.repo,
          receivedAt: existing?.receivedAt ?? claim.at,
          updatedAt: claim.at,
          status: 'PROCESSING',
          leaseUntil: claim.leaseUntil,
          attempts: (existing?.attempts ?? 0) + 1,
          expiresAt: claim.expiresAt,
          sessionId: existing?.sessionId,
          promptId: existing?.promptId,
        }),
      )
      this.db
        .prepare('INSERT INTO github_deliveries (id, received_at, expires_at, record) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at, record = excluded.record')
        .run(record.id, record.receivedAt, record.expiresAt, JSON.stringify(record))
      return {claimed: true, record}
    })
    return run.immediate()
  }

  async finish(id: string, result: DeliveryFinish): Promise<DeliveryRecord> {
    const run = this.db.transaction((): DeliveryRecord => {
      const current = this.read(id)
      if (!current) throw notFound('DELIVERY_NOT_FOUND', `There is no webhook delivery ${id}.`, 'Claim the delivery before finishing it.')
      const next = DeliveryRecord.parse(
        withoutUndefined({
          ...current,
          status: result.status,
          updatedAt: result.at,
          leaseUntil: undefined,
          outcome: result.outcome ?? current.outcome,
          detail: result.detail ?? current.detail,
        }),
      )
      this.db.prepare('UPDATE github_deliveries SET record = ? WHERE id = ?').run(JSON.stringify(next), id)
      return next
    })
    return run.immediate()
  }

  async get(id: string): Promise<DeliveryRecord | undefined> {
    return this.read(id)
  }

  async recordWork(id: string, work: DeliveryWork): Promise<DeliveryRecord> {
    const run = this.db.transaction((): DeliveryRecord => {
      const current = this.read(id)
      if (!current) throw notFound('DELIVERY_NOT_FOUND', `There is no webhook delivery ${id}.`, 'Claim the delivery before recording its work.')
      const next = DeliveryRecord.parse(withoutUndefined({...current, sessionId: work.sessionId, promptId: work.promptId ?? current.promptId}))
      this.db.prepare('UPDATE github_deliveries SET record = ? WHERE id = ?').run(JSON.stringify(next), id)
      return next
    })
    return run.immediate()
  }

  async recent(limit: number): Promise<DeliveryRecord[]> {
    const rows = this.db.prepare('SELECT record FROM github_deliveries ORDER BY received_at DESC, id DESC LIMIT ?').all(limit) as {record: string}[]
    return rows.map((row) => DeliveryRecord.parse(JSON.parse(row.record)))
  }

  private read(id: string): DeliveryRecord | undefined {
    const row = this.db.prepare('SELECT record FROM github_deliveries WHERE id = ?').get(id) as {record: string} | undefined
    return row ? DeliveryRecord.parse(JSON.parse(row.record)) : undefined
  }
}
