/**
 * `session resume <id>`: asks for a new task for the session. With a deadline (`--wait`), a resume
 * refused because the last task is still saving its checkpoint (SESSION_STILL_STOPPING) is asked
 * again until the deadline.
 */
import {isDevflowError} from '../core/errors.js'
import type {Session} from '../core/models.js'
import type {Caller, SessionApi} from '../core/session-api.js'

export interface ResumeOptions {
  /** Retry while the last task stops, until then (epoch ms); no retry when undefined. */
  readonly retryUntil?: number
  readonly intervalMs: number
  readonly sleep?: (ms: number) => Promise<void>
}

export async function resumeSession(client: {api: SessionApi; caller: Caller}, sessionId: string, options: ResumeOptions): Promise<Session> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  for (;;) {
    try {
      return await client.api.resume(client.caller, sessionId)
    } catch (error) {
      const again = isDevflowError(error) && error.code === 'SESSION_STILL_STOPPING' && options.retryUntil !== undefined && Date.now() + options.intervalMs < options.retryUntil
      if (!again) throw error
      await sleep(options.intervalMs)
    }
  }
}
