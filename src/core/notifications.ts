/**
 * What DevFlow tells a team's channel (issue 15): a prompt ended, a session failed or was reaped,
 * a budget alert fired, or `devflow notify test`. The Notifier port delivers them; a delivery that
 * fails is reported in its result and logged, never thrown, so it cannot fail the prompt, the
 * reaper or the request that caused it.
 */
import type {BudgetAlert} from './budgets.js'
import {invalidInput} from './errors.js'
import type {ErrorInfo} from './models.js'

interface SessionRef {
  readonly stage: string
  readonly sessionId: string
  readonly userId: string
  readonly repo: string
}

export type NotificationEvent =
  | (SessionRef & {
      readonly kind: 'prompt.ended'
      readonly promptId: string
      /** BUDGET: the prompt stopped at its ceiling (AGENT_BUDGET_EXCEEDED) and the session is paused. */
      readonly outcome: 'SUCCEEDED' | 'FAILED' | 'BUDGET'
      readonly summary?: string
      readonly branch?: string
      readonly prUrl?: string
      readonly costUsd?: number
      readonly error?: ErrorInfo
    })
  | (SessionRef & {readonly kind: 'session.failed'; readonly error: ErrorInfo})
  | (SessionRef & {
      readonly kind: 'session.reaped'
      /** The session's stopReason. */
      readonly reason: 'IDLE' | 'TTL' | 'BUDGET' | 'SPOT' | 'TASK_EXITED'
    })
  | {readonly kind: 'budget.alert'; readonly alert: BudgetAlert; readonly repo?: string}
  | {readonly kind: 'test'; readonly stage: string; readonly requestedBy: string}

export type NotificationKind = NotificationEvent['kind']

export interface DeliveryResult {
  readonly delivered: boolean
  /** The receiver's HTTP status, when it answered. */
  readonly status?: number
  /** Why it was not delivered. */
  readonly error?: string
}

export interface Notifier {
  /** Never rejects. */
  notify(event: NotificationEvent): Promise<DeliveryResult>
}

/** A stage without a webhook: nothing is sent, nothing fails. */
export const SILENT_NOTIFIER: Notifier = {notify: async () => ({delivered: false, error: 'no webhook configured'})}

export interface NotificationText {
  /** One line, for Slack's `text` and the generic body's `text`. */
  readonly headline: string
  /** Further lines (mrkdwn-safe plain text). */
  readonly details: readonly string[]
}

const usd = (value: number) => `$${value.toFixed(2)}`

/** The words of a notification, shared by every format. */
export function describeNotification(event: NotificationEvent): NotificationText {
  switch (event.kind) {
    case 'prompt.ended': {
      const verb = {SUCCEEDED: 'succeeded', FAILED: 'failed', BUDGET: 'stopped at its budget'}[event.outcome]
      const details = [
        ...(event.summary ? [event.summary] : []),
        ...(event.error ? [`${event.error.code}: ${event.error.message}`] : []),
        ...(event.prUrl ? [`Pull request: ${event.prUrl}`] : event.branch ? [`Branch: ${event.branch}`] : []),
        ...(event.costUsd === undefined ? [] : [`Cost: ${usd(event.costUsd)}`]),
        ...(event.outcome === 'BUDGET' ? [`The session is paused; add to its budget with \`devflow session budget ${event.sessionId} --add 5\`.`] : []),
        sessionLine(event),
      ]
      return {headline: `Prompt ${event.promptId} on ${event.repo} ${verb}.`, details}
    }
    case 'session.failed':
      return {headline: `Session ${event.sessionId} on ${event.repo} failed.`, details: [`${event.error.code}: ${event.error.message}`, sessionLine(event)]}
    case 'session.reaped': {
      const why = {IDLE: 'it was idle for longer than its idle timeout', TTL: 'it reached its TTL', BUDGET: 'its compute cost passed its budget', SPOT: 'its Spot capacity was reclaimed', TASK_EXITED: 'its task exited'}[event.reason]
      return {headline: `Session ${event.sessionId} on ${event.repo} was stopped: ${why}.`, details: [`Resume it with \`devflow session resume ${event.sessionId}\`.`, sessionLine(event)]}
    }
    case 'budget.alert': {
      const {alert} = event
      const owner = {session: `Session ${alert.sessionId}'s budget`, user: `${alert.userId}'s monthly budget`, stage: `Stage ${alert.stage}'s monthly budget`}[alert.scope]
      const state = alert.thresholdPercent >= 100 ? 'is spent' : `is ${alert.thresholdPercent}% spent`
      return {
        headline: `${owner} ${state}: ${usd(alert.spentUsd)} of ${usd(alert.limitUsd)}.`,
        details: [`stage ${alert.stage} · ${alert.userId} · session ${alert.sessionId}${event.repo ? ` · ${event.repo}` : ''}`],
      }
    }
    case 'test':
      return {headline: `DevFlow test notification from stage ${event.stage}.`, details: [`Sent by ${event.requestedBy} with \`devflow notify test\`.`]}
  }
}

function sessionLine(ref: SessionRef): string {
  return `stage ${ref.stage} · ${ref.userId} · session ${ref.sessionId}`
}

/** Every notifier gets every event it accepts; the result is the first one's (the webhook's, for `notify test`). */
export function fanOut(notifiers: ReadonlyArray<{notifier: Notifier; kinds?: readonly NotificationKind[]}>): Notifier | undefined {
  if (notifiers.length === 0) return undefined
  return {
    async notify(event) {
      const targets = notifiers.filter((target) => !target.kinds || target.kinds.includes(event.kind))
      if (targets.length === 0) return {delivered: false, error: `nothing is configured to receive ${event.kind} notifications`}
      const results = await Promise.all(targets.map((target) => target.notifier.notify(event).catch((error: unknown) => ({delivered: false, error: String(error)}))))
      return results[0]
    },
  }
}

export type WebhookFormat = 'slack' | 'json'

/** Checks a webhook URL: https, or http to this machine only (local platform, tests). */
export function parseWebhookUrl(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalidInput('INVALID_WEBHOOK_URL', 'The notification webhook is not a URL.', 'Give the https:// URL of a Slack incoming webhook or of your own receiver.')
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw invalidInput('INVALID_WEBHOOK_URL', `The notification webhook must use https (got ${url.protocol}//${url.host}).`, 'Give an https:// URL; plain http is accepted only for 127.0.0.1 or localhost.')
  }
  return url.toString()
}

export function parseWebhookFormat(value: string): WebhookFormat {
  if (value === 'slack' || value === 'json') return value
  throw invalidInput('INVALID_WEBHOOK_FORMAT', `"${value}" is not a webhook format.`, 'Use slack (a Slack incoming webhook) or json (a generic, optionally signed, JSON body).')
}

