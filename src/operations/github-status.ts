/**
 * `devflow github status` and its `devflow doctor` check: is the stage ready for work from GitHub?
 * The App (its secret), the webhook URL to paste into the App's settings (the API's URL plus
 * `/github/webhook`), whether the webhook secret is set, and the last deliveries' outcomes.
 */
import {GITHUB_WEBHOOK_PATH} from '../api/routes.js'
import type {DeliveryRecord} from '../core/github/deliveries.js'
import type {CheckResult} from './doctor.js'

/** What the App must subscribe to and hold (README "Work from GitHub"). */
export const GITHUB_APP_EVENTS = ['issues', 'issue_comment', 'pull_request', 'pull_request_review_comment'] as const
export const GITHUB_APP_PERMISSIONS = {contents: 'write', pull_requests: 'write', issues: 'write', metadata: 'read'} as const

export interface GithubStatus {
  readonly stage: string
  readonly app: {readonly set: boolean; readonly appId?: string; readonly installationId?: string}
  readonly webhook: {readonly url?: string; readonly secretSet: boolean}
  readonly events: readonly string[]
  readonly permissions: Readonly<Record<string, string>>
  /** Newest first. */
  readonly deliveries: readonly DeliveryRecord[]
}

export interface GithubStatusDeps {
  readonly stage: string
  /** The deployed API's URL (stages.<stage>.deployment.apiUrl), when deployed. */
  readonly apiUrl?: string
  readApp(): Promise<{set: boolean; appId?: string; installationId?: string; webhookSecretSet: boolean}>
  recentDeliveries(limit: number): Promise<DeliveryRecord[]>
}

export function webhookUrl(apiUrl: string): string {
  return `${apiUrl.replace(/\/+$/, '')}${GITHUB_WEBHOOK_PATH}`
}

export async function githubStatus(deps: GithubStatusDeps, limit = 10): Promise<GithubStatus> {
  const [app, deliveries] = await Promise.all([deps.readApp(), deps.recentDeliveries(limit)])
  return {
    stage: deps.stage,
    app: {set: app.set, ...(app.appId ? {appId: app.appId} : {}), ...(app.installationId ? {installationId: app.installationId} : {})},
    webhook: {...(deps.apiUrl ? {url: webhookUrl(deps.apiUrl)} : {}), secretSet: app.webhookSecretSet},
    events: GITHUB_APP_EVENTS,
    permissions: GITHUB_APP_PERMISSIONS,
    deliveries,
  }
}

/** The doctor's view: a WARN (never a FAIL) names the first thing missing for webhooks. */
export function githubCheck(status: GithubStatus): CheckResult {
  const name = 'github-webhooks'
  if (!status.app.set) return {name, status: 'WARN', message: 'No GitHub App is set for this stage.', hint: 'Run `devflow secrets set github-app --app-id ID --private-key-file KEY.pem --webhook-secret-file FILE`.', code: 'GITHUB_APP_NOT_SET'}
  if (!status.webhook.secretSet) {
    return {name, status: 'WARN', message: 'The GitHub App has no webhook secret, so webhooks are refused.', hint: 'Run `devflow secrets set github-app --webhook-secret-file FILE` with the secret of the App\'s webhook settings.', code: 'GITHUB_WEBHOOK_SECRET_NOT_SET'}
  }
  if (!status.webhook.url) return {name, status: 'WARN', message: 'The stage is not deployed, so there is no webhook URL yet.', hint: 'Run `devflow deploy`, then `devflow github status`.', code: 'NOT_DEPLOYED'}
  const failed = status.deliveries.filter((d) => d.status === 'FAILED')
  if (status.deliveries.length > 0 && failed.length === status.deliveries.length) {
    return {name, status: 'WARN', message: `The last ${failed.length} webhook deliveries failed (${failed[0].detail ?? 'no code'}).`, hint: 'See `devflow github status` and the webhook function\'s logs; GitHub\'s "Redeliver" retries one.', code: 'GITHUB_DELIVERIES_FAILING'}
  }
  return {name, status: 'PASS', message: `Webhooks go to ${status.webhook.url}; ${status.deliveries.length === 0 ? 'none received yet' : `last received ${status.deliveries[0].receivedAt}`}.`}
}
