/**
 * Human output of the session commands: tables, detail blocks, progress lines and results. Colour
 * goes through `paint`, which is off when the stream is not a terminal and whenever NO_COLOR is set.
 */
import type {Prompt, PromptEvent, PromptStatus, Session, SessionStatus} from '../core/models.js'
import type {UsageFigures, UsageReport} from '../core/session-api.js'
import {isPromptTerminal} from '../core/state-machine.js'
import {colorEnabled, paint, relativeTime, type Style, table} from './output.js'

const SESSION_STYLES: Record<SessionStatus, Style | undefined> = {
  PENDING: 'yellow',
  PROVISIONING: 'yellow',
  RUNNING: 'green',
  STOPPING: 'yellow',
  STOPPED: 'dim',
  FAILED: 'red',
}

const PROMPT_STYLES: Record<PromptStatus, Style | undefined> = {
  QUEUED: 'yellow',
  RUNNING: 'cyan',
  SUCCEEDED: 'green',
  FAILED: 'red',
  CANCELLED: 'dim',
}

export interface FormatOptions {
  readonly now?: Date
  readonly color?: boolean
}

function styled(text: string, style: Style | undefined, color: boolean): string {
  return style ? paint(text, style, color) : text
}

function vcpu(cpu: number): string {
  return `${cpu / 1024} vCPU`
}

function memory(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024} GB` : `${mib} MB`
}

export function sessionStatus(status: SessionStatus, color = colorEnabled()): string {
  return styled(status, SESSION_STYLES[status], color)
}

export function promptStatus(status: PromptStatus, color = colorEnabled()): string {
  return styled(status, PROMPT_STYLES[status], color)
}

export function sessionsTable(sessions: readonly Session[], options: FormatOptions = {}): string {
  const color = options.color ?? colorEnabled()
  if (sessions.length === 0) return paint('No sessions.', 'dim', color)
  const showOwner = new Set(sessions.map((s) => s.userId)).size > 1
  const headers = ['ID', 'REPO', 'BRANCH', 'STATUS', 'SIZE', 'COST', 'CREATED', 'EXPIRES', ...(showOwner ? ['USER'] : [])]
  const rows = sessions.map((s) => [
    s.id,
    s.repo,
    s.branch,
    sessionStatus(s.status, color),
    `${vcpu(s.cpu)}/${memory(s.memory)}`,
    costCell(s),
    relativeTime(s.createdAt, options.now),
    s.status === 'STOPPED' || s.status === 'FAILED' ? '-' : relativeTime(s.expiresAt, options.now),
    ...(showOwner ? [s.userId] : []),
  ])
  return table(headers, rows)
}

export function usd(value: number): string {
  return `$${value.toFixed(2)}`
}

/** `$1.23`, with the budget when there is one (`$1.23/$5.00`) and `paused` when prompts wait for it. */
function costCell(session: Session): string {
  const spent = usd(session.cost.totalUsd)
  const withBudget = session.budgetUsd === undefined ? spent : `${spent}/${usd(session.budgetUsd)}`
  return session.paused ? `${withBudget} paused` : withBudget
}

function block(pairs: ReadonlyArray<readonly [string, string | undefined]>, color: boolean): string {
  const present = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined && p[1] !== '')
  const width = Math.max(...present.map(([key]) => key.length))
  return present.map(([key, value]) => `${paint(`${key}:`.padEnd(width + 1), 'bold', color)}  ${value}`).join('\n')
}

export function sessionDetail(session: Session, options: FormatOptions = {}): string {
  const color = options.color ?? colorEnabled()
  const when = (iso: string | undefined) => (iso ? `${relativeTime(iso, options.now)} (${iso})` : undefined)
  return block(
    [
      ['Session', session.id],
      ['Status', sessionStatus(session.status, color)],
      ['Repository', `${session.repo} @ ${session.branch}`],
      ['Size', `${vcpu(session.cpu)}, ${memory(session.memory)} (${session.capacity})`],
      ['Owner', session.userId],
      ['Created', when(session.createdAt)],
      ['Last activity', when(session.lastActivityAt)],
      ['Expires', when(session.expiresAt)],
      ['Idle timeout', session.idleTimeout],
      ['Cost', `${usd(session.cost.totalUsd)} (compute ${usd(session.cost.computeUsd)}, agent ${usd(session.cost.agentUsd)})`],
      ['Budget', session.budgetUsd === undefined ? undefined : usd(session.budgetUsd)],
      [
        'Paused',
        session.paused ? paint(`yes: the budget is spent; add to it with \`devflow session budget ${session.id} --add 5\``, 'yellow', color) : undefined,
      ],
      ['Stop reason', session.stopReason],
      ['Resumed', session.resumeCount ? `${session.resumeCount} time${session.resumeCount === 1 ? '' : 's'}` : undefined],
      [
        'Checkpoint',
        session.checkpoint
          ? `${session.checkpoint.branch} ${session.checkpoint.commit.slice(0, 12)}${session.checkpoint.conversation ? ' with the conversation' : ''} (${session.checkpoint.savedAt})`
          : undefined,
      ],
      ['Started', startedHow(session)],
      ['Task', session.taskArn],
      ['Error', session.error ? paint(`${session.error.code}: ${session.error.message}`, 'red', color) : undefined],
    ],
    color,
  )
}

/** A warm pool's task or a cold one, and how long the workspace took to be RUNNING. */
function startedHow(session: Session): string | undefined {
  const took = session.timeToRunningMs === undefined ? '' : `, RUNNING after ${session.timeToRunningMs < 10_000 ? `${session.timeToRunningMs} ms` : `${(session.timeToRunningMs / 1000).toFixed(1)} s`}`
  if (!session.warm && took === '') return undefined
  return `${session.warm ? 'from the warm pool' : 'cold (a new task)'}${took}`
}

export function eventLine(event: PromptEvent, color = colorEnabled(process.stderr)): string {
  const text = event.text ?? (event.data === undefined ? '' : JSON.stringify(event.data))
  return `${paint(event.type.padEnd(10), 'cyan', color)} ${text}`.trimEnd()
}

export function promptsTable(prompts: readonly Prompt[], options: FormatOptions = {}): string {
  const color = options.color ?? colorEnabled()
  if (prompts.length === 0) return paint('No prompts yet.', 'dim', color)
  return table(
    ['SEQ', 'ID', 'STATUS', 'CREATED', 'TEXT'],
    prompts.map((p) => [String(p.seq), p.id, promptStatus(p.status, color), relativeTime(p.createdAt, options.now), firstLine(p.text, 60)]),
  )
}

export function promptHeader(prompt: Prompt, options: FormatOptions = {}): string {
  const color = options.color ?? colorEnabled()
  return `${paint(`#${prompt.seq} ${prompt.id}`, 'bold', color)} ${promptStatus(prompt.status, color)}  ${firstLine(prompt.text, 72)}`
}

export function promptResult(prompt: Prompt, options: FormatOptions = {}): string {
  const color = options.color ?? colorEnabled()
  const result = prompt.result
  return block(
    [
      ['Prompt', `${prompt.id} (#${prompt.seq})`],
      ['Status', promptStatus(prompt.status, color)],
      ['Summary', result?.summary],
      ['Branch', result?.branch],
      ['Commit', result?.commit],
      ['Pull request', result?.prUrl],
      ['Turns', result?.turns === undefined ? undefined : String(result.turns)],
      ['Cost', result?.costUsd === undefined ? undefined : usd(result.costUsd)],
      ['Budget', prompt.maxBudgetUsd === undefined ? undefined : `at most ${usd(prompt.maxBudgetUsd)}`],
      ['Error', prompt.error ? paint(`${prompt.error.code}: ${prompt.error.message}`, 'red', color) : undefined],
    ],
    color,
  )
}

function firstLine(text: string, max: number): string {
  const line = text.split('\n', 1)[0]
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

export function usageTable(report: UsageReport, options: FormatOptions = {}): string {
  const color = options.color ?? colorEnabled()
  const title = paint(`Usage ${report.from.slice(0, 10)} to ${report.to.slice(0, 10)} (${report.scope === 'all' ? 'every user' : report.scope})`, 'bold', color)
  if (report.rows.length === 0) return `${title}\n${paint('No sessions in this period.', 'dim', color)}`
  const figures = (row: UsageFigures) => [String(row.sessions), row.hours.toFixed(2), String(row.prompts), usd(row.computeUsd), usd(row.agentUsd), usd(row.totalUsd)]
  const rows = [...report.rows.map((row) => [row.key, ...figures(row)]), ['TOTAL', ...figures(report.total)]]
  return `${title}\n${table([report.by.toUpperCase(), 'SESSIONS', 'HOURS', 'PROMPTS', 'COMPUTE', 'AGENT', 'COST'], rows)}`
}

/** `session logs`: a collected prompt, its events and (once it has ended) its result. */
export function promptLog(prompt: Prompt & {events: readonly PromptEvent[]}, color = colorEnabled()): string {
  const result = isPromptTerminal(prompt.status) ? [promptResult(prompt)] : []
  return [promptHeader(prompt), ...prompt.events.map((event) => eventLine(event, color)), ...result].join('\n')
}

/** `session status --watch`: the full detail first, then one timestamped line per change of state. */
export function statusChanges(print: (text: string) => void): (session: Session) => void {
  let first = true
  return (session) => {
    print(first ? sessionDetail(session) : `${new Date().toISOString()}  ${sessionStatus(session.status)}${session.error ? `  ${session.error.message}` : ''}`)
    first = false
  }
}

/** What `session start` says on stderr once the session exists. */
export function startedNote(session: Session, created: boolean, waiting: boolean): string {
  const found = `${created ? 'Started' : 'Found existing'} session ${session.id} for ${session.repo}@${session.branch} (${sessionStatus(session.status, false)}).`
  return waiting ? found : `${found}\nFollow it with \`devflow session status ${session.id} --watch\`.`
}

export function resumedNote(session: Session, waiting: boolean): string {
  const where = session.checkpoint ? ` at its checkpoint (${session.checkpoint.branch} ${session.checkpoint.commit.slice(0, 12)}${session.checkpoint.conversation ? ', with its conversation' : ''})` : ''
  const resumed = `Resumed session ${session.id}${where} (${sessionStatus(session.status, false)}, resume ${session.resumeCount ?? 1}).`
  return waiting ? resumed : `${resumed}\nFollow it with \`devflow session status ${session.id} --watch\`.`
}

export function runningNote(session: Session): string {
  return `Open the editor: devflow session open ${session.id}\nSend a prompt:   devflow session prompt ${session.id} "describe the change"`
}
