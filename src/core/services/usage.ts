/**
 * `devflow usage`: sessions, hours, prompts and cost per user, repository or day, from the usage
 * ledger's day rows (core/usage-ledger.ts): a few items per day of the period, whatever the number
 * of sessions. An admin reads the stage's rows (every user); anyone else their own.
 *
 * The period is whole UTC days: from the day `since` reaches back to, to today. What a row
 * counts is what the ledger recorded that day: sessions created, prompts finished and their agent
 * cost, and the compute and task hours of tasks that stopped (a running task's join when it stops).
 */
import type {Caller, UsageReport, UsageRequest} from '../session-api.js'
import {addUsage, dayRowParts, ownerScope, STAGE_SCOPE, type UsageFigures, ZERO_USAGE} from '../usage-ledger.js'
import {parseDuration} from '../validation.js'
import type {CoreDeps} from './index.js'

export const DEFAULT_USAGE_SINCE = '30d'

export async function usageReport(deps: CoreDeps, caller: Caller, request: UsageRequest): Promise<UsageReport> {
  const by = request.by ?? 'user'
  const seconds = parseDuration(request.since ?? DEFAULT_USAGE_SINCE, 'usage period')
  const to = deps.clock.now()
  const fromDay = new Date(to.getTime() - seconds * 1000).toISOString().slice(0, 10)
  const toDay = to.toISOString().slice(0, 10)
  // '~' sorts after every '#<dimension>#<key>' suffix of the last day's rows.
  const rows = await deps.usage.range(caller.admin ? STAGE_SCOPE : ownerScope(caller.userId), fromDay, `${toDay}~`)
  // The stage's rows come once per user and once per repository: each total is summed over one of them.
  const dimension = caller.admin && by !== 'repo' ? 'user' : 'repo'
  const groups = new Map<string, UsageFigures>()
  let total = ZERO_USAGE
  for (const row of rows) {
    const parts = dayRowParts(row.period)
    if (!parts || parts.dimension !== dimension) continue
    const key = by === 'day' ? parts.day : by === 'user' && !caller.admin ? caller.userId : parts.key
    groups.set(key, addUsage(groups.get(key) ?? ZERO_USAGE, row))
    total = addUsage(total, row)
  }
  const sorted = [...groups.entries()].map(([key, row]) => ({key, ...row})).sort((a, b) => (by === 'day' ? a.key.localeCompare(b.key) : b.totalUsd - a.totalUsd || a.key.localeCompare(b.key)))
  return {from: `${fromDay}T00:00:00.000Z`, to: to.toISOString(), by, scope: caller.admin ? 'all' : caller.userId, rows: sorted, total}
}
