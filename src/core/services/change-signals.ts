/**
 * Long polls woken at once by changes made in the same process: a prompt queued wakes the agent's
 * waiting claim, an event or a result wakes the followers of that prompt. The services see every
 * such change through the stores, so the stores are wrapped (`signallingStores`) rather than each
 * service telling. Another process's changes (another Lambda function, admin mode against the
 * deployed table) are not seen here: the store poll every `pollIntervalMs` stays the fallback.
 */
import type {PromptStore, SessionStore} from '../ports.js'
import type {CoreDeps} from './index.js'

/** One wait for the next change on any of some topics; `cancel` drops it when the wait ended otherwise. */
export interface ChangeWait {
  readonly changed: Promise<void>
  cancel(): void
}

export interface ChangeSignals {
  notify(topic: string): void
  /** Subscribe before reading, so a change between the read and the wait is not missed. */
  next(topics: readonly string[]): ChangeWait
}

/** Waiters of a session's next claimable prompt (queued, requeued, the session unpaused or ended). */
export const sessionTopic = (sessionId: string) => `session:${sessionId}`
/** Followers of one prompt (an event, a status change). */
export const promptTopic = (promptId: string) => `prompt:${promptId}`

export function createChangeSignals(): ChangeSignals {
  const waiters = new Map<string, Set<() => void>>()
  const remove = (topics: readonly string[], wake: () => void) => {
    for (const topic of topics) {
      const set = waiters.get(topic)
      set?.delete(wake)
      if (set?.size === 0) waiters.delete(topic)
    }
  }
  return {
    notify(topic) {
      for (const wake of [...(waiters.get(topic) ?? [])]) wake()
    },
    next(topics) {
      let resolve!: () => void
      const changed = new Promise<void>((r) => (resolve = r))
      const wake = () => {
        remove(topics, wake)
        resolve()
      }
      for (const topic of topics) waiters.set(topic, (waiters.get(topic) ?? new Set()).add(wake))
      return {changed, cancel: () => remove(topics, wake)}
    },
  }
}

/**
 * The stores with every write told to `signals` after it landed. A Proxy, so that methods added
 * to the ports later pass through unchanged.
 */
export function signallingStores(deps: Pick<CoreDeps, 'sessions' | 'prompts'>, signals: ChangeSignals): {sessions: SessionStore; prompts: PromptStore} {
  return {
    sessions: afterWrites(deps.sessions, {
      // An unpaused or ended session: its waiting claim answers (a prompt, or 409 SESSION_ENDED).
      update: ([id]) => signals.notify(sessionTopic(id as string)),
    }),
    prompts: afterWrites(deps.prompts, {
      create: ([record]) => signals.notify(sessionTopic((record as {sessionId: string}).sessionId)),
      update: ([sessionId, promptId]) => {
        signals.notify(promptTopic(promptId as string))
        // A prompt handed back (an expired lease) is claimable again.
        signals.notify(sessionTopic(sessionId as string))
      },
      appendEvents: ([promptId]) => signals.notify(promptTopic(promptId as string)),
    }),
  }
}

function afterWrites<T extends object>(store: T, hooks: Partial<Record<keyof T, (args: unknown[]) => void>>): T {
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      const method = value as (...args: unknown[]) => unknown
      const hook = hooks[property as keyof T]
      if (!hook) return method.bind(target)
      return async (...args: unknown[]) => {
        const result = await method.apply(target, args)
        hook(args)
        return result
      }
    },
  })
}

/**
 * Reads until `read` has an answer or `waitMs` has passed: between reads it sleeps the store poll
 * interval, or less when a change on `topics` lands in this process first.
 */
export async function longPoll<T>(deps: CoreDeps, topics: readonly string[], waitMs: number, read: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = deps.clock.now().getTime() + waitMs
  for (;;) {
    const change = deps.signals?.next(topics) ?? UNSIGNALLED
    try {
      const answer = await read()
      if (answer !== undefined) return answer
      const left = deadline - deps.clock.now().getTime()
      if (left <= 0) return undefined
      await Promise.race([change.changed, deps.clock.sleep(Math.min(deps.settings.pollIntervalMs, left))])
    } finally {
      change.cancel()
    }
  }
}

const UNSIGNALLED: ChangeWait = {changed: new Promise<void>(() => {}), cancel() {}}
