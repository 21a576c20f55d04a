/**
 * `session stop <id...>`: every session is attempted; with several, a failure is reported and the
 * next one tried, and the first failure is thrown at the end.
 */
import {isDevflowError} from '../core/errors.js'
import type {Session} from '../core/models.js'
import type {Caller, SessionApi} from '../core/session-api.js'
import {isSessionTerminal} from '../core/state-machine.js'
import {waitForSession} from './session-wait.js'

export interface StopSessionsOptions {
  /** Wait until each has ended (STOPPED or FAILED), polling this often. */
  readonly wait?: {readonly intervalMs: number; readonly timeoutMs?: number}
  readonly onStopped: (session: Session) => void
  /** A failure of one of several sessions; the loop goes on. */
  readonly onFailure: (sessionId: string, message: string) => void
}

export async function stopSessions(client: {api: SessionApi; caller: Caller}, ids: readonly string[], options: StopSessionsOptions): Promise<Session[]> {
  const stopped: Session[] = []
  let firstError: unknown
  for (const id of [...new Set(ids)]) {
    try {
      let session = await client.api.stop(client.caller, id)
      if (options.wait && !isSessionTerminal(session.status)) {
        session = await waitForSession(client.api, client.caller, id, (s) => isSessionTerminal(s.status), {...options.wait, what: 'STOPPED'})
      }
      stopped.push(session)
      options.onStopped(session)
    } catch (error) {
      if (!isDevflowError(error) || ids.length === 1) throw error
      options.onFailure(id, error.message)
      firstError ??= error
    }
  }
  if (firstError) throw firstError
  return stopped
}
