/**
 * Budgets: per session, per user per calendar month (UTC) and per stage per calendar month.
 *
 * A prompt may start only while every budget that applies has something left; it then runs with
 * the smallest remainder as its own ceiling (the agent passes it to Claude Code as
 * `--max-budget-usd <amount>`, which the pinned Claude Code 2.1.332 has and honours only with
 * --print; it then ends with the result subtype `error_max_budget_usd`). Spend is measured by src/core/pricing.ts:
 * compute plus agent, so a session's budget covers both.
 */
import * as z from 'zod'

import {type BudgetScope, budgetExceeded, type DevflowError, invalidInput} from './errors.js'
import {type CostWindow, round} from './pricing.js'

export interface BudgetLimits {
  /** A new session's budget unless it was given one (`session start --budget`). */
  readonly sessionUsd?: number
  readonly userMonthlyUsd?: number
  readonly stageMonthlyUsd?: number
}

export const BudgetLimitsSchema = z
  .object({sessionUsd: z.number().positive().optional(), userMonthlyUsd: z.number().positive().optional(), stageMonthlyUsd: z.number().positive().optional()})
  .strict()

/** The context key the stage's budgets are set with (infra/stages.ts CONTEXT_KEYS.budgets). */
export const BUDGETS_SETTING = 'devflow:budgets'

/** Reads a stage's budgets from their JSON text (context key or environment variable). */
export function parseBudgetLimits(text: string): BudgetLimits {
  const hint = 'Give {"sessionUsd": 5, "userMonthlyUsd": 100, "stageMonthlyUsd": 1000}; every key is optional, every figure a positive USD amount.'
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw invalidInput('INVALID_BUDGETS', `The budgets are not JSON: ${(error as Error).message}.`, hint, {cause: error})
  }
  const parsed = BudgetLimitsSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw invalidInput('INVALID_BUDGETS', `The budgets are not valid: ${issue.path.join('.') || 'value'}: ${issue.message}.`, hint)
  }
  return parsed.data
}

/** Below this, a prompt could not do anything useful: it is refused rather than started. */
export const MIN_PROMPT_BUDGET_USD = 0.01

/** Where each budget stands when a prompt asks to start; every figure in USD, spend so far. */
export interface BudgetSpend {
  readonly stage: string
  readonly sessionId: string
  readonly userId: string
  /** The session's total cost so far. */
  readonly sessionSpentUsd: number
  /** The session's own budget (session start --budget, session budget --add); the stage default otherwise. */
  readonly sessionBudgetUsd?: number
  /** The user's cost in the current month, this session included. */
  readonly userMonthSpentUsd: number
  /** The stage's cost in the current month. */
  readonly stageMonthSpentUsd: number
}

export interface BudgetStanding {
  readonly scope: BudgetScope
  readonly limitUsd: number
  readonly spentUsd: number
  readonly remainingUsd: number
}

/** The session's budget in force: its own, or the stage default (so raising the default raises it). */
export function effectiveSessionBudget(sessionBudgetUsd: number | undefined, limits: BudgetLimits): number | undefined {
  return sessionBudgetUsd ?? limits.sessionUsd
}

/** Every budget that applies, with what is left of it. */
export function standings(spend: BudgetSpend, limits: BudgetLimits): BudgetStanding[] {
  const entries: Array<[BudgetScope, number | undefined, number]> = [
    ['session', effectiveSessionBudget(spend.sessionBudgetUsd, limits), spend.sessionSpentUsd],
    ['user', limits.userMonthlyUsd, spend.userMonthSpentUsd],
    ['stage', limits.stageMonthlyUsd, spend.stageMonthSpentUsd],
  ]
  return entries
    .filter((entry): entry is [BudgetScope, number, number] => entry[1] !== undefined)
    .map(([scope, limitUsd, spentUsd]) => ({scope, limitUsd, spentUsd: round(spentUsd), remainingUsd: round(Math.max(0, limitUsd - spentUsd))}))
}

export type PromptStartDecision =
  | {
      readonly ok: true
      /** The prompt's own ceiling (`--max-budget-usd`); absent when no budget applies. */
      readonly maxBudgetUsd?: number
      /** The budget that sets the ceiling. */
      readonly limitedBy?: BudgetScope
    }
  | {readonly ok: false; readonly error: DevflowError}

/** May a prompt start now? ok with its ceiling, or the BUDGET_EXCEEDED error naming the budget. */
export function decidePromptStart(spend: BudgetSpend, limits: BudgetLimits, now: Date): PromptStartDecision {
  const all = standings(spend, limits)
  const spent = all.find((standing) => standing.remainingUsd < MIN_PROMPT_BUDGET_USD)
  if (spent) return {ok: false, error: exceeded(spent, spend, now)}
  const tightest = remainingForPrompt(all)
  return tightest ? {ok: true, maxBudgetUsd: tightest.remainingUsd, limitedBy: tightest.scope} : {ok: true}
}

/** The smallest remainder: what the running prompt may still spend. */
export function remainingForPrompt(all: ReadonlyArray<BudgetStanding>): BudgetStanding | undefined {
  return all.reduce<BudgetStanding | undefined>((tightest, standing) => (tightest === undefined || standing.remainingUsd < tightest.remainingUsd ? standing : tightest), undefined)
}

function exceeded(standing: BudgetStanding, spend: BudgetSpend, now: Date): DevflowError {
  const figures = `$${standing.spentUsd.toFixed(2)} of $${standing.limitUsd.toFixed(2)}`
  const details = {scope: standing.scope, limitUsd: standing.limitUsd, spentUsd: standing.spentUsd}
  const resets = monthWindow(now).to.toISOString().slice(0, 10)
  switch (standing.scope) {
    case 'session':
      return budgetExceeded(
        `Session ${spend.sessionId} has spent its budget (${figures}); its prompts wait.`,
        `Add to it with \`devflow session budget ${spend.sessionId} --add 5\` (any USD amount), then prompt again.`,
        {...details, sessionId: spend.sessionId},
      )
    case 'user':
      return budgetExceeded(
        `${spend.userId} has spent this month's budget on stage ${spend.stage} (${figures}).`,
        `It resets on ${resets}. An operator can raise it: \`devflow deploy --stage ${spend.stage} -c ${BUDGETS_SETTING}='{"userMonthlyUsd": ${suggestRaise(standing.limitUsd)}}'\`.`,
        {...details, userId: spend.userId, resetsAt: resets},
      )
    case 'stage':
      return budgetExceeded(
        `Stage ${spend.stage} has spent this month's budget (${figures}).`,
        `It resets on ${resets}. An operator can raise it: \`devflow deploy --stage ${spend.stage} -c ${BUDGETS_SETTING}='{"stageMonthlyUsd": ${suggestRaise(standing.limitUsd)}}'\`.`,
        {...details, stage: spend.stage, resetsAt: resets},
      )
  }
}

function suggestRaise(limitUsd: number): number {
  return Math.ceil(limitUsd * 1.5)
}

/** The calendar month (UTC) that `now` falls in: monthly budgets count spend within it. */
export function monthWindow(now: Date): CostWindow {
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1))
  return {from, to}
}

/** Percentages of a budget at which an alert goes out, once each. */
export const ALERT_THRESHOLDS = [80, 100] as const
export type AlertThreshold = (typeof ALERT_THRESHOLDS)[number]

/** The thresholds that spend crossed going from `beforeUsd` to `afterUsd` (none when it went down). */
export function crossedThresholds(beforeUsd: number, afterUsd: number, limitUsd: number): AlertThreshold[] {
  return ALERT_THRESHOLDS.filter((percent) => {
    const mark = (limitUsd * percent) / 100
    return beforeUsd < mark && afterUsd >= mark
  })
}

export interface BudgetAlert {
  readonly scope: BudgetScope
  readonly thresholdPercent: AlertThreshold
  readonly limitUsd: number
  readonly spentUsd: number
  readonly stage: string
  readonly userId: string
  readonly sessionId: string
}

/** The alerts due when spend moved from `before` to `after` (same session, user and stage). */
export function budgetAlerts(before: BudgetSpend, after: BudgetSpend, limits: BudgetLimits): BudgetAlert[] {
  const previous = new Map(standings(before, limits).map((standing) => [standing.scope, standing.spentUsd]))
  return standings(after, limits).flatMap((standing) =>
    crossedThresholds(previous.get(standing.scope) ?? 0, standing.spentUsd, standing.limitUsd).map((thresholdPercent) => ({
      scope: standing.scope,
      thresholdPercent,
      limitUsd: standing.limitUsd,
      spentUsd: standing.spentUsd,
      stage: after.stage,
      userId: after.userId,
      sessionId: after.sessionId,
    })),
  )
}

/**
 * `session budget <id> --add USD`: the session's new own budget. A session without any budget gets
 * one of what it spent plus the amount (so --add never lowers what it may spend below that).
 */
export function raisedSessionBudget(session: {budgetUsd?: number; spentUsd: number}, limits: BudgetLimits, addUsd: number): number {
  if (!Number.isFinite(addUsd) || addUsd <= 0) {
    throw invalidInput('INVALID_BUDGET', `${addUsd} is not an amount to add.`, 'Give a positive USD amount, for example --add 5.')
  }
  return round((effectiveSessionBudget(session.budgetUsd, limits) ?? session.spentUsd) + addUsd)
}
