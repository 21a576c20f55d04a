/**
 * Webhook payloads as GitHub sends them, from @octokit/webhooks-examples (the community's
 * recorded deliveries for api.github.com), picked by event and action. Tests change only what a
 * case needs (a label's name, a comment's body) on a deep copy, never invent a shape.
 */
import {createRequire} from 'node:module'

import type {WebhookDefinition} from '@octokit/webhooks-examples'
import type {WebhookEventMap, WebhookEventName} from '@octokit/webhooks-types'

const require = createRequire(import.meta.url)
const definitions = require('@octokit/webhooks-examples') as WebhookDefinition[]

/**
 * A copy of the first recorded `event` payload with that `action` that satisfies `where`.
 * `installation` is wanted for GitHub App deliveries; most recordings come from repository webhooks.
 */
export function webhookExample<E extends WebhookEventName>(event: E, action?: string, where: (payload: WebhookEventMap[E]) => boolean = () => true): WebhookEventMap[E] {
  const definition = definitions.find((d) => d.name === event) as WebhookDefinition<E> | undefined
  const found = definition?.examples.find((example) => (action === undefined || (example as {action?: string}).action === action) && where(example))
  if (!found) throw new Error(`@octokit/webhooks-examples has no ${event}${action ? `.${action}` : ''} example matching the filter`)
  return structuredClone(found)
}
