/**
 * The usage ledger (issue 15): running sums of what was spent, kept as it is recorded, so budgets
 * and `devflow usage` read a few items instead of every session of the month.
 *
 * Items, by (scope, period):
 *   scope `owner#<userId>`: `month#YYYY-MM` (the user's month: the monthly user budget),
 *                           `YYYY-MM-DD#repo#<repo>` (the user's day per repository);
 *   scope `stage`:          `month#YYYY-MM` (the stage's month: the monthly stage budget),
 *                           `YYYY-MM-DD#user#<userId>`, `YYYY-MM-DD#repo#<repo>`.
 * Each figure is added atomically to every item of one recording (DynamoDB ADD, SQLite
 * `x = x + ?`); the items are not one transaction, so a crash between two adds leaves one behind.
 *
 * What is recorded, and when (UTC days and months):
 *   - a session: when it is created;
 *   - a prompt and its agent cost: when the agent reports its result;
 *   - a session's compute cost and task hours: when its task's stop is recorded (the session
 *     ends), in one piece on the day it stopped. A running task's compute joins the sums only then;
 *     a prompt's budget check adds its own session's running compute itself.
 */
import type {SessionRecord} from './models.js'
import {round} from './pricing.js'

export interface UsageFigures {
  readonly sessions: number
  readonly hours: number
  readonly prompts: number
  readonly computeUsd: number
  readonly agentUsd: number
  readonly totalUsd: number
}

/** What one recording adds (figures left out add nothing). */
export type UsageDelta = Partial<Omit<UsageFigures, 'totalUsd'>>

export interface UsageItemKey {
  readonly scope: string
  readonly period: string
}

export interface UsageRow extends UsageItemKey, UsageFigures {}

export const ZERO_USAGE: UsageFigures = {sessions: 0, hours: 0, prompts: 0, computeUsd: 0, agentUsd: 0, totalUsd: 0}

export const STAGE_SCOPE = 'stage'

export function ownerScope(userId: string): string {
  return `owner#${userId}`
}

export function monthPeriod(at: Date): string {
  return `month#${at.toISOString().slice(0, 7)}`
}

/** Every item one recording for this session at `at` adds to. */
export function usageItemsFor(session: Pick<SessionRecord, 'userId' | 'repo'>, at: Date): UsageItemKey[] {
  const day = at.toISOString().slice(0, 10)
  const owner = ownerScope(session.userId)
  return [
    {scope: owner, period: monthPeriod(at)},
    {scope: owner, period: `${day}#repo#${session.repo}`},
    {scope: STAGE_SCOPE, period: monthPeriod(at)},
    {scope: STAGE_SCOPE, period: `${day}#user#${session.userId}`},
    {scope: STAGE_SCOPE, period: `${day}#repo#${session.repo}`},
  ]
}

/** A day row's parts: `YYYY-MM-DD#<dimension>#<key>`. */
export function dayRowParts(period: string): {day: string; dimension: string; key: string} | undefined {
  const match = /^(\d{4}-\d{2}-\d{2})#(user|repo)#(.+)$/.exec(period)
  return match ? {day: match[1], dimension: match[2], key: match[3]} : undefined
}

export function withTotal(figures: Omit<UsageFigures, 'totalUsd'> & Partial<Pick<UsageFigures, 'totalUsd'>>): UsageFigures {
  return {
    sessions: figures.sessions,
    hours: round(figures.hours, 3),
    prompts: figures.prompts,
    computeUsd: round(figures.computeUsd),
    agentUsd: round(figures.agentUsd),
    totalUsd: round(figures.computeUsd + figures.agentUsd),
  }
}

export function addUsage(a: UsageFigures, b: UsageFigures): UsageFigures {
  return withTotal({sessions: a.sessions + b.sessions, hours: a.hours + b.hours, prompts: a.prompts + b.prompts, computeUsd: a.computeUsd + b.computeUsd, agentUsd: a.agentUsd + b.agentUsd})
}
