/**
 * The session operations as one interface, implemented twice:
 *  - by the core services (src/core/services), which the REST API router, the local server and the
 *    CLI's `--admin` mode call directly;
 *  - by the HTTP API client (src/adapters/http), which the CLI's API mode uses.
 * The session commands only see this interface, so API mode and admin mode cannot drift.
 *
 * Request bodies are parsed with the zod schemas below once, in the service (src/core/services).
 */
import * as z from 'zod'

import type {WarmPoolStatus} from './warm-pool.js'

import type {Page, Prompt, PromptEvent, PromptStatus, Session, SessionSource, SessionStatus} from './models.js'
import {PrMode} from './models.js'

/** Who is calling. `admin` sees every user's sessions (the CLI's --admin mode). */
export interface Caller {
  readonly userId: string
  readonly admin?: boolean
  /** A console caller's Cognito groups, from the verified ID token (core/admins.ts). */
  readonly groups?: readonly string[]
  /**
   * The base URL the caller reached the API at (API Gateway stage URL, `devflow api serve`'s own
   * URL). A new session's agent calls back there unless the platform names an agent API URL.
   */
  readonly apiBaseUrl?: string
}

export const MAX_PROMPT_BYTES = 100 * 1024

export const StartSessionRequest = z.strictObject({
  repo: z.string().min(1),
  branch: z.string().min(1).optional(),
  cpu: z.union([z.number(), z.string()]).optional(),
  memory: z.union([z.number(), z.string()]).optional(),
  ttl: z.string().optional(),
  idleTimeout: z.string().optional(),
  idempotencyKey: z.string().min(1).max(128).regex(/^[\w.:-]+$/).optional(),
  /** The session's own budget in USD; the stage default applies when absent. */
  budgetUsd: z.number().positive().finite().optional(),
})
export type StartSessionRequest = z.infer<typeof StartSessionRequest>

export const PromptRequest = z.strictObject({
  text: z.string(),
  pr: PrMode.optional(),
})
export type PromptRequest = z.infer<typeof PromptRequest>

/** `session budget <id> --add USD`. */
export const AddBudgetRequest = z.strictObject({addUsd: z.number().positive().finite()})
export type AddBudgetRequest = z.infer<typeof AddBudgetRequest>

export const USAGE_GROUPINGS = ['user', 'repo', 'day'] as const
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number]

export const UsageRequest = z.strictObject({
  /** How far back, as a duration (30d, 12h); 30d when absent. */
  since: z.string().min(1).optional(),
  by: z.enum(USAGE_GROUPINGS).optional(),
})
export type UsageRequest = z.infer<typeof UsageRequest>

const UsageFigures = z.object({
  sessions: z.number().int().nonnegative(),
  hours: z.number().nonnegative(),
  prompts: z.number().int().nonnegative(),
  computeUsd: z.number().nonnegative(),
  agentUsd: z.number().nonnegative(),
  totalUsd: z.number().nonnegative(),
})
export type UsageFigures = z.infer<typeof UsageFigures>

/** One row: `key` is the user id, the repository or the day (YYYY-MM-DD, the session's start). */
export const UsageRow = UsageFigures.extend({key: z.string()})
export type UsageRow = z.infer<typeof UsageRow>

/** `devflow usage` (schemas/usage.schema.json). `scope` is `all` in admin mode, otherwise the caller's user id. */
export const UsageReport = z.object({
  from: z.string(),
  to: z.string(),
  by: z.enum(USAGE_GROUPINGS),
  scope: z.string(),
  rows: z.array(UsageRow),
  total: UsageFigures,
})
export type UsageReport = z.infer<typeof UsageReport>

export const NotificationTestResult = z.object({delivered: z.boolean(), status: z.number().int().optional(), error: z.string().optional()})
export type NotificationTestResult = z.infer<typeof NotificationTestResult>

/**
 * `GET /repositories`: the stage's allow-list as it applies to the caller (core/repository-access.ts):
 * `owner/name` and `owner/*` entries; `any` when every repository is allowed (`*`).
 */
export const RepositoryChoices = z.object({items: z.array(z.string()), any: z.boolean()})
export type RepositoryChoices = z.infer<typeof RepositoryChoices>

export interface ListSessionsOptions {
  readonly limit?: number
  readonly nextToken?: string
  readonly status?: SessionStatus
  /** Every user's sessions (`GET /admin/sessions`); only for an admin caller (core/admins.ts). */
  readonly all?: boolean
}

export interface EditorInfo {
  readonly sessionId: string
  readonly status: SessionStatus
  readonly cluster?: string
  readonly taskArn?: string
  readonly taskId?: string
  /** The workspace container's name, for ECS Exec / SSM port forwarding. */
  readonly container?: string
  readonly port: number
  readonly password?: string
  /** A direct URL when the runtime exposes one (local mode). */
  readonly url?: string
  /** Why the editor cannot be reached, when it cannot. */
  readonly unavailableReason?: string
  /** What to do about it. */
  readonly unavailableHint?: string
}

/** How a running session's editor is reached: the runtime's answer, which `session open` switches on. */
export type EditorAccess =
  | {readonly kind: 'ssm'; readonly cluster: string; readonly taskArn: string; readonly taskId: string; readonly container: string; readonly port: number}
  | {readonly kind: 'url'; readonly url: string; readonly port: number}
  | {readonly kind: 'unavailable'; readonly reason: string; readonly hint: string}

export interface Health {
  readonly status: 'ok' | 'degraded'
  readonly version: string
  readonly checks: Record<string, {status: 'ok' | 'error'; message?: string}>
  /** When the platform keeps a warm pool (core/warm-pool.ts): its size, hits and misses. */
  readonly warmPool?: WarmPoolStatus
}

/**
 * The longest `GET /sessions/{id}/prompts/{pid}/events?wait=` honoured; a longer one is clamped.
 * API Gateway ends every integration after 29 s, so a wait must end well before that.
 */
export const MAX_EVENTS_WAIT_SECONDS = 20

export interface PromptEventsOptions {
  /**
   * Long poll: when no event after `after` is there yet and the prompt has not ended, answer as
   * soon as one of them happens, or after this many seconds (at most MAX_EVENTS_WAIT_SECONDS)
   * with no events. 0 or unset: answer at once.
   */
  readonly waitSeconds?: number
}

/** A page of a prompt's events and the prompt's status when they were read. */
export interface PromptEventsPage extends Page<PromptEvent> {
  /** Absent only from a server older than the long poll. */
  readonly status?: PromptStatus
}

export interface SessionApi {
  /** `created` is false when an idempotency key returned an existing session. */
  /** `origin.source`: set by the GitHub work service (core/services/github-work.ts), never from a request body. */
  start(caller: Caller, request: StartSessionRequest, origin?: {source: SessionSource}): Promise<{session: Session; created: boolean}>
  list(caller: Caller, options: ListSessionsOptions): Promise<Page<Session>>
  /** Reconciled with the task (PROVISIONING -> RUNNING, a task that died -> STOPPED/FAILED). */
  get(caller: Caller, sessionId: string): Promise<Session>
  /** Idempotent for an ended session; SESSION_NOT_FOUND for a missing or foreign one. */
  stop(caller: Caller, sessionId: string): Promise<Session>
  enqueuePrompt(caller: Caller, sessionId: string, request: PromptRequest): Promise<Prompt>
  listPrompts(caller: Caller, sessionId: string, options: {limit?: number; nextToken?: string}): Promise<Page<Prompt>>
  getPrompt(caller: Caller, sessionId: string, promptId: string): Promise<Prompt>
  /** Events with seq > `after`; with `waitSeconds`, a long poll (PromptEventsOptions). */
  promptEvents(caller: Caller, sessionId: string, promptId: string, after: number, options?: PromptEventsOptions): Promise<PromptEventsPage>
  editor(caller: Caller, sessionId: string): Promise<EditorInfo>
  health(): Promise<Health>
  /**
   * A new task for a STOPPED or FAILED session (same id): the branch at its checkpoint, its Claude
   * conversation restored, its prompts kept. SESSION_NOT_STOPPED for a live one, SESSION_NOT_RESUMABLE
   * for one whose workspace never started, BUDGET_EXCEEDED while its budget is spent.
   */
  resume(caller: Caller, sessionId: string): Promise<Session>
  /** Raises the session's own budget and lifts its pause. */
  addBudget(caller: Caller, sessionId: string, request: AddBudgetRequest): Promise<Session>
  /** Sessions, hours, prompts and cost per user, repository or day (everyone's for an admin). */
  usage(caller: Caller, request: UsageRequest): Promise<UsageReport>
  /** Sends one test notification through the stage's notifier. */
  notifyTest(caller: Caller): Promise<NotificationTestResult>
  /** The repositories the caller may start sessions on. */
  repositories(caller: Caller): Promise<RepositoryChoices>
}
