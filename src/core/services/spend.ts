/**
 * What sessions have spent, measured from the records (issue 15): a session's cost from its
 * recorded task times and its prompts' reported costUsd, the monthly spend of its user and its
 * stage from the usage ledger (one item each), and the budget alerts and notifications that follow. The rules themselves live in
 * src/core/pricing.ts and src/core/budgets.ts; this file feeds them the stores' records.
 */
import {ALERT_THRESHOLDS, type BudgetAlert, budgetAlerts, type BudgetLimits, type BudgetSpend, effectiveSessionBudget} from '../budgets.js'
import type {Cost, SessionRecord} from '../models.js'
import type {NotificationEvent} from '../notifications.js'
import {monthPeriod, ownerScope, STAGE_SCOPE} from '../usage-ledger.js'
import {computeCostUsd, type CostWindow, fargateRate, round, type TaskUsage} from '../pricing.js'
import {isSessionTerminal} from '../state-machine.js'
import type {CoreDeps} from './index.js'

export function budgetLimits(deps: CoreDeps): BudgetLimits {
  return deps.settings.budgets ?? {}
}

/** The session's task as compute cost sees it, from the recorded start and stop times. */
export function taskUsageOf(record: SessionRecord): TaskUsage {
  // Ended before anything saw the task stop: its last update is the closest figure.
  const stoppedAt = record.taskStoppedAt ?? (isSessionTerminal(record.status) && record.taskStartedAt ? record.updatedAt : undefined)
  return {cpu: record.cpu, memory: record.memory, startedAt: record.taskStartedAt, stoppedAt}
}

/** A session's cost so far (within `window` when given: compute clipped to it, agent cost when the session changed in it). */
export function sessionRecordCost(deps: CoreDeps, record: SessionRecord, window?: CostWindow): Cost {
  const rate = fargateRate(deps.settings.region ?? 'us-east-1', record.capacity, deps.settings.prices)
  // A resumed session's earlier tasks: counted whole, in the window of the session's last update.
  const prior = record.priorComputeUsd && (!window || inWindow(record.updatedAt, window)) ? record.priorComputeUsd : 0
  const computeUsd = round(computeCostUsd(taskUsageOf(record), rate, deps.clock.now(), window) + prior)
  const agentCounts = !window || inWindow(record.updatedAt, window)
  const agentUsd = agentCounts ? round(record.agentUsd ?? 0) : 0
  return {computeUsd, agentUsd, totalUsd: round(computeUsd + agentUsd)}
}

function inWindow(at: string, window: CostWindow): boolean {
  const time = Date.parse(at)
  return time >= window.from.getTime() && time < window.to.getTime()
}

/**
 * The month's spend of a user or of the stage: the ledger's one item (core/usage-ledger.ts), plus
 * this session's running compute, which the ledger takes only when its task stops.
 */
async function monthSpend(deps: CoreDeps, session: SessionRecord, scope: string): Promise<number> {
  const recorded = await deps.usage.get({scope, period: monthPeriod(deps.clock.now())})
  const running = session.taskStoppedAt === undefined && !isSessionTerminal(session.status) ? sessionRecordCost(deps, session).computeUsd : 0
  return round(recorded.totalUsd + running)
}

/** Where the session's budgets stand now; the monthly sums are only read when a monthly budget is set. */
export async function budgetSpend(deps: CoreDeps, session: SessionRecord): Promise<BudgetSpend> {
  const limits = budgetLimits(deps)
  return {
    stage: deps.settings.stage ?? 'local',
    sessionId: session.id,
    userId: session.userId,
    sessionSpentUsd: sessionRecordCost(deps, session).totalUsd,
    sessionBudgetUsd: session.budgetUsd,
    userMonthSpentUsd: limits.userMonthlyUsd === undefined ? 0 : await monthSpend(deps, session, ownerScope(session.userId)),
    stageMonthSpentUsd: limits.stageMonthlyUsd === undefined ? 0 : await monthSpend(deps, session, STAGE_SCOPE),
  }
}

/** The session-budget thresholds its spend has reached and that were not announced yet. */
export function dueSessionAlerts(deps: CoreDeps, session: SessionRecord, spentUsd: number): BudgetAlert[] {
  const limitUsd = effectiveSessionBudget(session.budgetUsd, budgetLimits(deps))
  if (limitUsd === undefined) return []
  const sent = new Set(session.budgetAlerted ?? [])
  return ALERT_THRESHOLDS.filter((percent) => spentUsd >= (limitUsd * percent) / 100 && !sent.has(percent)).map((thresholdPercent) => ({
    scope: 'session' as const,
    thresholdPercent,
    limitUsd,
    spentUsd: round(spentUsd),
    stage: deps.settings.stage ?? 'local',
    userId: session.userId,
    sessionId: session.id,
  }))
}

/** The thresholds already reached under the session's budget in force: what `budgetAlerted` should say. */
export function reachedThresholds(deps: CoreDeps, session: SessionRecord, spentUsd: number): number[] {
  const limitUsd = effectiveSessionBudget(session.budgetUsd, budgetLimits(deps))
  if (limitUsd === undefined) return []
  return ALERT_THRESHOLDS.filter((percent) => spentUsd >= (limitUsd * percent) / 100)
}

/** The monthly alerts a prompt's reported cost set off (each crossing happens once, as spend only grows). */
export function monthlyAlertsFor(deps: CoreDeps, after: BudgetSpend, addedUsd: number): BudgetAlert[] {
  const before = {...after, userMonthSpentUsd: after.userMonthSpentUsd - addedUsd, stageMonthSpentUsd: after.stageMonthSpentUsd - addedUsd, sessionSpentUsd: 0}
  return budgetAlerts(before, {...after, sessionSpentUsd: 0}, {...budgetLimits(deps), sessionUsd: undefined}).filter((alert) => alert.scope !== 'session')
}

/** Sends a notification; the notifier never throws, and a missing one sends nothing. */
export async function notify(deps: CoreDeps, event: NotificationEvent): Promise<void> {
  if (!deps.notifier) return
  try {
    await deps.notifier.notify(event)
  } catch {
    // A Notifier must not reject; if one does anyway, the request that caused it still succeeds.
  }
}

/** What every session notification says about its session. */
export function sessionRef(deps: CoreDeps, record: SessionRecord) {
  return {stage: deps.settings.stage ?? 'local', sessionId: record.id, userId: record.userId, repo: record.repo}
}
