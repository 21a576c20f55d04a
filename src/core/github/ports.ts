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
