/**
 * The Notifier over a stage's webhook URL (issue 15), in one of two formats:
 *   - `slack`: a Slack incoming-webhook body, `{"text", "blocks"}` (Mattermost and Teams' Slack
 *     compatible endpoints take it too);
 *   - `json`: `{"event", "deliveryId", "sentAt", "text", "details", "data"}`, where `data` is the
 *     NotificationEvent itself.
 * With a secret, the raw body is signed: `X-DevFlow-Signature-256: sha256=<hex HMAC-SHA256 of the
 * body with the secret>` (GitHub's X-Hub-Signature-256 scheme; `sentAt` inside the signed body
 * lets a receiver refuse replays). Every request also carries `X-DevFlow-Event` and
 * `X-DevFlow-Delivery`.
 *
 * A delivery that fails (a non-2xx answer, a timeout, no connection) is logged and returned, never
 * thrown. The URL is not logged: a Slack webhook URL is itself a credential.
 */
import {createHmac, randomUUID} from 'node:crypto'

import {describeNotification, type DeliveryResult, type NotificationEvent, type Notifier, parseWebhookUrl, type WebhookFormat} from '../../core/notifications.js'

export {parseWebhookFormat, parseWebhookUrl, type WebhookFormat} from '../../core/notifications.js'


export const SIGNATURE_HEADER = 'x-devflow-signature-256'
export const EVENT_HEADER = 'x-devflow-event'
export const DELIVERY_HEADER = 'x-devflow-delivery'

export interface WebhookNotifierOptions {
  readonly url: string
  readonly format: WebhookFormat
  /** Signs the body (SIGNATURE_HEADER) when set. */
  readonly secret?: string
  /** @default 5000 */
  readonly timeoutMs?: number
  /** Where delivery failures go. @default a line on stderr */
  readonly log?: (line: string) => void
  readonly now?: () => Date
}

export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

export class WebhookNotifier implements Notifier {
  private readonly url: string
  private readonly target: string

  constructor(private readonly options: WebhookNotifierOptions) {
    this.url = parseWebhookUrl(options.url)
    this.target = new URL(this.url).host
  }

  async notify(event: NotificationEvent): Promise<DeliveryResult> {
    const deliveryId = randomUUID()
    const body = JSON.stringify(this.options.format === 'slack' ? slackBody(event) : genericBody(event, deliveryId, (this.options.now ?? (() => new Date()))()))
    const headers: Record<string, string> = {'content-type': 'application/json', 'user-agent': 'devflow-notifier', [EVENT_HEADER]: event.kind, [DELIVERY_HEADER]: deliveryId}
    if (this.options.secret) headers[SIGNATURE_HEADER] = signBody(body, this.options.secret)
    const timeoutMs = this.options.timeoutMs ?? 5000
    try {
      const response = await fetch(this.url, {method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error'})
      // The body is not needed; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined)
      if (response.ok) return {delivered: true, status: response.status}
      return this.failed(event, deliveryId, {status: response.status, error: `HTTP ${response.status}`})
    } catch (error) {
      const name = (error as Error).name
      const reason = name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeoutMs} ms` : describeFetchError(error)
      return this.failed(event, deliveryId, {error: reason})
    }
  }

  private failed(event: NotificationEvent, deliveryId: string, result: {status?: number; error: string}): DeliveryResult {
    const log = this.options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
    log(`devflow: the ${event.kind} notification (delivery ${deliveryId}) to ${this.target} failed: ${result.error}`)
    return {delivered: false, ...result}
  }
}

function describeFetchError(error: unknown): string {
  const cause = (error as {cause?: {code?: string; message?: string}}).cause
  return cause?.code ?? cause?.message ?? (error as Error).message
}

function slackBody(event: NotificationEvent): {text: string; blocks: unknown[]} {
  const {headline, details} = describeNotification(event)
  return {
    text: headline,
    blocks: [
      {type: 'section', text: {type: 'mrkdwn', text: `*${escapeMrkdwn(headline)}*`}},
      ...(details.length > 0 ? [{type: 'section', text: {type: 'mrkdwn', text: details.map(escapeMrkdwn).join('\n')}}] : []),
    ],
  }
}

function genericBody(event: NotificationEvent, deliveryId: string, now: Date) {
  const {headline, details} = describeNotification(event)
  return {event: event.kind, deliveryId, sentAt: now.toISOString(), text: headline, details, data: event}
}

/** Slack's three control characters; the rest of the text is shown as written. */
function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}
