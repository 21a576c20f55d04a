/**
 * The ports: the narrow interfaces the core services need from the outside world. Adapters under
 * src/adapters implement them (aws/ for DynamoDB and ECS, local/ for the embedded platform,
 * github/ for the GitHub App). Only the calls the core really makes belong here.
 */
import type {CapacityProvider, Page, PromptEvent, PromptRecord, SessionRecord} from './models.js'
import type {UsageDelta, UsageFigures, UsageItemKey, UsageRow} from './usage-ledger.js'
import type {EditorAccess} from './session-api.js'
import type {RepoRef} from './validation.js'

export interface ListOptions {
  readonly limit: number
  readonly nextToken?: string
}

export type SessionChanges = Partial<Omit<SessionRecord, 'id' | 'userId' | 'version' | 'createdAt'>>

export interface SessionStore {
  /** Writes a new record. Throws a `conflict` DevflowError (code SESSION_EXISTS) when the id is taken. */
  create(record: SessionRecord): Promise<void>
  get(id: string): Promise<SessionRecord | undefined>
  /**
   * Applies `changes` only if the stored version is still `expectedVersion`, and returns the record
   * with the version incremented. Throws a `conflict` DevflowError (code CONCURRENT_UPDATE) when the
   * record changed meanwhile, and SESSION_NOT_FOUND when it is gone.
   */
  update(id: string, expectedVersion: number, changes: SessionChanges): Promise<SessionRecord>
  /** The user's sessions, newest first. */
  listByUser(userId: string, options: ListOptions): Promise<Page<SessionRecord>>
  /** Every user's sessions (admin mode), newest first within a page. */
  listAll(options: ListOptions): Promise<Page<SessionRecord>>
  /** Throws when the backing store is unreachable (health check). */
  ping(): Promise<void>
}

export type PromptChanges = Partial<Omit<PromptRecord, 'id' | 'sessionId' | 'seq' | 'version' | 'createdAt'>>

export interface PromptStore {
  /** Writes a new prompt. Throws a `conflict` DevflowError (code PROMPT_SEQ_TAKEN) when the session already has that seq. */
  create(record: PromptRecord): Promise<void>
  get(sessionId: string, promptId: string): Promise<PromptRecord | undefined>
  /** The session's prompts in seq order (ascending); `nextToken` pages on. */
  list(sessionId: string, options: ListOptions): Promise<Page<PromptRecord>>
  /** The highest seq used in the session, 0 when none. */
  lastSeq(sessionId: string): Promise<number>
  /** Conditional on `expectedVersion` like SessionStore.update (code CONCURRENT_UPDATE). */
  update(sessionId: string, promptId: string, expectedVersion: number, changes: PromptChanges): Promise<PromptRecord>
  /** Appends events after the prompt's last one and returns them with their seq. */
  appendEvents(promptId: string, events: ReadonlyArray<Omit<PromptEvent, 'seq'>>): Promise<PromptEvent[]>
  /** Events with seq > `after`, ascending, at most `limit`. */
  listEvents(promptId: string, after: number, limit: number): Promise<PromptEvent[]>
}

/**
 * The usage ledger (src/core/usage-ledger.ts): running sums per owner-month, stage-month and their
 * day rows, each figure added atomically.
 */
export interface UsageStore {
  /** Adds `delta` to each item (an item never added to starts at zero); each item's add is atomic. */
  add(items: readonly UsageItemKey[], delta: UsageDelta): Promise<void>
  /** The item's figures; zero for one never added to. */
  get(item: UsageItemKey): Promise<UsageFigures>
  /** The scope's items with `from <= period <= to` (string order), ascending by period. */
  range(scope: string, from: string, to: string): Promise<UsageRow[]>
}

export interface TaskSpec {
  readonly sessionId: string
  /** The session's owner: tagged on the task (`devflow:owner`) so developers' ECS access can be scoped by it. */
  readonly owner: string
  /** The task's size; the workspace container gets all of it. */
  readonly cpu: number
  readonly memory: number
  /** The capacity to try first; the runtime reports which one it got. */
  readonly capacity: CapacityProvider
  /** Plain environment for the workspace container: no secret (overrides are readable by `ecs:DescribeTasks`). */
  readonly environment: Readonly<Record<string, string>>
  /**
   * A one-use proof for the workspace's bootstrap call, for runtimes whose tasks have no IAM role
   * (local processes and containers): handed to the task out of band (a 0600 file), never in its
   * environment. A runtime whose tasks prove themselves by their task role ignores it.
   */
  readonly bootstrapNonce: string
}

export interface TaskState {
  readonly taskArn: string
  /** ECS lastStatus: PROVISIONING, PENDING, ACTIVATING, RUNNING, DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED. */
  readonly lastStatus: string
  readonly desiredStatus?: string
  readonly stopCode?: string
  readonly stoppedReason?: string
  /** The workspace container's exit code once it stopped. */
  readonly exitCode?: number
  readonly privateIp?: string
  /** When the task started and stopped running, when the runtime reports it (ECS does; moto does not). */
  readonly startedAt?: string
  readonly stoppedAt?: string
}

export interface TaskRuntime {
  /**
   * Starts the workspace. Throws an `unavailable` DevflowError with code CAPACITY_UNAVAILABLE when
   * the requested capacity has no room (the service then falls back to FARGATE).
   */
  run(spec: TaskSpec): Promise<{taskArn: string; capacity: CapacityProvider}>
  /** undefined when the runtime no longer knows the task. */
  describe(taskArn: string): Promise<TaskState | undefined>
  /** Idempotent: stopping a stopped or unknown task is not an error. */
  stop(taskArn: string, reason: string): Promise<void>
  ping(): Promise<void>
  /** How the editor of a running task is reached (SSM port forward, a URL, or not at all and why). */
  editorAccess(taskArn: string): Promise<EditorAccess>
  /**
   * A warm task of the pool (core/warm-pool.ts) now serves this session: ECS tags it with its owner
   * and session, as run() tags a cold task. Runtimes whose tasks carry no tags leave it out.
   */
  adopt?(taskArn: string, session: {sessionId: string; owner: string}): Promise<void>
}

/** Turns the `repo` of a start request into the repository a session works on. */
export interface RepositoryResolver {
  /** Throws an `invalid` DevflowError for a reference it cannot accept. */
  resolve(input: string): RepoRef
}

/** Checks, before a prompt is queued, that the agent will have its Claude API key. */
export interface AgentKeyPreflight {
  /** Throws a DevflowError that says how to provide the key. */
  ensureKey(): Promise<void>
}

export interface RepoToken {
  readonly token: string
  readonly expiresAt: string
}

/** Mints short-lived tokens scoped to one repository (GitHub App installation tokens). */
export interface RepoTokenIssuer {
  /** Throws `not_found`/`forbidden` when the App cannot reach the repository, `remote` when GitHub fails. */
  mintRepoToken(repo: RepoRef): Promise<RepoToken>
}

export interface PullRequestRequest {
  readonly repo: RepoRef
  readonly head: string
  readonly base: string
  readonly title: string
  readonly body: string
  readonly draft: boolean
}

export interface PullRequestOpener {
  /** Returns the existing pull request's URL when one is already open for `head`. */
  open(request: PullRequestRequest): Promise<{url: string; number: number}>
}

export interface Clock {
  now(): Date
  /** Waits, so that long polls can be driven by a fake clock in tests. */
  sleep(ms: number): Promise<void>
}

export interface IdGenerator {
  sessionId(): string
  promptId(): string
  /** A random secret of `bytes` bytes, URL-safe. */
  secret(bytes: number): string
}

/** A URL the workspace transfers a file with directly (a presigned S3 URL; a `file://` URL locally). */
export interface TransferUrl {
  readonly url: string
  readonly method: 'PUT' | 'GET'
  /** Headers the request must carry (part of the signature when presigned). */
  readonly headers: Readonly<Record<string, string>>
  readonly expiresAt: string
}

/**
 * Where a session's Claude Code conversation (the CLI's transcript, gzipped) is kept between its
 * tasks: an S3 bucket of the stage on AWS, the data dir locally. One object per session.
 */
export interface ConversationStore {
  /** Where the stopping workspace uploads the transcript. */
  uploadUrl(sessionId: string): Promise<TransferUrl>
  /** Where a resumed workspace downloads it; undefined when none was saved. */
  downloadUrl(sessionId: string): Promise<TransferUrl | undefined>
}
