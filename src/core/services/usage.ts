/**
 * `devflow usage`: sessions, hours, prompts and cost per user, repository or day, from the
 * session and prompt tables. An admin sees every user's sessions; anyone else their own.
 */
import {billedSeconds, type CostWindow, round} from '../pricing.js'
import type {SessionRecord} from '../models.js'
import type {Caller, UsageFigures, UsageReport, UsageRequest} from '../session-api.js'
import {parseDuration} from '../validation.js'
import type {CoreDeps} from './index.js'
import {sessionRecordCost, sessionsInWindow, taskUsageOf} from './spend.js'

export const DEFAULT_USAGE_SINCE = '30d'

export async function usageReport(deps: CoreDeps, caller: Caller, request: UsageRequest): Promise<UsageReport> {
  const by = request.by ?? 'user'
  const seconds = parseDuration(request.since ?? DEFAULT_USAGE_SINCE, 'usage period')
  const to = deps.clock.now()
  const window: CostWindow = {from: new Date(to.getTime() - seconds * 1000), to}
  const records = await sessionsInWindow(deps, window, caller.admin ? undefined : caller.userId)
  const groups = new Map<string, UsageFigures>()
  const empty = {sessions: 0, hours: 0, prompts: 0, computeUsd: 0, agentUsd: 0, totalUsd: 0}
  let total = empty
  for (const record of records) {
    const cost = sessionRecordCost(deps, record, window)
    const hours = taskHours(deps, record, window)
    if (!startedInWindow(record, window) && cost.totalUsd === 0 && hours === 0) continue
    const prompts = await deps.prompts.lastSeq(record.id)
    const row = {sessions: 1, hours, prompts, computeUsd: cost.computeUsd, agentUsd: cost.agentUsd, totalUsd: cost.totalUsd}
    const key = groupKey(record, by)
    groups.set(key, add(groups.get(key) ?? empty, row))
    total = add(total, row)
  }
  const rows = [...groups.entries()].map(([key, row]) => ({key, ...row})).sort((a, b) => (by === 'day' ? a.key.localeCompare(b.key) : b.totalUsd - a.totalUsd || a.key.localeCompare(b.key)))
  return {from: window.from.toISOString(), to: window.to.toISOString(), by, scope: caller.admin ? 'all' : caller.userId, rows, total}
}

function groupKey(record: SessionRecord, by: UsageReport['by']): string {
  if (by === 'repo') return record.repo
  if (by === 'day') return record.createdAt.slice(0, 10)
  return record.userId
}

function startedInWindow(record: SessionRecord, window: CostWindow): boolean {
  return Date.parse(record.createdAt) >= window.from.getTime()
}

function taskHours(deps: CoreDeps, record: SessionRecord, window: CostWindow): number {
  const seconds = billedSeconds(taskUsageOf(record), deps.clock.now(), window)
  return round(seconds / 3600, 3)
}

function add(a: UsageFigures, b: UsageFigures): UsageFigures {
  return {
    sessions: a.sessions + b.sessions,
    hours: round(a.hours + b.hours, 3),
    prompts: a.prompts + b.prompts,
    computeUsd: round(a.computeUsd + b.computeUsd),
    agentUsd: round(a.agentUsd + b.agentUsd),
    totalUsd: round(a.totalUsd + b.totalUsd),
  }
}
