/**
 * What a session costs: compute (its Fargate task's vCPU and memory for as long as it ran) and
 * agent (what Claude Code reported for its prompts), as DESIGN.md's `cost: {computeUsd, agentUsd,
 * totalUsd}`.
 *
 * The price table below is the one place Fargate prices live. It was written without internet
 * access, from AWS's public list prices for Linux/x86 as remembered: check
 * https://aws.amazon.com/fargate/pricing/ and override per stage (`devflow:prices`, see
 * parsePriceOverride) where they differ. Ephemeral storage above the free 20 GB and data transfer
 * are not counted.
 */
import * as z from 'zod'

import {invalidInput} from './errors.js'
import type {CapacityProvider, Cost} from './models.js'

export interface FargateRate {
  /** USD per vCPU per hour. */
  readonly vcpuHourUsd: number
  /** USD per GB of memory per hour (1 GB = 1024 MiB, as Fargate sizes memory). */
  readonly gbHourUsd: number
  /** When the figure was taken (YYYY-MM-DD). */
  readonly asOf: string
  readonly source: string
}

export type RegionRates = Readonly<Record<CapacityProvider, FargateRate>>

const LIST_PRICE_SOURCE = 'AWS Fargate pricing page, Linux/x86 on-demand list price, recalled without internet access'
const SPOT_ESTIMATE_SOURCE = 'estimate: 30% of the on-demand list price (Fargate Spot prices float; AWS advertises up to 70% off)'
const AS_OF = '2024-06-01'

function listPrice(vcpuHourUsd: number, gbHourUsd: number): RegionRates {
  return {
    FARGATE: {vcpuHourUsd, gbHourUsd, asOf: AS_OF, source: LIST_PRICE_SOURCE},
    FARGATE_SPOT: {vcpuHourUsd: round(vcpuHourUsd * 0.3, 8), gbHourUsd: round(gbHourUsd * 0.3, 8), asOf: AS_OF, source: SPOT_ESTIMATE_SOURCE},
  }
}

/** The built-in table, per region. A region not listed is priced as us-east-1 (FALLBACK_REGION). */
export const FARGATE_PRICES: Readonly<Record<string, RegionRates>> = {
  'us-east-1': listPrice(0.04048, 0.004445),
  'us-east-2': listPrice(0.04048, 0.004445),
  'us-west-2': listPrice(0.04048, 0.004445),
  'eu-west-1': listPrice(0.04048, 0.004445),
  'eu-west-2': listPrice(0.04656, 0.00511),
  'eu-central-1': listPrice(0.04656, 0.00511),
  'ap-southeast-1': listPrice(0.05056, 0.00553),
  'ap-southeast-2': listPrice(0.04856, 0.00532),
  'ap-northeast-1': listPrice(0.05056, 0.00553),
}

export const FALLBACK_REGION = 'us-east-1'

/** The context key a stage's price override is set with (infra/stages.ts CONTEXT_KEYS.prices). */
export const PRICES_SETTING = 'devflow:prices'

const RateOverride = z.object({vcpuHourUsd: z.number().nonnegative(), gbHourUsd: z.number().nonnegative()}).strict()

/** A stage's override: `{"FARGATE": {"vcpuHourUsd", "gbHourUsd"}, "FARGATE_SPOT"?: {...}}`. */
export const PriceOverride = z.object({FARGATE: RateOverride.optional(), FARGATE_SPOT: RateOverride.optional()}).strict()
export type PriceOverride = z.infer<typeof PriceOverride>

/** Reads a stage's price override from its JSON text (context key or environment variable). */
export function parsePriceOverride(text: string): PriceOverride {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw invalidInput('INVALID_PRICES', `The price override is not JSON: ${(error as Error).message}.`, priceHint, {cause: error})
  }
  const parsed = PriceOverride.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw invalidInput('INVALID_PRICES', `The price override is not valid: ${issue.path.join('.') || 'value'}: ${issue.message}.`, priceHint)
  }
  return parsed.data
}

const priceHint = 'Give {"FARGATE": {"vcpuHourUsd": 0.04048, "gbHourUsd": 0.004445}, "FARGATE_SPOT": {...}} with non-negative USD figures.'

/** The rate a task pays in `region` on `capacity`: the stage's override wins over the table. */
export function fargateRate(region: string, capacity: CapacityProvider, override?: PriceOverride): FargateRate {
  const own = override?.[capacity]
  if (own) return {...own, asOf: 'stage setting', source: `the stage's price override (${PRICES_SETTING})`}
  const listed = FARGATE_PRICES[region]?.[capacity]
  if (listed) return listed
  const fallback = FARGATE_PRICES[FALLBACK_REGION][capacity]
  return {...fallback, source: `${fallback.source}; ${region} is not in the table, priced as ${FALLBACK_REGION}`}
}

/** What compute cost needs to know about a session's task. */
export interface TaskUsage {
  /** CPU units (1024 = 1 vCPU), as ECS sizes a task. */
  readonly cpu: number
  /** Memory in MiB. */
  readonly memory: number
  /** When the task started running (ECS `startedAt`); no compute cost before. */
  readonly startedAt?: string
  /** When it stopped (ECS `stoppedAt`); still running (cost so far) when absent. */
  readonly stoppedAt?: string
}

/** An interval to count within, for month-to-date sums: [from, to). */
export interface CostWindow {
  readonly from: Date
  readonly to: Date
}

/** Fargate bills by the second with a one-minute minimum per task. */
const MINIMUM_BILLED_SECONDS = 60

/** The seconds a task has been billed for, so far at `now`, clipped to `window` when given. */
export function billedSeconds(task: TaskUsage, now: Date, window?: CostWindow): number {
  if (task.startedAt === undefined) return 0
  const start = Date.parse(task.startedAt)
  const stop = task.stoppedAt === undefined ? now.getTime() : Date.parse(task.stoppedAt)
  const whole = Math.max(0, stop - start) / 1000
  const billed = Math.max(Math.ceil(whole), MINIMUM_BILLED_SECONDS)
  if (!window) return billed
  // The minimum is charged where the task started.
  const billedEnd = start + billed * 1000
  const from = Math.max(start, window.from.getTime())
  const to = Math.min(billedEnd, window.to.getTime())
  return Math.max(0, to - from) / 1000
}

export function computeCostUsd(task: TaskUsage, rate: FargateRate, now: Date, window?: CostWindow): number {
  const hours = billedSeconds(task, now, window) / 3600
  const vcpus = task.cpu / 1024
  const gb = task.memory / 1024
  return round(hours * (vcpus * rate.vcpuHourUsd + gb * rate.gbHourUsd))
}

/** What agent cost needs to know about a prompt (a PromptRecord fits). */
export interface PromptSpend {
  readonly result?: {readonly costUsd?: number}
  /** When the prompt ended (its record's updatedAt); only used to sum within a window. */
  readonly updatedAt?: string
}

/**
 * The sum of the prompts' `costUsd` as Claude Code reported them, plus what the running prompt has
 * spent so far (its latest progress report; 0 when none came yet).
 */
export function agentCostUsd(prompts: ReadonlyArray<PromptSpend>, runningSoFarUsd = 0): number {
  return round(prompts.reduce((sum, prompt) => sum + (prompt.result?.costUsd ?? 0), 0) + runningSoFarUsd)
}


export interface SessionCostInput {
  readonly task: TaskUsage
  readonly rate: FargateRate
  readonly prompts: ReadonlyArray<PromptSpend>
  readonly runningPromptSoFarUsd?: number
  readonly now: Date
  readonly window?: CostWindow
}

export function sessionCost(input: SessionCostInput): Cost {
  const computeUsd = computeCostUsd(input.task, input.rate, input.now, input.window)
  const {window} = input
  const prompts = window ? input.prompts.filter((p) => p.updatedAt === undefined || inWindow(Date.parse(p.updatedAt), window)) : input.prompts
  const agentUsd = agentCostUsd(prompts, input.runningPromptSoFarUsd)
  return {computeUsd, agentUsd, totalUsd: round(computeUsd + agentUsd)}
}

function inWindow(at: number, window: CostWindow): boolean {
  return at >= window.from.getTime() && at < window.to.getTime()
}

/** Costs are kept to a hundredth of a cent; the CLI shows cents. */
export function round(usd: number, digits = 4): number {
  const factor = 10 ** digits
  return Math.round(usd * factor) / factor
}
