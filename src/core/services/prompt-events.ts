/**
 * `GET /sessions/{id}/prompts/{pid}/events?after=N&wait=S`: a prompt's events after a cursor, and
 * with a wait a long poll that answers as soon as an event lands or the prompt ends.
 */
import {invalidInput} from '../errors.js'
import type {PromptRecord, SessionRecord} from '../models.js'
import {MAX_EVENTS_WAIT_SECONDS, type PromptEventsOptions, type PromptEventsPage} from '../session-api.js'
import {isPromptTerminal} from '../state-machine.js'
import {longPoll, promptTopic} from './change-signals.js'
import type {CoreDeps} from './index.js'
import {loadPrompt} from './records.js'

/** The page size of an events read. */
export const MAX_EVENTS_PAGE = 100

/** A wait above the longest is clamped (not refused): the caller just polls again sooner. */
export function eventsWaitSeconds(options: PromptEventsOptions): number {
  const wait = options.waitSeconds ?? 0
  if (!Number.isSafeInteger(wait) || wait < 0) {
    throw invalidInput('INVALID_WAIT', `"${wait}" is not a wait in seconds.`, `Pass wait as a whole number of seconds, 0 to ${MAX_EVENTS_WAIT_SECONDS}.`)
  }
  return Math.min(wait, MAX_EVENTS_WAIT_SECONDS)
}

/** `session` is already checked to be the caller's; `after` a valid cursor. */
export async function readPromptEvents(deps: CoreDeps, session: SessionRecord, promptId: string, after: number, options: PromptEventsOptions): Promise<PromptEventsPage> {
  const waitSeconds = eventsWaitSeconds(options)
  const found = await loadPrompt(deps, session.id, promptId)
  let latest: PromptEventsPage | undefined
  const answered = await longPoll(deps, [promptTopic(found.id)], waitSeconds * 1000, async () => {
    // The first read reuses the prompt just loaded; each later one reads its status again.
    const prompt = latest ? await loadPrompt(deps, session.id, found.id) : found
    latest = await pageOf(deps, prompt, after)
    return answers(latest) ? latest : undefined
  })
  return answered ?? (latest as PromptEventsPage)
}

function answers(page: PromptEventsPage): boolean {
  return page.items.length > 0 || (page.status !== undefined && isPromptTerminal(page.status))
}

/** The status is read before the events: a prompt seen ended has every event of its run in the read. */
async function pageOf(deps: CoreDeps, prompt: PromptRecord, after: number): Promise<PromptEventsPage> {
  const items = await deps.prompts.listEvents(prompt.id, after, MAX_EVENTS_PAGE)
  const last = items.at(-1)
  return {items, status: prompt.status, ...(items.length === MAX_EVENTS_PAGE && last ? {nextToken: String(last.seq)} : {})}
}
