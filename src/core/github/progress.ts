/**
 * Which living-comment state a piece of GitHub work is in, from the records the core keeps (the
 * session, its prompt, the prompt's events). Pure: the service that edits the comment reads the
 * records and renders `livingCommentState(...)` with living-comment.ts.
 */
import type {ErrorInfo, PromptEvent, PromptRecord, SessionRecord} from '../models.js'
import type {LivingCommentState} from './living-comment.js'

export interface GithubWork {
  /** The login that triggered the work. */
  readonly sender: string
  readonly session?: Pick<SessionRecord, 'id' | 'status' | 'error'>
  readonly prompt?: Pick<PromptRecord, 'status' | 'result' | 'error'>
  /** The prompt's events, oldest first (only the last meaningful one is shown). */
  readonly events?: ReadonlyArray<Pick<PromptEvent, 'type' | 'text' | 'data'>>
  /** The draft pull request the API opened for the work, when it did. */
  readonly pullRequestUrl?: string
  /** Set while the trigger waits for the repository's concurrency limit. */
  readonly waitingFor?: {readonly limit: number; readonly repo: string}
  /** Who asked `/devflow stop`, when someone did. */
  readonly stoppedBy?: string
}

/** What to do next for the outcome codes the agent and the control plane report. */
const HINTS: Record<string, string> = {
  AGENT_MAX_TURNS: 'The agent ran out of turns: split the work into smaller steps, or comment `/devflow <what to do next>`.',
  CLAUDE_ERROR_MAX_TURNS: 'The agent ran out of turns: split the work into smaller steps, or comment `/devflow <what to do next>`.',
  AGENT_BUDGET_EXCEEDED: 'The agent reached its spending limit: an operator can raise the budget, then comment `/devflow <what to do next>`.',
  BUDGET_EXCEEDED: 'The session reached its budget: an operator can add to it with `devflow session budget`.',
  AGENT_AUTH_FAILED: 'The Claude API key was refused: an operator should set a valid one with `devflow secrets set claude-api-key`.',
  AGENT_OVERLOADED: 'The Claude API is overloaded: comment `/devflow <what to do next>` in a few minutes.',
  AGENT_API_ERROR: 'The Claude API failed: comment `/devflow <what to do next>` to try again.',
  AGENT_NETWORK: 'The workspace could not reach the Claude API: comment `/devflow <what to do next>` to try again; if it persists, an operator should check the network.',
  INTERRUPTED: 'The agent restarted midway; what it had changed was pushed. Comment `/devflow <what to do next>` to go on.',
}

function hintFor(error: ErrorInfo, sessionId: string | undefined): string {
  const logs = sessionId ? ` The details are in \`devflow session logs ${sessionId}\`.` : ''
  return (HINTS[error.code] ?? 'Comment `/devflow <instructions>` to try again.') + logs
}

/** The latest step worth showing: the agent's last words or its last tool call, never a tool's raw output. */
export function latestStep(events: ReadonlyArray<Pick<PromptEvent, 'type' | 'text' | 'data'>> = []): string | undefined {
  for (let index = events.length - 1; index >= 0; index--) {
    const event = events[index]
    const text = event.text?.trim()
    if (!text) continue
    if (event.type === 'assistant') return text.split('\n')[0]
    if (event.type === 'tool_use') {
      const tool = (event.data as {tool?: unknown} | undefined)?.tool
      return typeof tool === 'string' ? `${tool}: ${text.slice(tool.length).trim()}` : text
    }
  }
  return undefined
}

export function livingCommentState(work: GithubWork): LivingCommentState {
  const sender = work.sender
  const sessionId = work.session?.id
  const common = {sender, ...(sessionId ? {sessionId} : {})}
  const cost = work.prompt?.result?.costUsd
  const costPart = cost === undefined ? {} : {costUsd: cost}
  if (work.waitingFor) return {...common, state: 'waiting', limit: work.waitingFor.limit, repo: work.waitingFor.repo}
  const prompt = work.prompt
  if (prompt?.status === 'SUCCEEDED' && sessionId) {
    const result = prompt.result
    const pullRequestUrl = work.pullRequestUrl ?? result?.prUrl
    return {
      ...common,
      sessionId,
      state: 'succeeded',
      summary: result?.summary ?? '',
      commits: result?.commit ? [{sha: result.commit}] : [],
      ...(result?.branch ? {branch: result.branch} : {}),
      ...(pullRequestUrl ? {pullRequestUrl} : {}),
      ...costPart,
    }
  }
  if (prompt?.status === 'CANCELLED' || (prompt?.status === 'FAILED' && prompt.error?.code === 'STOPPED' && work.stoppedBy)) {
    return {...common, state: 'stopped', stoppedBy: work.stoppedBy ?? sender, ...costPart}
  }
  if (prompt?.status === 'FAILED') {
    const error = prompt.error ?? {code: 'AGENT_FAILED', message: prompt.result?.summary || 'The agent failed without saying why.'}
    return {...common, state: 'failed', error, hint: hintFor(error, sessionId), ...costPart}
  }
  const session = work.session
  if (session?.status === 'FAILED') {
    const error = session.error ?? {code: 'SESSION_FAILED', message: 'The workspace failed to start.'}
    return {...common, state: 'failed', error, hint: hintFor(error, sessionId)}
  }
  if (session && (session.status === 'STOPPED' || session.status === 'STOPPING')) {
    return {...common, state: 'stopped', stoppedBy: work.stoppedBy ?? sender}
  }
  if (prompt?.status === 'RUNNING' && sessionId) {
    const step = latestStep(work.events)
    return {...common, sessionId, state: 'running', ...(step ? {latestStep: step} : {})}
  }
  return {...common, state: 'queued'}
}
