/**
 * The living comment: the one comment DevFlow keeps on the triggering issue or pull request,
 * created when the work is queued and edited in place as it goes. One body per state; each body
 * starts with a hidden marker naming the work it reports on, so the comment can be found again
 * among the others (and told apart from a user's) and edited rather than duplicated.
 *
 * Pure rendering: no GitHub calls here. Text from users or the agent is cut to fit GitHub's
 * comment limit, and the body never starts with `/devflow`, so it cannot trigger anything itself.
 */
import type {ErrorInfo} from '../models.js'
import type {RefusalReason} from './trigger.js'

/** GitHub rejects comment bodies over 65,536 characters. */
export const MAX_COMMENT_CHARS = 65_536

export interface CommitInfo {
  readonly sha: string
  readonly message?: string
}

interface Common {
  /** The login that triggered the work. */
  readonly sender: string
  readonly sessionId?: string
}

export type LivingCommentState =
  /** `note`: what happened on the way, such as a resume that was refused so a new session took over. */
  | (Common & {readonly state: 'queued'; readonly note?: string})
  | (Common & {readonly state: 'waiting'; readonly limit: number; readonly repo: string})
  | (Common & {readonly state: 'running'; readonly sessionId: string; readonly latestStep?: string})
  | (Common & {
      readonly state: 'succeeded'
      readonly sessionId: string
      readonly summary: string
      readonly commits: readonly CommitInfo[]
      readonly branch?: string
      readonly pullRequestUrl?: string
      readonly costUsd?: number
    })
  | (Common & {readonly state: 'failed'; readonly error: ErrorInfo; readonly hint?: string; readonly costUsd?: number})
  | (Common & {readonly state: 'stopped'; readonly stoppedBy: string; readonly costUsd?: number})
  | (Common & {readonly state: 'refused'; readonly reason: RefusalReason; readonly repo: string; readonly permission?: string})

const MARKER_PREFIX = '<!-- devflow-status '
const MARKER = /^<!-- devflow-status (\{[^\n]*?\}) -->/

/**
 * The hidden first line: `<!-- devflow-status {"key":"..."} -->`. The key names the work (for
 * example the triggering comment or delivery), chosen by the caller and stable across edits.
 */
export function statusMarker(key: string): string {
  // A key containing "-->" would end the HTML comment early; JSON reads \u003e back as ">".
  return `${MARKER_PREFIX}${JSON.stringify({key}).replaceAll('>', '\\u003e')} -->`
}

/** The key of a living comment's marker, undefined for any other comment. */
export function readStatusMarker(body: string | null | undefined): string | undefined {
  const match = MARKER.exec(body ?? '')
  if (!match) return undefined
  try {
    const parsed = JSON.parse(match[1]) as {key?: unknown}
    return typeof parsed.key === 'string' ? parsed.key : undefined
  } catch {
    return undefined
  }
}

/** One line of agent output as a readable quote: no newlines, no markdown that could break out. */
function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  const cut = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
  return cut.replaceAll('`', "'")
}

function cost(usd: number | undefined): string | undefined {
  return usd === undefined ? undefined : `Cost: $${usd < 0.01 && usd > 0 ? usd.toFixed(4) : usd.toFixed(2)}`
}

function footer(state: LivingCommentState): string {
  const session = state.sessionId ? ` · session \`${state.sessionId}\`` : ''
  return `<sub>Requested by @${state.sender}${session}</sub>`
}

function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length))
  const ticks = '`'.repeat(longest + 1)
  return `${ticks}\n${text}\n${ticks}`
}

function sections(state: LivingCommentState): string[] {
  switch (state.state) {
    case 'queued':
      return [
        '### DevFlow: queued',
        ...(state.note ? [state.note] : []),
        'The work is queued and starts in a moment. This comment is updated as it goes.',
        'Comment `/devflow stop` to cancel it.',
      ]
    case 'waiting':
      return [
        '### DevFlow: waiting for a free slot',
        `${state.repo} already has ${state.limit} DevFlow ${state.limit === 1 ? 'session' : 'sessions'} running from GitHub, the most this stage allows at once. This work starts as soon as one of them ends.`,
        'Comment `/devflow stop` to cancel it.',
      ]
    case 'running':
      return [
        '### DevFlow: working',
        state.latestStep ? `Latest step: ${oneLine(state.latestStep)}` : 'The workspace is up and the agent has started.',
        'Comment `/devflow stop` to stop it.',
      ]
    case 'succeeded': {
      const commits = state.commits.map((c) => `- ${c.sha.slice(0, 7)}${c.message ? ` ${oneLine(c.message, 120)}` : ''}`)
      return [
        '### DevFlow: done',
        ...(state.pullRequestUrl ? [`Pull request: ${state.pullRequestUrl}`] : state.branch ? [`Branch: \`${state.branch}\``] : []),
        state.summary.trim() || '(The agent gave no summary.)',
        ...(commits.length > 0 ? [`Commits:\n${commits.join('\n')}`] : ['No commits: nothing in the repository changed.']),
        ...(cost(state.costUsd) ? [cost(state.costUsd) as string] : []),
      ]
    }
    case 'failed':
      return [
        '### DevFlow: failed',
        fence(`${state.error.code}: ${state.error.message}`),
        ...(state.hint ? [`What to do: ${state.hint}`] : []),
        ...(cost(state.costUsd) ? [cost(state.costUsd) as string] : []),
      ]
    case 'stopped':
      return ['### DevFlow: stopped', `Stopped by @${state.stoppedBy}. Nothing more runs for this request.`, ...(cost(state.costUsd) ? [cost(state.costUsd) as string] : [])]
    case 'refused':
      return state.reason === 'READ_ONLY_SENDER'
        ? [
            '### DevFlow: not started',
            `Sorry @${state.sender}, DevFlow takes work only from people with write, maintain or admin access to ${state.repo}${state.permission ? ` (yours is ${state.permission})` : ''}.`,
            'Ask a maintainer to add the label or repeat the command.',
          ]
        : [
            '### DevFlow: not started',
            `Sorry @${state.sender}, this DevFlow stage does not take work from ${state.repo}: the repository is not on its allow-list.`,
            'An operator can add it to the stage\'s allowed repositories.',
          ]
  }
}

/** The whole comment body for a state, marker first, within GitHub's size limit. */
export function renderLivingComment(key: string, state: LivingCommentState): string {
  const head = statusMarker(key)
  const tail = footer(state)
  const body = sections(state).join('\n\n')
  const room = MAX_COMMENT_CHARS - head.length - tail.length - 64
  const fitted = body.length > room ? `${body.slice(0, room)}\n\n… (cut: the full text is in \`devflow session logs\`)` : body
  return `${head}\n${fitted}\n\n${tail}`
}
