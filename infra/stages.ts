/**
 * The deployment stages and everything that differs between them, in one place.
 *
 * Each stage is deployed as its own stack, `devflow-<stage>`, into its own account or region: the
 * table, repository and secret names are the fixed seed names (src/core/deployment.ts), so two
 * stages cannot share one account and region.
 */
import {Duration, RemovalPolicy} from 'aws-cdk-lib'
import {RetentionDays} from 'aws-cdk-lib/aws-logs'

import {BUDGETS_SETTING, type BudgetLimits} from '../src/core/budgets.js'
import {DEFAULT_REGISTRIES} from '../src/core/egress.js'
import {DEFAULT_MAX_SESSIONS_PER_REPO, MAX_SESSIONS_PER_REPO_SETTING} from '../src/core/github/queue.js'
import type {CapacityProvider} from '../src/core/models.js'
import {PRICES_SETTING} from '../src/core/pricing.js'

export type StageName = 'dev' | 'prod'

export const STAGE_NAMES: readonly StageName[] = ['dev', 'prod']

/** The VPC shape of a stage, read from cdk.json context `devflow:network`. */
export interface NetworkSettings {
  readonly cidr: string
  readonly maxAzs: number
  readonly natGateways: number
}

/** Where a stage's notifications go besides its SNS topic (src/core/notifications.ts). */
export interface NotificationSettings {
  readonly webhookUrl?: string
  readonly format?: 'slack' | 'json'
  /** The name of a Secrets Manager secret holding `{"secret": "..."}`; the body is signed with it. */
  readonly secretName?: string
}

/** What the workspaces may reach (issue 15; the rule itself is in src/core/egress.ts). */
export interface EgressSettings {
  /**
   * `allowList`: the DNS Firewall on the workspace VPC and a security group open outbound on 443
   * (and 80 with `http`) only; `open`: neither, outbound unrestricted.
   */
  readonly mode: 'allowList' | 'open'
  /** The stage's domains beyond GitHub, the Anthropic API, the DevFlow API and the task's AWS endpoints: its package registries. */
  readonly allow: readonly string[]
  /** Also allow outbound port 80 (plain-http mirrors). */
  readonly http: boolean
  /**
   * May a repository's `.devflow/egress.txt` add names (src/core/egress-policy.ts)? The stage-wide
   * DNS Firewall cannot honour them per task: with it on, the workspace reports the file as ignored
   * (with it off, as not allowed); the local proxy honours them. @default false
   */
  readonly repositoryAdditions?: boolean
}

export interface StageSettings {
  readonly name: StageName
  /** How workspace tasks are placed by default: Spot first in dev, on-demand in prod. */
  readonly capacity: CapacityProvider
  /** What happens to data (tables, secrets, repository, buckets) when the stack is deleted. */
  readonly dataRemovalPolicy: RemovalPolicy
  readonly pointInTimeRecovery: boolean
  readonly deletionProtection: boolean
  readonly logRetention: RetentionDays
  /** How many workspace tasks the warm pool keeps ready (outside the schedule's windows). */
  readonly warmTasks: number
  /** The pool's size by time of day (core/warm-pool.ts parseWarmSchedule); none: always warmTasks. */
  readonly warmSchedule?: string
  /** Per-task defaults of the workspace task definition. */
  readonly taskCpu: number
  readonly taskMemoryMiB: number
  /** Lambda error rate (percent over 5 minutes) that raises an alarm. */
  readonly lambdaErrorRateThreshold: number
  readonly apiThrottlingRateLimit: number
  readonly apiThrottlingBurstLimit: number
  /**
   * Each unauthenticated /agent/* method's own throttle (requests per second, burst), so that
   * nobody can spend the user routes' budget through them.
   */
  readonly agentThrottlingRateLimit: number
  readonly agentThrottlingBurstLimit: number
  /** Active (not STOPPED or FAILED) sessions one user may have; a start beyond it is a 409. */
  readonly maxActiveSessionsPerUser: number
  /** How long an ECR image that no tag points at is kept. */
  readonly untaggedImageExpiry: Duration
  /** How long a stopped session's saved Claude conversation is kept for `session resume` (the bucket's lifecycle expiry). */
  readonly conversationExpiry: Duration
  /** The issue label that hands an issue to DevFlow (GitHub webhooks). */
  readonly githubLabel: string
  /** Repositories webhooks may start work on (`owner/name` or `owner/*`); @default every repository the App is installed on */
  readonly githubAllowedRepos?: readonly string[]
  /** Sessions from GitHub webhooks one repository may have at once; more wait in a queue (src/core/github/queue.ts). */
  readonly githubMaxSessionsPerRepo: number
  readonly egress: EgressSettings
  /** Spending limits (src/core/budgets.ts): a session's default, per user and per stage per month. */
  readonly budgets: BudgetLimits
}

export const STAGES: Readonly<Record<StageName, StageSettings>> = {
  dev: {
    name: 'dev',
    capacity: 'FARGATE_SPOT',
    dataRemovalPolicy: RemovalPolicy.DESTROY,
    pointInTimeRecovery: false,
    deletionProtection: false,
    logRetention: RetentionDays.ONE_WEEK,
    warmTasks: 0,
    taskCpu: 1024,
    taskMemoryMiB: 4096,
    lambdaErrorRateThreshold: 10,
    apiThrottlingRateLimit: 20,
    apiThrottlingBurstLimit: 40,
    agentThrottlingRateLimit: 10,
    agentThrottlingBurstLimit: 20,
    maxActiveSessionsPerUser: 3,
    untaggedImageExpiry: Duration.days(7),
    conversationExpiry: Duration.days(14),
    githubLabel: 'devflow',
    githubMaxSessionsPerRepo: DEFAULT_MAX_SESSIONS_PER_REPO,
    egress: {mode: 'allowList', allow: DEFAULT_REGISTRIES, http: false, repositoryAdditions: true},
    budgets: {sessionUsd: 10, userMonthlyUsd: 200, stageMonthlyUsd: 1000},
  },
  prod: {
    name: 'prod',
    capacity: 'FARGATE',
    dataRemovalPolicy: RemovalPolicy.RETAIN,
    pointInTimeRecovery: true,
    deletionProtection: true,
    logRetention: RetentionDays.SIX_MONTHS,
    warmTasks: 0,
    taskCpu: 1024,
    taskMemoryMiB: 4096,
    lambdaErrorRateThreshold: 2,
    apiThrottlingRateLimit: 100,
    apiThrottlingBurstLimit: 200,
    agentThrottlingRateLimit: 50,
    agentThrottlingBurstLimit: 100,
    maxActiveSessionsPerUser: 5,
    untaggedImageExpiry: Duration.days(30),
    conversationExpiry: Duration.days(30),
    githubLabel: 'devflow',
    githubMaxSessionsPerRepo: DEFAULT_MAX_SESSIONS_PER_REPO,
    egress: {mode: 'allowList', allow: DEFAULT_REGISTRIES, http: false},
    budgets: {sessionUsd: 25, userMonthlyUsd: 500, stageMonthlyUsd: 5000},
  },
}

export function isStageName(value: string): value is StageName {
  return (STAGE_NAMES as readonly string[]).includes(value)
}

/** Context keys the app reads (cdk.json, `-c key=value`, or `devflow deploy -c`). */
export const CONTEXT_KEYS = {
  /** Per-stage VPC settings: {"dev": NetworkSettings, "prod": NetworkSettings}. */
  network: 'devflow:network',
  /** Which stages the app synthesizes (comma-separated); all of them when unset. */
  stages: 'devflow:stages',
  /** The workspace image: a digest (sha256:...) wins over a tag. */
  imageDigest: 'devflow:imageDigest',
  imageTag: 'devflow:imageTag',
  /** Overrides the stage's warm pool size: N for every stage, or {"dev": N, "prod": M}. */
  warmTasks: 'devflow:warmTasks',
  /** The warm pool's size by time of day (UTC), e.g. "mon-fri 07:00-19:00=3"; a string or {"<stage>": string}. */
  warmSchedule: 'devflow:warmSchedule',
  /** An e-mail address subscribed to the alarm topic. */
  alarmEmail: 'devflow:alarmEmail',
  /** `open` turns the egress allow-list off; `allowList` (the stages' default) keeps it. */
  egress: 'devflow:egress',
  /** Domains added to the stage's allow-list: a list (JSON array or comma-separated), or {"<stage>": list}. */
  egressAllow: 'devflow:egressAllow',
  /** `true`: the workspaces may also connect out on port 80. */
  egressHttp: 'devflow:egressHttp',
  /** `true`: a repository's .devflow/egress.txt may add names where the enforcer can honour them (the local proxy). */
  egressRepositoryAdditions: 'devflow:egressRepositoryAdditions',
  /** JSON budgets, merged over the stage's: {"sessionUsd"?, "userMonthlyUsd"?, "stageMonthlyUsd"?}. */
  budgets: BUDGETS_SETTING,
  /** JSON Fargate prices replacing the built-in table's for the stage: {"FARGATE"?: {...}, "FARGATE_SPOT"?: {...}}. */
  prices: PRICES_SETTING,
  /** The notification webhook's URL (https), its body (`slack` or `json`), and the name of the Secrets Manager secret `{"secret"}` that signs it. */
  notifyWebhook: 'devflow:notifyWebhook',
  notifyFormat: 'devflow:notifyFormat',
  notifySecret: 'devflow:notifySecret',
  /** `moto`: leave out what moto_server's CloudFormation cannot create (README, "Deploying to moto"). */
  emulator: 'devflow:emulator',
  /**
   * The repositories sessions may be started on (src/core/repository-access.ts): a comma-separated
   * list, or JSON {"default": [...], "principals": {"<principal pattern>": [...]}}. Unset: none.
   */
  repositories: 'devflow:repositories',
  /** Sessions from GitHub webhooks one repository may have at once, over the stage's. */
  githubMaxSessionsPerRepo: MAX_SESSIONS_PER_REPO_SETTING.context,
} as const
