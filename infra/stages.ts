/**
 * The deployment stages and everything that differs between them, in one place.
 *
 * Each stage is deployed as its own stack, `devflow-<stage>`, into its own account or region: the
 * table, repository and secret names are the fixed seed names (src/core/deployment.ts), so two
 * stages cannot share one account and region.
 */
import {Duration, RemovalPolicy} from 'aws-cdk-lib'
import {RetentionDays} from 'aws-cdk-lib/aws-logs'

import type {CapacityProvider} from '../src/core/models.js'

export type StageName = 'dev' | 'prod'

export const STAGE_NAMES: readonly StageName[] = ['dev', 'prod']

/** The VPC shape of a stage, read from cdk.json context `devflow:network`. */
export interface NetworkSettings {
  readonly cidr: string
  readonly maxAzs: number
  readonly natGateways: number
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
  /** How many on-demand workspace tasks the service keeps warm. */
  readonly warmTasks: number
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
  /** Overrides the stage's warm task count. */
  warmTasks: 'devflow:warmTasks',
  /** An e-mail address subscribed to the alarm topic. */
  alarmEmail: 'devflow:alarmEmail',
  /** `moto`: leave out what moto_server's CloudFormation cannot create (README, "Deploying to moto"). */
  emulator: 'devflow:emulator',
  /**
   * The repositories sessions may be started on (src/core/repository-access.ts): a comma-separated
   * list, or JSON {"default": [...], "principals": {"<principal pattern>": [...]}}. Unset: none.
   */
  repositories: 'devflow:repositories',
} as const
