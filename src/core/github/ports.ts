/**
 * The ports of the GitHub work path: what the trigger decision, the living comment and the
 * webhook deliveries need from GitHub and from a store. Kept beside the GitHub logic (not in
 * core/ports.ts) because only this path uses them. Adapters: src/adapters/github/issues.ts (the
 * App's REST client), src/adapters/aws/dynamo-delivery-store.ts and
 * src/adapters/local/sqlite-delivery-store.ts.
 */
import type {RepoRef} from '../validation.js'

/**
 * GitHub's answer to `GET /repos/{owner}/{repo}/collaborators/{username}/permission`:
 * `permission` is the legacy base role (`admin`, `write`, `read`, `none`; maintain maps to write,
 * triage to read), `roleName` the assigned role (`admin`, `maintain`, `write`, `triage`, `read` or
 * a custom role's name).
 */
export interface CollaboratorPermission {
  readonly permission: string
  readonly roleName: string
}

export interface PullRequestHead {
  readonly number: number
  readonly state: 'open' | 'closed'
  /** The head branch, e.g. devflow/s-abcdefghijklmnopqrst. */
  readonly headRef: string
  /** `owner/name` of the repository the head branch lives in (a fork's for a fork's pull request). */
  readonly headRepo: string | undefined
  readonly baseRef: string
  readonly url: string
}

/** What the trigger decision asks GitHub. */
export interface GithubLookups {
  /** The sender's permission on the repository. Throws `remote`/`unavailable` when GitHub fails. */
  permissionOf(repo: RepoRef, login: string): Promise<CollaboratorPermission>
  /** An `issue_comment` on a pull request carries no head branch: this reads it. */
  pullRequest(repo: RepoRef, number: number): Promise<PullRequestHead>
}

export interface IssueComment {
  readonly id: number
  readonly url: string
  readonly body: string
}

/** The living comment's calls. */
export interface GithubComments {
  /** Creates a comment on an issue or a pull request (they share numbers). */
  createComment(repo: RepoRef, issueNumber: number, body: string): Promise<IssueComment>
  /** Edits the comment in place. */
  updateComment(repo: RepoRef, commentId: number, body: string): Promise<IssueComment>
}

export interface IssueDetails {
  readonly number: number
  readonly title: string
  readonly body: string
  readonly state: 'open' | 'closed'
  readonly url: string
  readonly author: string
  readonly isPullRequest: boolean
}

export interface DraftPullRequest {
  readonly repo: RepoRef
  /** The session's branch, e.g. devflow/s-... */
  readonly head: string
  readonly base: string
  readonly issue: {readonly number: number; readonly title: string}
  /** The agent's summary: the pull request's description. */
  readonly summary: string
}

/** Everything the GitHub work service asks of GitHub (adapter: src/adapters/github/issues.ts). */
export interface GithubWorkClient extends GithubLookups, GithubComments {
  getIssue(repo: RepoRef, number: number): Promise<IssueDetails>
  /** The living comment with this marker key on the issue or pull request, if one exists. */
  findComment(repo: RepoRef, issueNumber: number, key: string): Promise<IssueComment | undefined>
  /** A draft titled from the issue, its body the summary and `Closes #N`. */
  openDraftPullRequest(pr: DraftPullRequest): Promise<{url: string; number: number}>
}

export interface WebhookRequest {
  /** Header names in any case. */
  readonly headers: Readonly<Record<string, string | undefined>>
  /** The raw body, exactly as received (a base64 body decoded first). */
  readonly body: string
}

export interface VerifiedWebhook {
  /** X-GitHub-Delivery: the same for a redelivery. */
  readonly deliveryId: string
  /** X-GitHub-Event, e.g. `issues`, `issue_comment`, `ping`. */
  readonly event: string
  readonly action?: string
  /** `owner/name` when the payload names a repository. */
  readonly repo?: string
  readonly payload: unknown
}

/**
 * Checks `X-Hub-Signature-256` against the App's webhook secret before anything is parsed; throws
 * a 401 DevflowError for a missing or wrong signature (adapter: src/adapters/github/webhook.ts).
 */
export interface WebhookVerifier {
  verify(request: WebhookRequest): Promise<VerifiedWebhook>
}
