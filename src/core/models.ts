/**
 * The session and prompt models.
 *
 * `SessionRecord` / `PromptRecord` are what the stores keep (camelCase; each store adapter maps
 * them to its own layout, for example DynamoDB's snake_case attributes). `Session` / `Prompt` are
 * the public JSON documents of DESIGN.md that the API returns and the CLI's `--json` prints: they
 * never carry a token hash or an idempotency key.
 */
import * as z from 'zod'

export const SESSION_STATUSES = ['PENDING', 'PROVISIONING', 'RUNNING', 'STOPPING', 'STOPPED', 'FAILED'] as const
export const SessionStatus = z.enum(SESSION_STATUSES)
export type SessionStatus = z.infer<typeof SessionStatus>

export const PROMPT_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const
export const PromptStatus = z.enum(PROMPT_STATUSES)
export type PromptStatus = z.infer<typeof PromptStatus>

export const CapacityProvider = z.enum(['FARGATE_SPOT', 'FARGATE'])
export type CapacityProvider = z.infer<typeof CapacityProvider>

export const PrMode = z.enum(['none', 'draft', 'ready'])
export type PrMode = z.infer<typeof PrMode>

export const ErrorInfo = z.object({code: z.string(), message: z.string()})
export type ErrorInfo = z.infer<typeof ErrorInfo>

const isoDate = z.string().datetime({offset: true})

/** Where a session's work came from, when not from a terminal (DESIGN.md: the `source` field). */
export const SessionSource = z.object({
  kind: z.literal('github'),
  repo: z.string(),
  issue: z.number().int().positive().optional(),
  pullRequest: z.number().int().positive().optional(),
  commentId: z.number().int().positive().optional(),
})
export type SessionSource = z.infer<typeof SessionSource>
export const StopReason = z.enum(['USER', 'IDLE', 'TTL', 'SPOT', 'BUDGET', 'TASK_EXITED'])
export type StopReason = z.infer<typeof StopReason>

/**
 * What a stopped workspace left for `session resume` (core/services/checkpoint.ts): the branch and
 * commit it pushed, and the Claude Code conversation it saved to the conversation store.
 */
export const Checkpoint = z.object({
  branch: z.string().min(1).max(255),
  commit: z.string().regex(/^[0-9a-f]{7,64}$/),
  /** Claude Code's session uuid; the next prompt passes `--resume` with it. */
  claudeSessionId: z.string().regex(/^[0-9a-f-]{8,64}$/i).optional(),
  /** Whether the transcript is in the conversation store. */
  conversation: z.boolean(),
  savedAt: isoDate,
})
export type Checkpoint = z.infer<typeof Checkpoint>

/** DESIGN.md's `cost: {computeUsd, agentUsd, totalUsd}` (src/core/pricing.ts computes it). */
export const Cost = z.object({computeUsd: z.number().nonnegative(), agentUsd: z.number().nonnegative(), totalUsd: z.number().nonnegative()})
export type Cost = z.infer<typeof Cost>

/** What the session stores keep. */
export const SessionRecord = z.object({
  id: z.string(),
  userId: z.string(),
  repo: z.string(),
  branch: z.string(),
  status: SessionStatus,
  capacity: CapacityProvider,
  cpu: z.number().int(),
  memory: z.number().int(),
  createdAt: isoDate,
  updatedAt: isoDate,
  expiresAt: isoDate,
  idleTimeoutSeconds: z.number().int().positive(),
  taskArn: z.string().optional(),
  /** The code-server password for `session open`; only the owner can read it. */
  editorPassword: z.string().optional(),
  /**
   * sha256 of the agent's bearer token; the token itself is never stored. Empty until the
   * workspace's bootstrap call mints the token (no bearer token matches it).
   */
  agentTokenHash: z.string(),
  /** sha256 of the one-use bootstrap nonce of a local task (TaskSpec.bootstrapNonce). */
  bootstrapNonceHash: z.string().optional(),
  /** When the workspace's bootstrap call got the token and password: a second call is refused. */
  bootstrappedAt: isoDate.optional(),
  idempotencyKey: z.string().optional(),
  lastActivityAt: isoDate.optional(),
  /** Set by the agent's first heartbeat: the workspace is usable from then on. */
  agentReadyAt: isoDate.optional(),
  error: ErrorInfo.optional(),
  /** Set for a session started from a GitHub webhook; `pullRequest` once its draft is open. */
  source: SessionSource.optional(),
  /** The session's own budget in USD (`session start --budget`, `session budget --add`); the stage default applies when absent. */
  budgetUsd: z.number().positive().optional(),
  /** Set when a prompt stopped at its budget (AGENT_BUDGET_EXCEEDED): no prompt is claimed until the budget is raised. */
  paused: z.boolean().optional(),
  pausedAt: isoDate.optional(),
  /** Why DevFlow stopped the session (the reaper, or a user's stop). */
  stopReason: StopReason.optional(),
  /** When the task was first seen running and seen stopped: compute cost is counted between them. */
  taskStartedAt: isoDate.optional(),
  taskStoppedAt: isoDate.optional(),
  /** The sum of the session's finished prompts' costUsd. */
  agentUsd: z.number().nonnegative().optional(),
  /** The session-budget alerts already sent (80, 100), so each goes out once. */
  budgetAlerted: z.array(z.number().int()).optional(),
  /** The last checkpoint a stopping workspace saved. */
  checkpoint: Checkpoint.optional(),
  /** How often `session resume` started a new task for the session. */
  resumeCount: z.number().int().nonnegative().optional(),
  /** How long each of the session's tasks may live (`--ttl`); a resumed task gets it anew. */
  ttlSeconds: z.number().int().positive().optional(),
  /** The compute cost of the session's earlier tasks (before its last resume), in USD. */
  priorComputeUsd: z.number().nonnegative().optional(),
  /** Set when the session took a task of the warm pool instead of starting one (core/warm-pool.ts). */
  warm: z.boolean().optional(),
  /** Optimistic locking: every update is conditional on it and increments it. */
  version: z.number().int().nonnegative(),
})
export type SessionRecord = z.infer<typeof SessionRecord>

/** The public session document (DESIGN.md). */
export const Session = z.object({
  id: z.string(),
  userId: z.string(),
  repo: z.string(),
  branch: z.string(),
  status: SessionStatus,
  capacity: CapacityProvider,
  cpu: z.number().int(),
  memory: z.number().int(),
  createdAt: isoDate,
  updatedAt: isoDate,
  expiresAt: isoDate,
  idleTimeout: z.string(),
  lastActivityAt: isoDate.optional(),
  taskArn: z.string().optional(),
  error: ErrorInfo.optional(),
  source: SessionSource.optional(),
  cost: Cost,
  budgetUsd: z.number().positive().optional(),
  paused: z.boolean().optional(),
  stopReason: StopReason.optional(),
  resumeCount: z.number().int().nonnegative().optional(),
  checkpoint: Checkpoint.optional(),
  /** The session took a warm task of the pool. */
  warm: z.boolean().optional(),
  /** From the start request to the agent's first heartbeat (RUNNING). */
  timeToRunningMs: z.number().int().nonnegative().optional(),
})
export type Session = z.infer<typeof Session>

export const PromptResult = z.object({
  summary: z.string(),
  branch: z.string().optional(),
  commit: z.string().optional(),
  prUrl: z.string().optional(),
  turns: z.number().int().nonnegative().optional(),
  costUsd: z.number().nonnegative().optional(),
})
export type PromptResult = z.infer<typeof PromptResult>

/** What the prompt stores keep. */
export const PromptRecord = z.object({
  id: z.string(),
  sessionId: z.string(),
  seq: z.number().int().positive(),
  text: z.string(),
  status: PromptStatus,
  pr: PrMode,
  createdAt: isoDate,
  updatedAt: isoDate,
  /** How many times an agent has claimed it. */
  attempt: z.number().int().nonnegative(),
  /** While RUNNING: the claim is the agent's until then. */
  leaseUntil: isoDate.optional(),
  result: PromptResult.optional(),
  error: ErrorInfo.optional(),
  /** Set when claimed: what the prompt may spend (the agent passes it to Claude Code as --max-budget-usd). */
  maxBudgetUsd: z.number().nonnegative().optional(),
  version: z.number().int().nonnegative(),
})
export type PromptRecord = z.infer<typeof PromptRecord>

/** The public prompt document (DESIGN.md). */
export const Prompt = z.object({
  id: z.string(),
  sessionId: z.string(),
  seq: z.number().int().positive(),
  text: z.string(),
  status: PromptStatus,
  pr: PrMode,
  createdAt: isoDate,
  updatedAt: isoDate,
  attempt: z.number().int().nonnegative(),
  result: PromptResult.optional(),
  error: ErrorInfo.optional(),
  maxBudgetUsd: z.number().nonnegative().optional(),
})
export type Prompt = z.infer<typeof Prompt>

export const PromptEvent = z.object({
  /** Position in the prompt's event log, from 1; `events?after=N` returns seq > N. */
  seq: z.number().int().positive(),
  type: z.string().min(1).max(64),
  text: z.string().optional(),
  data: z.unknown().optional(),
  at: isoDate,
})
export type PromptEvent = z.infer<typeof PromptEvent>

export interface Page<T> {
  readonly items: T[]
  readonly nextToken?: string
}

export function toSession(record: SessionRecord, formatIdle: (seconds: number) => string, cost: Cost): Session {
  return Session.parse({
    id: record.id,
    userId: record.userId,
    repo: record.repo,
    branch: record.branch,
    status: record.status,
    capacity: record.capacity,
    cpu: record.cpu,
    memory: record.memory,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    expiresAt: record.expiresAt,
    idleTimeout: formatIdle(record.idleTimeoutSeconds),
    lastActivityAt: record.lastActivityAt,
    taskArn: record.taskArn,
    error: record.error,
    source: record.source,
    cost,
    budgetUsd: record.budgetUsd,
    paused: record.paused,
    stopReason: record.stopReason,
    resumeCount: record.resumeCount,
    checkpoint: record.checkpoint,
    warm: record.warm,
    timeToRunningMs: record.agentReadyAt ? Math.max(0, Date.parse(record.agentReadyAt) - Date.parse(record.createdAt)) : undefined,
  })
}

export function toPrompt(record: PromptRecord): Prompt {
  return Prompt.parse({
    id: record.id,
    sessionId: record.sessionId,
    seq: record.seq,
    text: record.text,
    status: record.status,
    pr: record.pr,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    attempt: record.attempt,
    result: record.result,
    error: record.error,
    maxBudgetUsd: record.maxBudgetUsd,
  })
}
