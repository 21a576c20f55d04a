/**
 * `session prompt`: queues a prompt and, when asked to wait, follows its events to the result.
 */
import type {Prompt, PromptEvent} from '../core/models.js'
import type {Caller, PromptRequest, SessionApi} from '../core/session-api.js'
import {followPrompt, type PollOptions} from './session-wait.js'

export interface PromptClient {
  readonly api: SessionApi
  readonly caller: Caller
}

export interface PromptFollow extends PollOptions {
  /** The prompt is queued; following starts. */
  readonly onQueued: (queued: Prompt) => void
  readonly onEvent: (event: PromptEvent) => void
}

/** The queued prompt without `follow`; with it, the prompt once SUCCEEDED, FAILED or CANCELLED. */
export async function sendPrompt(client: PromptClient, sessionId: string, request: PromptRequest, follow?: PromptFollow): Promise<Prompt> {
  const queued = await client.api.enqueuePrompt(client.caller, sessionId, request)
  if (!follow) return queued
  follow.onQueued(queued)
  return followPrompt(client.api, client.caller, sessionId, queued.id, follow)
}
