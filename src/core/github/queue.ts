/**
 * The per-repository limit on sessions started from GitHub (issue 13, item 5): a trigger that
 * would start a session is queued first, one item per delivery, and started by a drain when the
 * repository has a free slot; a drain runs after each trigger and whenever a session from GitHub
 * ends (services/github-queue.ts).
 *
 * An item is WAITING until a drain takes it (a conditional write: STARTING with a lease, so two
 * drains never start one trigger twice and a drain that died is taken over), then STARTED (with
 * its session and prompt), FAILED (with the error) or CANCELLED (`/devflow stop` while it waited).
 * A drain also holds the repository's drain lock while it counts and starts, so two drains of one
 * repository cannot both fill the last slot.
 *
 * Stores: items in the deliveries table (src/adapters/aws/dynamo-trigger-queue.ts) and in the local
 * SQLite file (src/adapters/local/sqlite-trigger-queue.ts); one contract suite
 * (test/contract/trigger-queue-contract.ts) runs on both.
 */
import * as z from 'zod'

import {invalidInput} from '../errors.js'

import {ErrorInfo, SessionSource} from '../models.js'
import {DELIVERY_ID_PATTERN, DELIVERY_RETENTION_SECONDS} from './deliveries.js'

export const QueueState = z.enum(['WAITING', 'STARTING', 'STARTED', 'FAILED', 'CANCELLED'])
export type QueueState = z.infer<typeof QueueState>

/** Sessions from GitHub one repository may have at once, unless the stage says otherwise. */
export const DEFAULT_MAX_SESSIONS_PER_REPO = 3
/** The stage setting: the config key, its environment variable and the deploy context key. */
export const MAX_SESSIONS_PER_REPO_SETTING = {key: 'githubMaxSessionsPerRepo', env: 'DEVFLOW_GITHUB_MAX_SESSIONS_PER_REPO', context: 'devflow:githubMaxSessionsPerRepo'} as const

/** The one rule for the setting's value, wherever it is given: a whole number from 1 to 100. */
export function parseMaxSessionsPerRepo(value: string, where: string = MAX_SESSIONS_PER_REPO_SETTING.key): number {
  const count = Number(value.trim())
  if (value.trim() === '' || !Number.isInteger(count) || count < 1 || count > 100) {
    throw invalidInput('INVALID_MAX_SESSIONS_PER_REPO', `${where} must be a whole number from 1 to 100, not "${value}".`, 'Give how many sessions from GitHub one repository may have at once, for example 3.')
  }
  return count
}

/** How long a drain keeps a taken item (or the repository's drain lock) from the others. */
export const QUEUE_LEASE_SECONDS = 120

const isoDate = z.string().datetime({offset: true})

export const QueuedTrigger = z.object({
  /** The delivery that queued it (X-GitHub-Delivery): one item per delivery. */
  id: z.string().regex(DELIVERY_ID_PATTERN),
  /** `owner/name` as GitHub spells it; items are grouped by its lowercase form. */
  repo: z.string().min(3),
  queuedAt: isoDate,
  updatedAt: isoDate,
  state: QueueState,
  /** While STARTING: no other drain takes it before then. */
  leaseUntil: isoDate.optional(),
  /** The session's owner, `github:<login>`. */
  ownerId: z.string().min(1),
  /** The login that triggered the work (the living comment's "Requested by"). */
  sender: z.string().min(1),
  branch: z.string().min(1),
  /**
   * A comment on the pull request of an ended session: that session is resumed (same id, its
   * conversation restored) rather than a new one started; refused, a new session on `branch`.
   */
  resumeSessionId: z.string().min(1).optional(),
  source: SessionSource,
  prompt: z.string().min(1),
  /** The issue or pull request whose living comment reports on this work. */
  issueNumber: z.number().int().positive(),
  commentId: z.number().int().positive().optional(),
  /** The API's URL as the webhook reached it: the workspace's agent calls back there. */
  apiBaseUrl: z.string().optional(),
  sessionId: z.string().optional(),
  promptId: z.string().optional(),
  error: ErrorInfo.optional(),
  expiresAt: isoDate,
})
export type QueuedTrigger = z.infer<typeof QueuedTrigger>

export type NewQueuedTrigger = Omit<QueuedTrigger, 'state' | 'updatedAt' | 'leaseUntil' | 'sessionId' | 'promptId' | 'error' | 'expiresAt'>

export interface QueueSettle {
  readonly state: 'STARTED' | 'FAILED' | 'CANCELLED'
  readonly at: string
  readonly sessionId?: string
  readonly promptId?: string
  readonly error?: ErrorInfo
}

export interface TriggerQueue {
  /** Adds a WAITING item unless one exists for that delivery; returns the item as stored (the old one for a retry). */
  enqueue(item: NewQueuedTrigger): Promise<QueuedTrigger>
  get(id: string): Promise<QueuedTrigger | undefined>
  /** The repository's items not yet started (WAITING, and STARTING ones in case their drain died), oldest first. */
  pending(repo: string): Promise<QueuedTrigger[]>
  /** Every repository that has pending items (the periodic drain). */
  pendingRepos(): Promise<string[]>
  /**
   * Takes the item for starting with one conditional write: wins when it is WAITING, or STARTING
   * with an expired lease. Returns the taken item, or undefined when another drain has it.
   */
  take(id: string, at: string, leaseUntil: string): Promise<QueuedTrigger | undefined>
  /** Ends the item, only from one of `from`; undefined when it was in none of them (or is gone). */
  settle(id: string, from: readonly QueueState[], result: QueueSettle): Promise<QueuedTrigger | undefined>
  /** The repository's drain lock: true when `holder` has it now (free, expired, or already its). */
  lock(repo: string, holder: string, at: string, until: string): Promise<boolean>
  /** Lets the lock go if `holder` still has it. */
  unlock(repo: string, holder: string): Promise<void>
}

/** The key items are grouped by: GitHub treats `Owner/Name` and `owner/name` as one repository. */
export function queueKey(repo: string): string {
  return repo.toLowerCase()
}

/** The stored item for a new trigger queued at `now`. */
export function newQueueItem(item: NewQueuedTrigger, now: string): QueuedTrigger {
  return QueuedTrigger.parse({
    ...item,
    state: 'WAITING',
    updatedAt: now,
    expiresAt: new Date(Date.parse(item.queuedAt) + DELIVERY_RETENTION_SECONDS * 1000).toISOString(),
  })
}

/** The rule both stores apply to a take. */
export function takeable(item: QueuedTrigger | undefined, at: string): boolean {
  if (!item) return false
  return item.state === 'WAITING' || (item.state === 'STARTING' && (item.leaseUntil ?? '') < at)
}

/** Oldest first; the delivery id breaks ties so every drain sees one order. */
export function byQueueOrder(a: QueuedTrigger, b: QueuedTrigger): number {
  return a.queuedAt === b.queuedAt ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.queuedAt < b.queuedAt ? -1 : 1
}
