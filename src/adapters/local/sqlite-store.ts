/**
 * The embedded store of `devflow local`: one SQLite file (better-sqlite3) implementing the same
 * SessionStore and PromptStore ports as the DynamoDB adapters, with the same semantics: every
 * update is conditional on the record's version, creates are conditional on the key being free,
 * lists page with an opaque token. The shared contract suite (test/contract) runs against both.
 *
 * Each row keeps the record as JSON beside the columns that are queried or conditioned on, so a
 * new optional field in the models needs no migration.
 */
import {chmodSync, closeSync, mkdirSync, openSync} from 'node:fs'
import {dirname} from 'node:path'

import Database from 'better-sqlite3'

import {concurrentUpdate, invalidInput, promptNotFound, promptSeqTaken, sessionExists, sessionNotFound, unavailable} from '../../core/errors.js'
import {PromptEvent, PromptRecord, SessionRecord, type Page} from '../../core/models.js'
import type {ListOptions, PromptChanges, PromptStore, SessionChanges, SessionStore} from '../../core/ports.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  version INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS sessions_by_created ON sessions (created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS prompts (
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL UNIQUE,
  version INTEGER NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (session_id, seq)
);
CREATE TABLE IF NOT EXISTS prompt_events (
  prompt_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (prompt_id, seq)
);
`

/** Opens (and creates when missing) the database file; WAL so the CLI can read while the server writes. */
export function openLocalDatabase(file: string): Database.Database {
  try {
    if (file !== ':memory:') {
      mkdirSync(dirname(file), {recursive: true, mode: 0o700})
      // Created owner-only before SQLite opens it (SQLite keeps an existing file's mode).
      closeSync(openSync(file, 'a', 0o600))
      chmodSync(file, 0o600)
    }
    const db = new Database(file)
    db.pragma('journal_mode = WAL')
    db.pragma('busy_timeout = 5000')
    db.exec(SCHEMA)
    return db
  } catch (error) {
    throw unavailable('LOCAL_STORE_UNAVAILABLE', `Cannot open the local database ${file}: ${(error as Error).message}`, 'Check that the data directory is writable, or pass another one with --data-dir.', {
      cause: error,
    })
  }
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as {code?: string}).code
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE'
}

function encodeToken(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

function decodeToken(token: string, length: number): unknown[] {
  try {
    const key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown
    if (Array.isArray(key) && key.length === length) return key
  } catch {
    // falls through to the error below: a token we did not issue
  }
  throw invalidInput('INVALID_NEXT_TOKEN', 'The pagination token is not valid.', 'Pass the nextToken from the previous page unchanged, or omit it to start from the first page.')
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

export class SqliteSessionStore implements SessionStore {
  constructor(private readonly db: Database.Database) {}

  async create(record: SessionRecord): Promise<void> {
    const valid = SessionRecord.parse(record)
    try {
      this.db
        .prepare('INSERT INTO sessions (id, user_id, created_at, version, record) VALUES (?, ?, ?, ?, ?)')
        .run(valid.id, valid.userId, valid.createdAt, valid.version, JSON.stringify(valid))
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw sessionExists(valid.id, {cause: error})
      }
      throw error
    }
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const row = this.db.prepare('SELECT record FROM sessions WHERE id = ?').get(id) as {record: string} | undefined
    return row ? SessionRecord.parse(JSON.parse(row.record)) : undefined
  }

  async update(id: string, expectedVersion: number, changes: SessionChanges): Promise<SessionRecord> {
    const apply = this.db.transaction(() => {
      const row = this.db.prepare('SELECT version, record FROM sessions WHERE id = ?').get(id) as {version: number; record: string} | undefined
      if (!row) throw sessionNotFound(id)
      if (row.version !== expectedVersion) throw concurrentUpdate(`Session ${id}`)
      const current = JSON.parse(row.record) as SessionRecord
      // An explicit `undefined` in changes removes the field, as a DynamoDB REMOVE does.
      const next = SessionRecord.parse(withoutUndefined({...current, ...changes, id, userId: current.userId, createdAt: current.createdAt, version: expectedVersion + 1}))
      this.db.prepare('UPDATE sessions SET version = ?, record = ? WHERE id = ? AND version = ?').run(next.version, JSON.stringify(next), id, expectedVersion)
      return next
    })
    return apply.immediate()
  }

  async listByUser(userId: string, options: ListOptions): Promise<Page<SessionRecord>> {
    return this.page('user_id = ?', [userId], options)
  }

  async listAll(options: ListOptions): Promise<Page<SessionRecord>> {
    return this.page('1 = 1', [], options)
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get()
  }

  private page(where: string, params: unknown[], options: ListOptions): Page<SessionRecord> {
    const after = options.nextToken === undefined ? undefined : decodeToken(options.nextToken, 2)
    const keyset = after ? ' AND (created_at < ? OR (created_at = ? AND id < ?))' : ''
    const keyParams = after ? [after[0], after[0], after[1]] : []
    const rows = this.db
      .prepare(`SELECT id, created_at, record FROM sessions WHERE ${where}${keyset} ORDER BY created_at DESC, id DESC LIMIT ?`)
      .all(...params, ...keyParams, options.limit + 1) as {id: string; created_at: string; record: string}[]
    const items = rows.slice(0, options.limit)
    const last = items.at(-1)
    return {
      items: items.map((row) => SessionRecord.parse(JSON.parse(row.record))),
      ...(rows.length > options.limit && last ? {nextToken: encodeToken([last.created_at, last.id])} : {}),
    }
  }
}

export class SqlitePromptStore implements PromptStore {
  constructor(private readonly db: Database.Database) {}

  async create(record: PromptRecord): Promise<void> {
    const valid = PromptRecord.parse(record)
    try {
      this.db
        .prepare('INSERT INTO prompts (session_id, seq, id, version, record) VALUES (?, ?, ?, ?, ?)')
        .run(valid.sessionId, valid.seq, valid.id, valid.version, JSON.stringify(valid))
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw promptSeqTaken(valid.sessionId, valid.seq, {cause: error})
      }
      throw error
    }
  }

  async get(sessionId: string, promptId: string): Promise<PromptRecord | undefined> {
    const row = this.db.prepare('SELECT record FROM prompts WHERE session_id = ? AND id = ?').get(sessionId, promptId) as {record: string} | undefined
    return row ? PromptRecord.parse(JSON.parse(row.record)) : undefined
  }

  async list(sessionId: string, options: ListOptions): Promise<Page<PromptRecord>> {
    const after = options.nextToken === undefined ? 0 : Number(decodeToken(options.nextToken, 1)[0])
    const rows = this.db
      .prepare('SELECT seq, record FROM prompts WHERE session_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?')
      .all(sessionId, after, options.limit + 1) as {seq: number; record: string}[]
    const items = rows.slice(0, options.limit)
    const last = items.at(-1)
    return {
      items: items.map((row) => PromptRecord.parse(JSON.parse(row.record))),
      ...(rows.length > options.limit && last ? {nextToken: encodeToken([last.seq])} : {}),
    }
  }

  async lastSeq(sessionId: string): Promise<number> {
    const row = this.db.prepare('SELECT MAX(seq) AS seq FROM prompts WHERE session_id = ?').get(sessionId) as {seq: number | null}
    return row.seq ?? 0
  }

  async update(sessionId: string, promptId: string, expectedVersion: number, changes: PromptChanges): Promise<PromptRecord> {
    const apply = this.db.transaction(() => {
      const row = this.db.prepare('SELECT version, record FROM prompts WHERE session_id = ? AND id = ?').get(sessionId, promptId) as
        | {version: number; record: string}
        | undefined
      if (!row) throw promptNotFound(sessionId, promptId)
      if (row.version !== expectedVersion) throw concurrentUpdate(`Prompt ${promptId}`)
      const current = JSON.parse(row.record) as PromptRecord
      const next = PromptRecord.parse(
        withoutUndefined({...current, ...changes, id: current.id, sessionId: current.sessionId, seq: current.seq, createdAt: current.createdAt, version: expectedVersion + 1}),
      )
      this.db.prepare('UPDATE prompts SET version = ?, record = ? WHERE session_id = ? AND id = ? AND version = ?').run(next.version, JSON.stringify(next), sessionId, promptId, expectedVersion)
      return next
    })
    return apply.immediate()
  }

  async appendEvents(promptId: string, events: ReadonlyArray<Omit<PromptEvent, 'seq'>>): Promise<PromptEvent[]> {
    const append = this.db.transaction(() => {
      const row = this.db.prepare('SELECT MAX(seq) AS seq FROM prompt_events WHERE prompt_id = ?').get(promptId) as {seq: number | null}
      const insert = this.db.prepare('INSERT INTO prompt_events (prompt_id, seq, event) VALUES (?, ?, ?)')
      return events.map((event, index) => {
        const stored = PromptEvent.parse({...event, seq: (row.seq ?? 0) + index + 1})
        insert.run(promptId, stored.seq, JSON.stringify(stored))
        return stored
      })
    })
    return append.immediate()
  }

  async listEvents(promptId: string, after: number, limit: number): Promise<PromptEvent[]> {
    const rows = this.db.prepare('SELECT event FROM prompt_events WHERE prompt_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?').all(promptId, after, limit) as {event: string}[]
    return rows.map((row) => PromptEvent.parse(JSON.parse(row.event)))
  }
}
