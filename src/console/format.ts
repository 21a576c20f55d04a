/** Display helpers shared by the views; no DOM, so the unit tests run them under Node. */

export interface SessionLike {
  readonly status: string
  readonly cpu: number
  readonly memory: number
  readonly createdAt: string
  readonly expiresAt: string
  readonly cost?: {readonly totalUsd?: number}
}

export const SESSION_STATUSES = ['PENDING', 'PROVISIONING', 'RUNNING', 'STOPPING', 'STOPPED', 'FAILED'] as const
export const ENDED_SESSION = new Set(['STOPPED', 'FAILED'])
export const ENDED_PROMPT = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED'])

export function size(session: Pick<SessionLike, 'cpu' | 'memory'>): string {
  const memory = session.memory % 1024 === 0 ? `${session.memory / 1024} GB` : `${session.memory} MB`
  return `${session.cpu / 1024} vCPU / ${memory}`
}

/** "3m ago", "in 2h": the same shape as the CLI's relative times. */
export function relative(iso: string, now: Date = new Date()): string {
  const ms = new Date(iso).getTime() - now.getTime()
  if (Number.isNaN(ms)) return '-'
  const seconds = Math.round(Math.abs(ms) / 1000)
  const text = seconds < 60 ? `${seconds}s` : seconds < 3600 ? `${Math.floor(seconds / 60)}m` : seconds < 86_400 ? `${Math.floor(seconds / 3600)}h` : `${Math.floor(seconds / 86_400)}d`
  return ms < 0 ? `${text} ago` : `in ${text}`
}

export function expiry(session: SessionLike, now?: Date): string {
  return ENDED_SESSION.has(session.status) ? '-' : relative(session.expiresAt, now)
}

export function usd(value: number | undefined): string {
  return value === undefined ? '-' : `$${value.toFixed(2)}`
}

/** An event's text as `session logs --follow` prints it: its text, else its data as JSON. */
export function eventText(event: {readonly text?: string; readonly data?: unknown}): string {
  return event.text ?? (event.data === undefined ? '' : JSON.stringify(event.data))
}

/**
 * How the start form offers the allow-list: exact `owner/name` entries are choices; a free text
 * field stays when the stage allows any repository or a whole owner (`owner/*`), whose names the
 * form cannot list.
 */
export function repositoryPicker(choices: {readonly items: readonly string[]; readonly any: boolean}): {names: string[]; owners: string[]; free: boolean} {
  const names = choices.items.filter((entry) => !entry.endsWith('/*'))
  const owners = choices.items.filter((entry) => entry.endsWith('/*')).map((entry) => entry.slice(0, -2))
  return {names, owners, free: choices.any || owners.length > 0}
}

/** An owner id as people read it: an assumed role's ARN by its session name, a console user by the start of its subject. */
export function ownerLabel(userId: string): string {
  const assumed = /^arn:[\w-]+:sts::\d{12}:assumed-role\/([^/]+)\/(.+)$/.exec(userId)
  if (assumed) return `${assumed[2]} (${assumed[1]})`
  const user = /^arn:[\w-]+:iam::\d{12}:user\/(?:.*\/)?(.+)$/.exec(userId)
  if (user) return user[1]
  // A subject is a UUID: its first group tells users apart in a table; the cell's title has it whole.
  const cognito = /^cognito:([0-9a-f]{8})-[0-9a-f-]{27}$/.exec(userId)
  return cognito ? `cognito:${cognito[1]}…` : userId
}
