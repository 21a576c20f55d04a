/**
 * What the session commands do beyond one API call, kept out of the command classes so they stay
 * thin: turning flags into requests with the core's validators, waiting for a workspace, reading a
 * prompt's text, and paging through sessions.
 */
import {readFile} from 'node:fs/promises'

import {invalidInput, remoteFailure} from '../core/errors.js'
import type {Session} from '../core/models.js'
import type {StartSessionRequest} from '../core/session-api.js'
import {isSessionTerminal} from '../core/state-machine.js'
import {parseStartFields} from '../core/services/session-service.js'
import {parseRepoRef} from '../core/validation.js'
import type {Terminal} from './output.js'
import type {SessionClient, SessionMode} from './session-client.js'
import {sessionStatus} from './session-format.js'
import {type PollOptions, waitForSession} from '../operations/session-wait.js'

export interface StartFlags {
  readonly repo: string
  readonly branch?: string
  readonly cpu?: string
  readonly memory?: string
  readonly ttl?: string
  readonly 'idle-timeout'?: string
  readonly 'idempotency-key'?: string
}

/**
 * Checks the flags with the service's own parser (parseStartFields), so bad input fails before
 * anything is sent. The repository is the local server's to resolve in local mode (a path is one).
 */
export function startRequestFromFlags(flags: StartFlags, mode: SessionMode): StartSessionRequest {
  const repo = mode === 'local' && flags.repo.trim() !== '' ? flags.repo.trim() : parseRepoRef(flags.repo).fullName
  const request = {
    ...(flags.branch === undefined ? {} : {branch: flags.branch}),
    ...(flags.cpu === undefined ? {} : {cpu: flags.cpu}),
    ...(flags.memory === undefined ? {} : {memory: flags.memory}),
    ...(flags.ttl === undefined ? {} : {ttl: flags.ttl}),
    ...(flags['idle-timeout'] === undefined ? {} : {idleTimeout: flags['idle-timeout']}),
  }
  const fields = parseStartFields(request)
  return {
    ...request,
    repo,
    ...(fields.branch === undefined ? {} : {branch: fields.branch}),
    ...(flags.cpu === undefined ? {} : {cpu: fields.cpu}),
    ...(flags.memory === undefined ? {} : {memory: fields.memory}),
    ...(flags['idempotency-key'] === undefined ? {} : {idempotencyKey: flags['idempotency-key']}),
  }
}

/** Spinner on stderr until RUNNING; a session that ends instead is a remote failure (exit 7). */
export async function waitUntilRunning(client: SessionClient, sessionId: string, terminal: Terminal, poll: PollOptions): Promise<Session> {
  await terminal.startProgress(`Waiting for session ${sessionId} to be RUNNING`)
  let session: Session
  try {
    session = await waitForSession(client.api, client.caller, sessionId, (s) => s.status === 'RUNNING' || isSessionTerminal(s.status), {
      ...poll,
      what: 'RUNNING',
      onChange: (s) => terminal.updateProgress(`Waiting for session ${sessionId} to be RUNNING (${sessionStatus(s.status, false)})`),
    })
  } catch (error) {
    terminal.stopProgress(`Session ${sessionId} is not running yet`, false)
    throw error
  }
  if (session.status !== 'RUNNING') {
    terminal.stopProgress(`Session ${sessionId} ended ${session.status}`, false)
    throw remoteFailure(
      'SESSION_FAILED',
      `Session ${sessionId} ended ${session.status} before it was running${session.error ? `: ${session.error.message}` : ''}.`,
      `See \`devflow session status ${sessionId}\`; fix the cause and start a new session.`,
      {details: {session}},
    )
  }
  terminal.stopProgress(`Session ${sessionId} is RUNNING`)
  return session
}

export interface PromptSources {
  readonly text?: string
  readonly file?: string
  /** Piped standard input; read only when neither TEXT nor --file is given. */
  readonly stdin: NodeJS.ReadStream
}

/** Exactly one source: TEXT, --file, or piped stdin. Never waits on an interactive terminal. */
export async function readPromptText(sources: PromptSources): Promise<string> {
  if (sources.text !== undefined && sources.file !== undefined) {
    throw invalidInput('PROMPT_SOURCES', 'Give the prompt either as TEXT or with --file, not both.', 'Drop one of them: `devflow session prompt <id> "text"` or `devflow session prompt <id> --file prompt.md`.')
  }
  if (sources.text !== undefined) return sources.text
  if (sources.file !== undefined) {
    try {
      return await readFile(sources.file, 'utf8')
    } catch (error) {
      throw invalidInput('PROMPT_FILE_UNREADABLE', `Cannot read the prompt file ${sources.file}: ${(error as Error).message}.`, 'Check the path given to --file.', {cause: error})
    }
  }
  if (sources.stdin.isTTY) {
    throw invalidInput('PROMPT_MISSING', 'No prompt was given.', 'Pass the prompt as TEXT, with --file FILE, or on standard input (`echo "text" | devflow session prompt <id>`).')
  }
  const chunks: Buffer[] = []
  for await (const chunk of sources.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  return Buffer.concat(chunks).toString('utf8')
}

/** Pages through the caller's sessions until `limit` (all when undefined). */
export async function listSessions(
  client: SessionClient,
  options: {status?: Session['status']; limit?: number; all?: boolean},
): Promise<{items: Session[]; nextToken?: string}> {
  const items: Session[] = []
  let nextToken: string | undefined
  do {
    const want = options.limit === undefined ? 100 : Math.min(100, options.limit - items.length)
    const page = await client.api.list(client.caller, {status: options.status, limit: want, nextToken, all: options.all})
    items.push(...page.items)
    nextToken = page.nextToken
  } while (nextToken && (options.limit === undefined || items.length < options.limit))
  return nextToken ? {items, nextToken} : {items}
}
