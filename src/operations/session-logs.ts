/**
 * `session logs`: a session's prompts with their events, and with `follow` the loop that keeps
 * reading new events and new prompts until the prompt, or the session, has ended.
 */
import type {Prompt, PromptEvent} from '../core/models.js'
import type {Caller, SessionApi} from '../core/session-api.js'
import {isSessionTerminal} from '../core/state-machine.js'
import {followPrompt, isPromptFinished, readEvents} from './session-wait.js'

export type PromptLog = Prompt & {events: PromptEvent[]}

export interface SessionLogs {
  sessionId: string
  prompts: PromptLog[]
}

export interface SessionLogsClient {
  readonly api: SessionApi
  readonly caller: Caller
}

/** What the follow loop reports as it goes. */
export interface LogListener {
  /** A prompt queued while following, before its events. */
  newPrompt(prompt: Prompt): void
  event(event: PromptEvent): void
  /** A followed prompt reached its end. */
  finished(prompt: Prompt): void
}

/** Every prompt of the session (or the one asked for), in order, with its events. */
export async function collectLogs(client: SessionLogsClient, sessionId: string, promptId?: string): Promise<SessionLogs> {
  const prompts = promptId ? [await client.api.getPrompt(client.caller, sessionId, promptId)] : await allPrompts(client, sessionId)
  const logs: PromptLog[] = []
  for (const prompt of prompts) logs.push({...prompt, events: await readEvents(client.api, client.caller, sessionId, prompt.id, 0)})
  return {sessionId, prompts: logs}
}

export async function allPrompts(client: SessionLogsClient, sessionId: string): Promise<Prompt[]> {
  const prompts: Prompt[] = []
  let nextToken: string | undefined
  do {
    const page = await client.api.listPrompts(client.caller, sessionId, {limit: 100, nextToken})
    prompts.push(...page.items)
    nextToken = page.nextToken
  } while (nextToken)
  return prompts
}

/**
 * Follows the prompts already collected to their end; without `promptId`, also the prompts queued
 * meanwhile, until the session has ended. Returns every prompt followed, in order.
 */
export async function followLogs(
  client: SessionLogsClient,
  logs: SessionLogs,
  options: {promptId?: string; intervalMs: number; listener: LogListener},
): Promise<SessionLogs> {
  const {sessionId} = logs
  const {listener, intervalMs} = options
  const followed = new Map(logs.prompts.map((p) => [p.id, p]))
  const follow = async (prompt: PromptLog) => {
    if (isPromptFinished(prompt)) return
    const events: PromptEvent[] = [...prompt.events]
    const done = await followPrompt(client.api, client.caller, sessionId, prompt.id, {
      intervalMs,
      after: prompt.events.at(-1)?.seq ?? 0,
      onEvent: (event) => {
        events.push(event)
        listener.event(event)
      },
    })
    listener.finished(done)
    followed.set(done.id, {...done, events})
  }
  for (const prompt of logs.prompts) await follow(prompt)
  while (!options.promptId) {
    const fresh = (await allPrompts(client, sessionId)).filter((p) => !followed.has(p.id))
    for (const prompt of fresh) {
      const entry = {...prompt, events: []}
      followed.set(prompt.id, entry)
      listener.newPrompt(prompt)
      await follow(entry)
    }
    if (fresh.length === 0) {
      if (isSessionTerminal((await client.api.get(client.caller, sessionId)).status)) break
      await new Promise((resolve) => setTimeout(resolve, intervalMs))
    }
  }
  return {sessionId, prompts: [...followed.values()].sort((a, b) => a.seq - b.seq)}
}
