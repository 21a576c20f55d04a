/**
 * Webhook deliveries as GitHub sends them, for the tests of the GitHub work path: payloads from
 * @octokit/webhooks-examples (webhook-examples.ts) moved to the repository and issue a test
 * needs, signed with X-Hub-Signature-256 and posted to a server's /github/webhook.
 */
import {createHmac, randomUUID} from 'node:crypto'

import type {IssueCommentCreatedEvent, IssuesLabeledEvent} from '@octokit/webhooks-types'

import {webhookExample} from './webhook-examples.js'

export interface Delivery {
  readonly id: string
  readonly event: string
  readonly body: string
}

export function delivery(event: string, payload: unknown): Delivery {
  return {id: randomUUID(), event, body: JSON.stringify(payload)}
}

export function sign(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

function onRepository<T extends {repository: {full_name: string; name: string; owner: {login: string}}}>(payload: T, repo: string): T {
  const [owner, name] = repo.split('/')
  payload.repository.full_name = repo
  payload.repository.name = name
  payload.repository.owner = {...payload.repository.owner, login: owner}
  return payload
}

/** `issues.labeled` with the trigger label on issue `number` of `repo`. */
export function labelledIssue(repo: string, issue: {number: number; title: string; body: string | null}, sender: string, label = 'devflow'): IssuesLabeledEvent {
  const payload = onRepository(webhookExample('issues', 'labeled') as IssuesLabeledEvent, repo)
  payload.label = {...payload.label!, name: label}
  payload.issue.number = issue.number
  payload.issue.title = issue.title
  payload.issue.body = issue.body
  payload.issue.html_url = `https://github.com/${repo}/issues/${issue.number}`
  payload.sender = {...payload.sender, login: sender}
  return payload
}

/** `issue_comment.created` on issue `number` of `repo` (not a pull request). */
export function issueComment(repo: string, number: number, body: string, sender: string): IssueCommentCreatedEvent {
  const payload = onRepository(webhookExample('issue_comment', 'created') as IssueCommentCreatedEvent, repo)
  payload.comment.body = body
  payload.issue.number = number
  payload.issue.html_url = `https://github.com/${repo}/issues/${number}`
  delete (payload.issue as {pull_request?: unknown}).pull_request
  payload.sender = {...payload.sender, login: sender}
  return payload
}

/** `issue_comment.created` on pull request `number`: GitHub sends it with issue.pull_request set. */
export function pullRequestComment(repo: string, number: number, body: string, sender: string): IssueCommentCreatedEvent {
  const payload = issueComment(repo, number, body, sender)
  payload.issue.html_url = `https://github.com/${repo}/pull/${number}`
  payload.issue.pull_request = {
    url: `https://api.github.com/repos/${repo}/pulls/${number}`,
    html_url: `https://github.com/${repo}/pull/${number}`,
    diff_url: `https://github.com/${repo}/pull/${number}.diff`,
    patch_url: `https://github.com/${repo}/pull/${number}.patch`,
    merged_at: null,
  }
  return payload
}

/** POSTs a delivery as GitHub does; `signature: null` leaves the header out. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON, asserted field by field
export async function postDelivery(url: string, d: Delivery, secret: string, signature: string | null = sign(d.body, secret), extraHeaders: Record<string, string> = {}): Promise<{status: number; body: any}> {
  const headers: Record<string, string> = {'content-type': 'application/json', 'user-agent': 'GitHub-Hookshot/044aadd', 'x-github-event': d.event, 'x-github-delivery': d.id, ...extraHeaders}
  if (signature !== null) headers['x-hub-signature-256'] = signature
  const response = await fetch(`${url.replace(/\/+$/, '')}/github/webhook`, {method: 'POST', headers, body: d.body})
  const text = await response.text()
  return {status: response.status, body: text ? JSON.parse(text) : undefined}
}
