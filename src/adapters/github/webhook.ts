/**
 * Receiving a GitHub webhook: the `X-Hub-Signature-256` HMAC-SHA256 of the raw body, checked with
 * the App's webhook secret by @octokit/webhooks-methods (constant-time comparison), then the
 * delivery id, the event name and the payload read from the request.
 *
 * Nothing is parsed, and nothing may be written, before the signature matched: a missing or wrong
 * signature is a 401 (`unauthenticated`) DevflowError. The body must be the bytes GitHub sent
 * (an API Gateway body marked isBase64Encoded is decoded first by the caller).
 */
import {verify} from '@octokit/webhooks-methods'

import {invalidInput, unauthenticated, unavailable} from '../../core/errors.js'
import {DELIVERY_ID_PATTERN} from '../../core/github/deliveries.js'
import type {VerifiedWebhook, WebhookRequest, WebhookVerifier} from '../../core/github/ports.js'
import {GithubAppSecret} from './app.js'

export const WEBHOOK_HEADERS = {
  signature: 'x-hub-signature-256',
  delivery: 'x-github-delivery',
  event: 'x-github-event',
} as const

const SIGNATURE_FORMAT = /^sha256=[0-9a-f]{64}$/
const EVENT_FORMAT = /^[a-z_]{1,64}$/
const SECRET_HINT = 'Set it with `devflow secrets set github-app --webhook-secret-file FILE`, the same value as in the GitHub App\'s webhook settings.'
const SIGNATURE_HINT = 'Give the GitHub App a webhook secret and store the same value with `devflow secrets set github-app --webhook-secret-file FILE`.'

function header(request: WebhookRequest, name: string): string | undefined {
  for (const [key, value] of Object.entries(request.headers)) if (key.toLowerCase() === name && value !== undefined) return value
  return undefined
}

/** The JSON payload: GitHub sends application/json, or `payload=<json>` for a form-encoded webhook. */
function readPayload(request: WebhookRequest): unknown {
  const contentType = header(request, 'content-type') ?? ''
  const text = contentType.startsWith('application/x-www-form-urlencoded') ? (new URLSearchParams(request.body).get('payload') ?? '') : request.body
  try {
    return JSON.parse(text)
  } catch (error) {
    throw invalidInput('WEBHOOK_PAYLOAD_INVALID', 'The webhook body is not JSON.', "Set the GitHub App's webhook content type to application/json.", {cause: error})
  }
}

/** Checks the signature with `secret`, then reads the delivery. Throws before reading anything else. */
export async function verifyWebhook(secret: string, request: WebhookRequest): Promise<VerifiedWebhook> {
  const signature = header(request, WEBHOOK_HEADERS.signature)
  if (!signature) throw unauthenticated('WEBHOOK_SIGNATURE_MISSING', 'The webhook request has no X-Hub-Signature-256 header.', SIGNATURE_HINT)
  // verify() throws on an empty body; a signature of the wrong shape cannot match either.
  const matches = SIGNATURE_FORMAT.test(signature) && request.body !== '' && (await verify(secret, request.body, signature))
  if (!matches) {
    throw unauthenticated('WEBHOOK_SIGNATURE_INVALID', 'The webhook signature does not match the body and the webhook secret.', 'Check that the secret in the GitHub App\'s webhook settings is the one stored with `devflow secrets set github-app --webhook-secret-file FILE`.')
  }
  const deliveryId = header(request, WEBHOOK_HEADERS.delivery)
  if (!deliveryId || !DELIVERY_ID_PATTERN.test(deliveryId)) {
    throw invalidInput('WEBHOOK_DELIVERY_INVALID', 'The webhook request has no valid X-GitHub-Delivery header.', 'Send webhooks from GitHub itself; it sets the header on every delivery.')
  }
  const event = header(request, WEBHOOK_HEADERS.event)
  if (!event || !EVENT_FORMAT.test(event)) {
    throw invalidInput('WEBHOOK_EVENT_INVALID', 'The webhook request has no valid X-GitHub-Event header.', 'Send webhooks from GitHub itself; it sets the header on every delivery.')
  }
  const payload = readPayload(request)
  const action = (payload as {action?: unknown} | null)?.action
  const repo = (payload as {repository?: {full_name?: unknown}} | null)?.repository?.full_name
  return {
    deliveryId,
    event,
    payload,
    ...(typeof action === 'string' ? {action} : {}),
    ...(typeof repo === 'string' ? {repo} : {}),
  }
}

/** verifyWebhook with the secret read from the GitHub App secret (`webhookSecret`). */
export class GithubWebhookVerifier implements WebhookVerifier {
  /** @param loadSecret the App secret's JSON (a cached Secrets Manager read, or a local file), as GithubApp takes it */
  constructor(private readonly loadSecret: () => Promise<unknown>) {}

  async verify(request: WebhookRequest): Promise<VerifiedWebhook> {
    const parsed = GithubAppSecret.pick({webhookSecret: true}).safeParse(await this.loadSecret())
    const secret = parsed.success ? parsed.data.webhookSecret : undefined
    if (!secret) throw unavailable('GITHUB_WEBHOOK_SECRET_NOT_SET', 'The GitHub App secret has no webhookSecret, so no webhook can be verified.', SECRET_HINT)
    return verifyWebhook(secret, request)
  }
}
