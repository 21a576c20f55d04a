/**
 * Polling loops of the session commands: waiting for a session's status (`start --wait`,
 * `status --watch`, `stop --wait`) and following a prompt's events to its result (`prompt --wait`,
 * `logs --follow`). Each gives up with a `timeout` DevflowError (exit 6) after its deadline.
 */
import {timedOut} from '../core/errors.js'
import type {Prompt, PromptEvent, Session} from '../core/models.js'
import {isPromptTerminal, isSessionTerminal} from '../core/state-machine.js'
import {type Caller, MAX_EVENTS_WAIT_SECONDS, type SessionApi} from '../core/session-api.js'

export interface PollOptions {
  readonly intervalMs: number
  /** No deadline when undefined. */
  readonly timeoutMs?: number
  readonly sleep?: (ms: number) => Promise<void>
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function deadlineOf(options: PollOptions): number {
  return options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs
}

/** Polls the session until `done` says so; `onChange` sees every status it passes through. */
export async function waitForSession(
  api: SessionApi,
  caller: Caller,
  sessionId: string,
  done: (session: Session) => boolean,
  options: PollOptions & {onChange?: (session: Session) => void; what: string},
): Promise<Session> {
  const deadline = deadlineOf(options)
  let last: string | undefined
  for (;;) {
    const session = await api.get(caller, sessionId)
    if (session.status !== last) {
      last = session.status
      options.onChange?.(session)
    }
    if (done(session)) return session
    if (Date.now() + options.intervalMs > deadline) {
      throw timedOut(
        'WAIT_TIMEOUT',
        `Session ${sessionId} is still ${session.status} after waiting ${Math.round((options.timeoutMs ?? 0) / 1000)}s for it to be ${options.what}.`,
        `It carries on without you: follow it with \`devflow session status ${sessionId} --watch\`, or wait longer with --timeout.`,
      )
    }
    await (options.sleep ?? defaultSleep)(options.intervalMs)
  }
}

/** `session status --watch`: polls until the session is STOPPED or FAILED. */
export async function watchSession(
  client: {api: SessionApi; caller: Caller},
  sessionId: string,
  options: PollOptions & {onChange: (session: Session) => void},
): Promise<Session> {
  return waitForSession(client.api, client.caller, sessionId, (s) => isSessionTerminal(s.status), {...options, what: 'STOPPED or FAILED'})
}

export function isPromptFinished(prompt: Prompt): boolean {
  return isPromptTerminal(prompt.status)
}

/** Every event after `after`, through all pages. */
export async function readEvents(api: SessionApi, caller: Caller, sessionId: string, promptId: string, after: number): Promise<PromptEvent[]> {
  const events: PromptEvent[] = []
  let cursor = after
  for (;;) {
    const page = await api.promptEvents(caller, sessionId, promptId, cursor)
    events.push(...page.items)
    const last = page.items.at(-1)
    if (!page.nextToken || !last) return events
    cursor = last.seq
  }
}

/**
 * Follows a prompt: hands each new event to `onEvent` as it arrives and returns the prompt once it
 * is SUCCEEDED, FAILED or CANCELLED (with every event read). It long-polls the events route
 * (`wait`), which answers as soon as an event lands or the prompt ends, so nothing waits a fixed
 * interval. Admin mode has no server: its core services poll the store every `pollIntervalMs`
 * inside the same call. A server that answers without the prompt's status (older than the long
 * poll) is polled every `intervalMs`.
 */
export async function followPrompt(
  api: SessionApi,
  caller: Caller,
  sessionId: string,
  promptId: string,
  options: PollOptions & {after?: number; onEvent: (event: PromptEvent) => void},
): Promise<Prompt> {
  const deadline = deadlineOf(options)
  let cursor = options.after ?? 0
  for (;;) {
    const left = deadline - Date.now()
    const waitSeconds = Math.max(0, Math.min(MAX_EVENTS_WAIT_SECONDS, Math.ceil(left / 1000)))
    const page = await api.promptEvents(caller, sessionId, promptId, cursor, {waitSeconds})
    for (const event of page.items) {
      cursor = event.seq
      options.onEvent(event)
    }
    if (page.nextToken) continue
    const ended = page.status === undefined || isPromptTerminal(page.status)
    const prompt = ended || Date.now() >= deadline ? await api.getPrompt(caller, sessionId, promptId) : undefined
    if (prompt && isPromptFinished(prompt)) {
      // A page read with an ended status holds every event (the status is read first); from an
      // older server, read what came in meanwhile.
      if (page.status === undefined) for (const event of await readEvents(api, caller, sessionId, promptId, cursor)) options.onEvent(event)
      return prompt
    }
    if (Date.now() >= deadline || (page.status === undefined && Date.now() + options.intervalMs > deadline)) {
      throw timedOut(
        'PROMPT_WAIT_TIMEOUT',
        `Prompt ${promptId} is still ${prompt?.status ?? page.status} after waiting ${Math.round((options.timeoutMs ?? 0) / 1000)}s.`,
        `The agent carries on: follow it with \`devflow session logs ${sessionId} --prompt ${promptId} --follow\`, or wait longer with --timeout.`,
        {details: {sessionId, promptId, status: prompt?.status ?? page.status}},
      )
    }
    if (page.status === undefined) await (options.sleep ?? defaultSleep)(options.intervalMs)
  }
}
