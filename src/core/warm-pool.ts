/**
 * The warm pool (issue 16): workspace tasks started ahead of demand, with no session, that a start
 * of the same size takes over instead of waiting for a cold start. The records, the store port,
 * the pool's settings and the time-of-day schedule of its size; the rules are in
 * services/warm-pool.ts.
 */
import * as z from 'zod'

import {invalidInput} from './errors.js'
import {CapacityProvider, ErrorInfo} from './models.js'

/**
 * STARTING: the runtime runs the task, which has not called in yet. WARM: the task registered and
 * polls to be assigned. ASSIGNED: a start took it (one conditional write); the task is handed its
 * session on its next claim poll, and the record is removed once that answer went out.
 */
export const WARM_TASK_STATUSES = ['STARTING', 'WARM', 'ASSIGNED'] as const
export const WarmTaskStatus = z.enum(WARM_TASK_STATUSES)
export type WarmTaskStatus = z.infer<typeof WarmTaskStatus>

const isoDate = z.string().datetime({offset: true})

export const WarmTaskRecord = z.object({
  /** `w-` and 20 base32 characters: the pool's own id of the task (DEVFLOW_WARM_ID in its environment). */
  id: z.string(),
  taskArn: z.string(),
  cpu: z.number().int(),
  memory: z.number().int(),
  capacity: CapacityProvider,
  status: WarmTaskStatus,
  /** When the runtime started the task (the recycle age counts from here). */
  startedAt: isoDate,
  /** The task's register call: it is booted (editor up) from then on. */
  readyAt: isoDate.optional(),
  /** The task's last claim poll: a task that stopped polling is not handed a session. */
  lastSeenAt: isoDate.optional(),
  /** sha256 of the register nonce of a local task; the session that takes the task keeps it as its bootstrapNonceHash. */
  nonceHash: z.string().optional(),
  /** sha256 of the bearer token the register call answered, for the claim polls. */
  pollTokenHash: z.string().optional(),
  /** code-server's password, minted at register: the editor runs before any session exists. */
  editorPassword: z.string().optional(),
  sessionId: z.string().optional(),
  assignedAt: isoDate.optional(),
  error: ErrorInfo.optional(),
  version: z.number().int().nonnegative(),
})
export type WarmTaskRecord = z.infer<typeof WarmTaskRecord>

export type WarmTaskChanges = Partial<Omit<WarmTaskRecord, 'id' | 'version' | 'startedAt'>>

export interface WarmPoolCounters {
  /** Starts that took a warm task. */
  readonly hits: number
  /** Starts that found none of their size and ran a cold task. */
  readonly misses: number
}

/** The pool at a glance (`GET /health`'s `warmPool`, `devflow doctor`). */
export interface WarmPoolStatus {
  /** The size the keeper keeps it at this hour. */
  readonly target: number
  readonly starting: number
  /** Ready to be taken. */
  readonly warm: number
  readonly assigned: number
  readonly hits: number
  readonly misses: number
  readonly cpu: number
  readonly memory: number
}

export interface WarmPoolStore {
  /** Throws a `conflict` DevflowError (WARM_TASK_EXISTS) when the id is taken. */
  create(record: WarmTaskRecord): Promise<void>
  get(id: string): Promise<WarmTaskRecord | undefined>
  /** Every record (the pool is a handful of tasks), in no particular order. */
  list(): Promise<WarmTaskRecord[]>
  /** Conditional on the version like SessionStore.update (CONCURRENT_UPDATE; WARM_TASK_NOT_FOUND when gone). */
  update(id: string, expectedVersion: number, changes: WarmTaskChanges): Promise<WarmTaskRecord>
  /**
   * The one conditional write of an assignment: WARM -> ASSIGNED with the session, whatever the
   * version (the task's own polls touch it meanwhile). Returns undefined when the task is no longer
   * WARM or gone: another start took it.
   */
  assign(id: string, sessionId: string, at: string): Promise<WarmTaskRecord | undefined>
  /** Idempotent. */
  remove(id: string): Promise<void>
  /** Adds one to the hit or miss counter. */
  count(outcome: 'hit' | 'miss'): Promise<void>
  counters(): Promise<WarmPoolCounters>
}

/** One window of the schedule: on these UTC weekdays (0 = Sunday), from..to minutes after midnight. */
export interface WarmWindow {
  readonly days: readonly number[]
  readonly fromMinute: number
  readonly toMinute: number
  readonly tasks: number
}

export interface WarmPoolSettings {
  /** The pool's size outside every window (`devflow:warmTasks`). */
  readonly baseTasks: number
  /** `devflow:warmSchedule`: the size in windows of the day; the first window that matches wins. */
  readonly windows: readonly WarmWindow[]
  /** Warm tasks are started at this size; a start of another size misses. */
  readonly cpu: number
  readonly memory: number
  /** The capacity warm tasks try first (Spot in dev), with the on-demand fallback of cold starts. */
  readonly capacity: CapacityProvider
  /** A warm task older than this is stopped and replaced (a fresh image, no long-lived idle task). */
  readonly maxAgeSeconds: number
  /** A task that has not registered this long after it started is given up. */
  readonly startTimeoutSeconds: number
  /** A WARM task whose last poll is older than this is not assigned (it died or hangs). */
  readonly staleAfterSeconds: number
  /** Whether a start that took a warm task runs its replacement at once (default true); the keeper refills otherwise. */
  readonly refillOnTake?: boolean
  /** The environment of the session a local task needs beyond the API's answer (a local repository's clone URL). */
  readonly sessionEnvironment?: (repo: string) => Readonly<Record<string, string>>
}

export const DEFAULT_WARM_POOL_SETTINGS = {
  maxAgeSeconds: 6 * 3600,
  startTimeoutSeconds: 10 * 60,
  staleAfterSeconds: 90,
} as const

/** The owner tag of a warm task until a session takes it over. */
export const WARM_POOL_OWNER = 'devflow:warm-pool'

export const WARM_ID_PATTERN = /^w-[a-z2-7]{20}$/

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

/**
 * `devflow:warmSchedule`: comma-separated windows `[days ]HH:MM-HH:MM=N` in UTC, days as `mon-fri`
 * or `sat,sun`-style single days joined by `+` (`sat+sun`); no days means every day. A window whose
 * end is before its start runs over midnight. Example: `mon-fri 07:00-19:00=3, 19:00-23:00=1`.
 */
export function parseWarmSchedule(text: string | undefined, setting = 'devflow:warmSchedule'): WarmWindow[] {
  if (text === undefined || text.trim() === '') return []
  return text.split(',').map((part) => {
    const match = /^\s*(?:([a-z+-]+)\s+)?(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})\s*=\s*(\d{1,3})\s*$/i.exec(part)
    const bad = () =>
      invalidInput('INVALID_WARM_SCHEDULE', `${setting}: "${part.trim()}" is not a window like "mon-fri 07:00-19:00=3".`, 'Write comma-separated windows `[days ]HH:MM-HH:MM=N` in UTC, e.g. "mon-fri 07:00-19:00=3".')
    if (!match) throw bad()
    const [, dayText, fh, fm, th, tm, n] = match
    const from = Number(fh) * 60 + Number(fm)
    const to = Number(th) * 60 + Number(tm)
    if (Number(fh) > 24 || Number(th) > 24 || Number(fm) > 59 || Number(tm) > 59 || from > 1440 || to > 1440 || from === to) throw bad()
    return {days: dayText ? parseDays(dayText, bad) : [0, 1, 2, 3, 4, 5, 6], fromMinute: from, toMinute: to, tasks: Number(n)}
  })
}

function parseDays(text: string, bad: () => Error): number[] {
  const days = new Set<number>()
  for (const piece of text.toLowerCase().split('+')) {
    const [first, last] = piece.split('-')
    const a = DAYS.indexOf(first)
    const b = last === undefined ? a : DAYS.indexOf(last)
    if (a < 0 || b < 0) throw bad()
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d)
      if (d === b) break
    }
  }
  return [...days].sort()
}

/** The pool's target size at this moment. */
export function warmTarget(settings: Pick<WarmPoolSettings, 'baseTasks' | 'windows'>, now: Date): number {
  const minute = now.getUTCHours() * 60 + now.getUTCMinutes()
  const day = now.getUTCDay()
  for (const window of settings.windows) {
    const overnight = window.toMinute < window.fromMinute
    const inside = overnight ? minute >= window.fromMinute || minute < window.toMinute : minute >= window.fromMinute && minute < window.toMinute
    // Past midnight, an overnight window belongs to the day it started on.
    const startDay = overnight && minute < window.toMinute ? (day + 6) % 7 : day
    if (inside && window.days.includes(startDay)) return window.tasks
  }
  return settings.baseTasks
}
