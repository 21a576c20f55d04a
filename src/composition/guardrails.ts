/**
 * The guardrail settings every composition root reads the same way (issue 15): the budgets and
 * price override as JSON text, the notification webhook (URL, format, signing secret read when
 * first needed) and, on AWS, the SNS topic the budget alerts also go to.
 */
import {type BudgetLimits, parseBudgetLimits} from '../core/budgets.js'
import {fanOut, type NotificationKind, type Notifier} from '../core/notifications.js'
import {parsePriceOverride, type PriceOverride} from '../core/pricing.js'
import {parseWebhookFormat, parseWebhookUrl, WebhookNotifier} from '../adapters/http/webhook-notifier.js'

export interface GuardrailText {
  readonly budgets?: string
  readonly prices?: string
}

export function guardrailSettings(text: GuardrailText): {budgets?: BudgetLimits; prices?: PriceOverride} {
  return {
    ...(text.budgets ? {budgets: parseBudgetLimits(text.budgets)} : {}),
    ...(text.prices ? {prices: parsePriceOverride(text.prices)} : {}),
  }
}

export interface NotifierSettings {
  readonly webhookUrl?: string
  readonly webhookFormat?: string
  /** The signing secret, read once when the first notification goes out (Secrets Manager, the local secret file). */
  readonly webhookSecret?: () => Promise<string | undefined>
  /** Also publish these events to a topic (SNS on AWS). */
  readonly topic?: {readonly notifier: Notifier; readonly kinds: readonly NotificationKind[]}
}

/** The budget alerts and session failures go to the stage's topic as well as to the webhook. */
export const TOPIC_EVENTS: readonly NotificationKind[] = ['budget.alert', 'session.failed']

export function stageNotifier(settings: NotifierSettings): Notifier | undefined {
  const targets: Array<{notifier: Notifier; kinds?: readonly NotificationKind[]}> = []
  if (settings.webhookUrl) targets.push({notifier: lazyWebhook(settings.webhookUrl, parseWebhookFormat(settings.webhookFormat ?? 'slack'), settings.webhookSecret)})
  if (settings.topic) targets.push(settings.topic)
  return fanOut(targets)
}

function lazyWebhook(url: string, format: 'slack' | 'json', readSecret?: () => Promise<string | undefined>): Notifier {
  parseWebhookUrl(url) // a bad setting fails at start-up, not at the first notification
  let built: Promise<Notifier> | undefined
  const build = async () => {
    let secret: string | undefined
    try {
      secret = await readSecret?.()
    } catch (error) {
      process.stderr.write(`devflow: the webhook signing secret could not be read (${(error as Error).message}); notifications go out unsigned\n`)
    }
    return new WebhookNotifier({url, format, ...(secret ? {secret} : {})})
  }
  return {
    async notify(event) {
      built ??= build()
      return (await built).notify(event)
    },
  }
}
