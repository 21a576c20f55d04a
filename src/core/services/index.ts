/**
 * The core services: the session and agent operations over the ports. The REST API router (Lambda
 * and `devflow api serve`), the local platform and the CLI's `--admin` mode all call these, so the
 * rules live in one place.
 */
import type {EgressEnforcer, EgressPolicy} from '../egress-policy.js'
import {RETENTION_SECONDS} from '../deployment.js'
import type {AdminPolicy} from '../admins.js'
import type {AgentApi} from '../agent-api.js'
import type {BudgetLimits} from '../budgets.js'
import type {CapacityProvider, SessionRecord} from '../models.js'
import type {Notifier} from '../notifications.js'
import type {PriceOverride} from '../pricing.js'
import {NO_REPOSITORIES, type RepositoryAccess} from '../repository-access.js'
import type {AgentKeyPreflight, Clock, ConversationStore, IdGenerator, PromptStore, PullRequestOpener, RepositoryResolver, RepoTokenIssuer, SessionStore, TaskRuntime, UsageStore} from '../ports.js'
import type {SessionApi} from '../session-api.js'
import {createAgentService} from './agent-service.js'
import {type ChangeSignals, createChangeSignals, signallingStores} from './change-signals.js'
import {createGithubWork, type GithubWorkApi, type GithubWorkDeps} from './github-work.js'
import {createReaper, type ReapReport} from './reaper.js'
import {createSessionService} from './session-service.js'
import {createWarmPool, type WarmPoolApi, type WarmPoolDeps} from './warm-pool.js'

export interface CoreSettings {
  /** Reported by `GET /health`. */
  readonly version: string
  /** FARGATE_SPOT: try Spot first and fall back to FARGATE when Spot has no capacity. */
  readonly defaultCapacity: CapacityProvider
  /** The branch a session checks out when the request names none. */
  readonly defaultBranch: string
  readonly defaultTtlSeconds: number
  readonly maxTtlSeconds: number
  readonly defaultIdleTimeoutSeconds: number
  readonly maxIdleTimeoutSeconds: number
  /** How long a claimed prompt stays the agent's without news (events extend it). */
  readonly promptLeaseSeconds: number
  /** Claims per prompt before an expired lease makes it FAILED instead of QUEUED again. */
  readonly maxPromptAttempts: number
  /** How often a long poll looks for a new prompt. */
  readonly pollIntervalMs: number
  /** How long ended sessions' items stay in the store before the TTL removes them. */
  readonly retentionSeconds: number
  /** The base URL the workspace's agent calls; derived from the caller's request when unset. */
  readonly agentApiUrl?: string
  /**
   * The workspace task role's ARN: the bootstrap call accepts a SigV4 caller only as a session of
   * this role named after the session's task id. Unset: only a local runtime's nonce is accepted.
   */
  readonly workspaceRoleArn?: string
  /** The ECS cluster, reported with the editor info. */
  readonly cluster?: string
  /** The workspace container's name, reported with the editor info. */
  readonly containerName: string
  /** The stage's name, in budget messages and notifications. */
  readonly stage?: string
  /** The AWS region whose Fargate prices apply (src/core/pricing.ts); us-east-1 when unset. */
  readonly region?: string
  /** The stage's Fargate price override (`devflow:prices`). */
  readonly prices?: PriceOverride
  /** The stage's budgets (`devflow:budgets`); none apply when unset. */
  readonly budgets?: BudgetLimits
  /** Which repositories each caller may start sessions on (core/repository-access.ts). */
  readonly repositoryAccess: RepositoryAccess
  /** How many active sessions one user may have; unset: no limit (a stage setting on AWS). */
  readonly maxActiveSessionsPerUser?: number
  /** The stage's egress policy and who enforces it: what the workspace says of `.devflow/egress.txt` (core/egress-policy.ts). */
  readonly egress?: {readonly policy: EgressPolicy; readonly enforcer: EgressEnforcer}
  /** Who may list every user's sessions besides the CLI's --admin mode (core/admins.ts); nobody when unset. */
  readonly admins?: AdminPolicy
}

export const DEFAULT_CORE_SETTINGS: Omit<CoreSettings, 'version'> = {
  defaultCapacity: 'FARGATE_SPOT',
  defaultBranch: 'main',
  defaultTtlSeconds: 4 * 3600,
  maxTtlSeconds: 24 * 3600,
  defaultIdleTimeoutSeconds: 30 * 60,
  maxIdleTimeoutSeconds: 24 * 3600,
  promptLeaseSeconds: 15 * 60,
  maxPromptAttempts: 3,
  pollIntervalMs: 1000,
  retentionSeconds: RETENTION_SECONDS,
  containerName: 'workspace',
  repositoryAccess: NO_REPOSITORIES,
}

export interface CoreDeps {
  sessions: SessionStore
  prompts: PromptStore
  /** The usage ledger (core/usage-ledger.ts): budgets and `devflow usage` read it. */
  usage: UsageStore
  runtime: TaskRuntime
  tokens: RepoTokenIssuer
  pullRequests: PullRequestOpener
  clock: Clock
  ids: IdGenerator
  /** The HMAC key page tokens are sealed with (src/core/page-tokens.ts); read only when paging. */
  pageTokenKey: () => Promise<Uint8Array>
  settings: CoreSettings
  /** GitHub `owner/name` references only, when not given. */
  repositories?: RepositoryResolver
  /** No check before queueing a prompt, when not given (the deployed stack creates the key's secret). */
  agentKey?: AgentKeyPreflight
  /** Where the services report what they recover from (a failed GitHub comment edit); silent when not given. */
  log?: {warn(message: string, extra?: Record<string, unknown>): void}
  /** Work from GitHub webhooks (`POST /github/webhook`); the route answers 503 without it. */
  github?: GithubWorkDeps
  /** Where stopping workspaces save their Claude Code conversation for `session resume`; checkpoints keep only the branch without it. */
  conversations?: ConversationStore
  /** Where prompt, session and budget news goes (the stage's webhook, its SNS topic); nothing is sent when not given. */
  notifier?: Notifier
  /** The warm pool (services/warm-pool.ts); every start runs a cold task when not given. */
  warmPool?: WarmPoolDeps
  /**
   * Wakes this process's long polls when a write they wait for lands here (change-signals.ts);
   * createCoreServices makes one when not given. Pass one to share it between service sets.
   */
  signals?: ChangeSignals
  /**
   * Told after a session ended (records.ts: endSession, and a STOPPING session found stopped).
   * Set by createCoreServices, not by a composition root: the GitHub queue drains then.
   */
  sessionEnded?: (session: SessionRecord) => Promise<void>
}

export interface CoreServices {
  sessions: SessionApi
  agent: AgentApi
  /** Present when the deps have `github`. */
  github?: GithubWorkApi
  /** Stops idle and expired sessions and hands back prompts whose lease expired (the scheduled reaper). */
  reapSessions(): Promise<ReapReport>
  /** Present when the deps have `warmPool`: the pool keeper (run with the reaper) and the warm tasks' routes. */
  warmPool?: WarmPoolApi
}

export type {ReapReport} from './reaper.js'
export type {GithubWorkApi, GithubWorkDeps, WebhookResponse} from './github-work.js'
export type {WarmAssignment, WarmPoolApi, WarmPoolDeps, WarmPoolReport, WarmRegistration} from './warm-pool.js'

export function createCoreServices(given: CoreDeps): CoreServices {
  const signals = given.signals ?? createChangeSignals()
  // One copy the services share, so the session-end listener below reaches all of them.
  const deps: CoreDeps = {...given, signals, ...signallingStores(given, signals)}
  const sessions = createSessionService(deps)
  const github = deps.github ? createGithubWork(deps, deps.github, sessions) : undefined
  if (github) deps.sessionEnded = github.queue.sessionEnded
  const reap = createReaper(deps)
  return {
    sessions,
    agent: createAgentService(deps, github?.observer),
    ...(github ? {github: github.api} : {}),
    async reapSessions() {
      const report = await reap()
      // Also what a drain that lost its repository's lock to another left behind.
      await github?.queue.drainAll()
      return report
    },
    ...(deps.warmPool ? {warmPool: createWarmPool(deps, deps.warmPool)} : {}),
  }
}
