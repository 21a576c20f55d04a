/**
 * The warm pool's rules (issue 16; README "The warm pool"):
 * - the keeper runs tasks with no session up to the target of the hour, replaces dead ones and
 *   recycles old ones (the scheduled reaper and the local server call it);
 * - a warm task registers with the proof of its identity that the bootstrap call takes (the task
 *   role on AWS, a one-use nonce locally), gets a poll token and its editor password, and polls;
 * - a start of the pool's size takes one WARM task with one conditional write, and the task's next
 *   poll answers it the session, its agent token and a repo-scoped token.
 */
import {randomBytes} from 'node:crypto'

import type {WorkspaceProof} from '../agent-api.js'
import {conflict, forbidden, invalidInput, isDevflowError, notFound, unauthenticated} from '../errors.js'
import {hashToken} from '../ids.js'
import type {SessionRecord} from '../models.js'
import type {RepoToken} from '../ports.js'
import {isSessionTerminal} from '../state-machine.js'
import {parseRepoRef} from '../validation.js'
import {WARM_ID_PATTERN, WARM_POOL_OWNER, type WarmPoolSettings, type WarmPoolStatus, type WarmPoolStore, type WarmTaskRecord, warmTarget} from '../warm-pool.js'
import type {CoreDeps} from './index.js'
import {updateSessionWithRetry} from './records.js'
import {gitAuthor, runSpecWithFallback} from './task-start.js'
import {isSessionOfRole, parseAssumedRole, sameHash, taskIdOf} from './workspace-bootstrap.js'

export interface WarmPoolDeps {
  readonly store: WarmPoolStore
  readonly settings: WarmPoolSettings
}

/** What the register call answers, once per warm task. */
export interface WarmRegistration {
  /** The bearer token of the task's claim polls. */
  readonly pollToken: string
  /** code-server's password: the session that takes the task gets the same. */
  readonly editorPassword: string
}

/** What the claim poll answers the task a start assigned it to. */
export interface WarmAssignment {
  readonly sessionId: string
  readonly repo: string
  readonly branch: string
  /** The agent's bearer token for the /agent/sessions routes (minted now, stored as a hash). */
  readonly token: string
  /** A fresh installation token scoped to the repository. */
  readonly githubToken: RepoToken
  /** The session's plain environment (SESSION_ID, REPO, BRANCH, GIT_AUTHOR_*, a local REPO_URL). */
  readonly environment: Readonly<Record<string, string>>
}

export interface WarmPoolReport {
  readonly target: number
  readonly started: readonly string[]
  /** Dead tasks dropped, old ones recycled, surplus ones stopped. */
  readonly dropped: readonly string[]
  readonly recycled: readonly string[]
  readonly trimmed: readonly string[]
  readonly failures: ReadonlyArray<{id?: string; message: string}>
}

export interface WarmPoolApi {
  register(warmId: string, proof: WorkspaceProof | undefined): Promise<WarmRegistration>
  /** Long poll: the assignment, or undefined when none came within `waitSeconds`. */
  claim(warmId: string, pollToken: string | undefined, waitSeconds: number): Promise<WarmAssignment | undefined>
  /** Brings the pool to its target: drops dead tasks, recycles old ones, starts or stops the difference. */
  keep(): Promise<WarmPoolReport>
  /** Stops every task no session has taken (the local server's shutdown). */
  drain(): Promise<string[]>
  status(): Promise<WarmPoolStatus>
}

const MAX_WAIT_SECONDS = 20
const BAD_POLL_TOKEN = () => unauthenticated('WARM_TOKEN_INVALID', 'The poll token is missing or does not match the warm task.', 'Register the warm task again by restarting it; the pool keeper replaces it otherwise.')

/** `w-` and 20 base32 characters, like the session ids. */
export function newWarmId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  return `w-${[...randomBytes(20)].map((b) => alphabet[b & 31]).join('')}`
}

export function createWarmPool(deps: CoreDeps, pool: WarmPoolDeps): WarmPoolApi {
  const {store, settings} = pool
  const nowIso = () => deps.clock.now().toISOString()
  const ageMs = (iso: string | undefined) => (iso === undefined ? Number.POSITIVE_INFINITY : deps.clock.now().getTime() - Date.parse(iso))

  const load = async (warmId: string, refused: Error) => {
    if (!WARM_ID_PATTERN.test(warmId)) throw refused
    const record = await store.get(warmId)
    if (!record) throw refused
    return record
  }

  const stopAndRemove = async (record: WarmTaskRecord, reason: string) => {
    await deps.runtime.stop(record.taskArn, reason)
    await store.remove(record.id)
  }

  return {
    async register(warmId, proof) {
      if (!proof) {
        throw unauthenticated('BOOTSTRAP_PROOF_MISSING', 'The register call carries no proof of the task.', 'Sign it with the task role\'s credentials (SigV4), or send the local bootstrap nonce as a bearer token.')
      }
      const refused = forbidden('WARM_REGISTER_REFUSED', 'The caller is not this warm task.', 'Only the warm task itself can register; the pool keeper replaces a task that cannot.')
      const record = await load(warmId, refused)
      checkProof(deps, record, proof, refused)
      if (record.status !== 'STARTING') {
        throw conflict('WARM_TASK_REGISTERED', `Warm task ${record.id} already registered at ${record.readyAt ?? '?'}.`, 'A restarted warm task is not taken back: the pool keeper replaces it.')
      }
      const pollToken = deps.ids.secret(32)
      const editorPassword = deps.ids.secret(18)
      const at = nowIso()
      try {
        // The nonce's hash stays: the session that takes the task records it as its own task's proof
        // (takeWarmTask), for the checkpoint calls. A second register is refused by the status above.
        await store.update(record.id, record.version, {status: 'WARM', readyAt: at, lastSeenAt: at, pollTokenHash: hashToken(pollToken), editorPassword})
      } catch (error) {
        // A second register raced this one: it won; this one gets nothing.
        if (isDevflowError(error) && error.code === 'CONCURRENT_UPDATE') throw conflict('WARM_TASK_REGISTERED', `Warm task ${record.id} already registered.`, 'A restarted warm task is not taken back.')
        throw error
      }
      return {pollToken, editorPassword}
    },

    async claim(warmId, pollToken, waitSeconds) {
      if (!Number.isFinite(waitSeconds) || waitSeconds < 0 || waitSeconds > MAX_WAIT_SECONDS) {
        throw invalidInput('INVALID_WAIT', `wait must be 0 to ${MAX_WAIT_SECONDS} seconds.`, `Poll with ?wait=${MAX_WAIT_SECONDS}.`)
      }
      const rejected = BAD_POLL_TOKEN()
      if (!pollToken) throw rejected
      const first = await load(warmId, rejected)
      if (!first.pollTokenHash || !sameHash(first.pollTokenHash, hashToken(pollToken))) throw rejected
      const deadline = deps.clock.now().getTime() + waitSeconds * 1000
      let touched = false
      for (let record: WarmTaskRecord | undefined = first; ; record = await store.get(warmId)) {
        if (!record) throw retired(warmId)
        if (record.status === 'ASSIGNED' && record.sessionId) {
          const assignment = await handOver(deps, pool, record)
          if (assignment) return assignment
        }
        if (!touched) {
          // One write per poll says the task is alive; a start does not hand a session to a silent task.
          touched = true
          await store.update(record.id, record.version, {lastSeenAt: nowIso()}).catch((error: unknown) => {
            if (!(isDevflowError(error) && error.code === 'CONCURRENT_UPDATE')) throw error
          })
        }
        const left = deadline - deps.clock.now().getTime()
        if (left <= 0) return undefined
        await sleepUntilWoken(deps, pool, warmId, Math.min(deps.settings.pollIntervalMs, left))
      }
    },

    async keep() {
      const target = warmTarget(settings, deps.clock.now())
      const started: string[] = []
      const dropped: string[] = []
      const recycled: string[] = []
      const trimmed: string[] = []
      const failures: Array<{id?: string; message: string}> = []
      const live: WarmTaskRecord[] = []
      for (const record of await store.list()) {
        try {
          const state = await deps.runtime.describe(record.taskArn)
          const stopped = !state || state.lastStatus === 'STOPPED' || state.desiredStatus === 'STOPPED'
          if (record.status === 'ASSIGNED') {
            // Handed over, or its task died before it polled: the session's reconcile takes it from here.
            if (stopped || ageMs(record.assignedAt) > settings.staleAfterSeconds * 1000) await store.remove(record.id)
            continue
          }
          if (stopped) {
            await store.remove(record.id)
            dropped.push(record.id)
          } else if (ageMs(record.startedAt) > settings.maxAgeSeconds * 1000) {
            // Taken first with the assignment's own conditional write, so no start gets a task being stopped.
            if (record.status === 'WARM' && !(await store.assign(record.id, 'recycled', nowIso()))) continue
            await stopAndRemove(record, 'Recycled by the warm pool: older than its maximum age.')
            recycled.push(record.id)
          } else if (record.status === 'STARTING' && ageMs(record.startedAt) > settings.startTimeoutSeconds * 1000) {
            await stopAndRemove(record, 'The warm task never registered.')
            dropped.push(record.id)
          } else {
            live.push(record)
          }
        } catch (error) {
          failures.push({id: record.id, message: messageOf(error)})
        }
      }
      // Surplus (a smaller target this hour, or refills that raced): the youngest go first, the ready ones stay.
      const surplus = live
        .sort((a, b) => Number(a.status === 'WARM') - Number(b.status === 'WARM') || b.startedAt.localeCompare(a.startedAt))
        .slice(0, Math.max(0, live.length - target))
      for (const record of surplus) {
        // Only a task no start can take in between is stopped: a conditional write first.
        const taken = record.status === 'WARM' ? await store.assign(record.id, 'trimmed', nowIso()) : record
        if (!taken) continue
        try {
          await stopAndRemove(record, 'Stopped by the warm pool: more tasks than its target.')
          trimmed.push(record.id)
        } catch (error) {
          failures.push({id: record.id, message: messageOf(error)})
        }
      }
      for (let missing = target - live.length; missing > 0; missing--) {
        try {
          started.push(await startWarmTask(deps, pool))
        } catch (error) {
          failures.push({message: messageOf(error)})
          break
        }
      }
      return {target, started, dropped, recycled, trimmed, failures}
    },

    async drain() {
      const stopped: string[] = []
      for (const record of await store.list()) {
        if (record.status === 'ASSIGNED') continue
        await stopAndRemove(record, 'The warm pool was drained.')
        stopped.push(record.id)
      }
      return stopped
    },

    status: () => warmPoolStatus(deps, pool),
  }
}

/** The pool's size and record of hits and misses (`GET /health`, `devflow doctor`). */
export async function warmPoolStatus(deps: CoreDeps, pool: WarmPoolDeps): Promise<WarmPoolStatus> {
  const records = await pool.store.list()
  const counters = await pool.store.counters()
  const count = (status: WarmTaskRecord['status']) => records.filter((r) => r.status === status).length
  return {
    target: warmTarget(pool.settings, deps.clock.now()),
    starting: count('STARTING'),
    warm: count('WARM'),
    assigned: count('ASSIGNED'),
    hits: counters.hits,
    misses: counters.misses,
    cpu: pool.settings.cpu,
    memory: pool.settings.memory,
  }
}

/** Runs one warm task of the pool's size and records it STARTING; no orphan when the record cannot be written. */
export async function startWarmTask(deps: CoreDeps, pool: WarmPoolDeps, fallbackApiUrl?: string): Promise<string> {
  const {store, settings} = pool
  const id = newWarmId()
  const nonce = deps.ids.secret(32)
  const apiUrl = deps.settings.agentApiUrl ?? fallbackApiUrl
  if (!apiUrl) throw invalidInput('WARM_POOL_NO_API_URL', 'The warm pool needs the API URL its tasks call back.', 'Set the agent API URL of the stage (DEVFLOW_AGENT_API_URL); the stack sets it when it deploys.')
  const spec = {sessionId: id, owner: WARM_POOL_OWNER, cpu: settings.cpu, memory: settings.memory, environment: {DEVFLOW_WARM_ID: id, DEVFLOW_API_URL: apiUrl.replace(/\/+$/, '')}, bootstrapNonce: nonce}
  const started = await runSpecWithFallback(deps, {...spec, capacity: settings.capacity})
  try {
    await store.create({id, taskArn: started.taskArn, cpu: settings.cpu, memory: settings.memory, capacity: started.capacity, status: 'STARTING', startedAt: deps.clock.now().toISOString(), nonceHash: hashToken(nonce), version: 0})
  } catch (error) {
    await deps.runtime.stop(started.taskArn, 'DevFlow could not record the warm task.')
    throw error
  }
  return id
}

/**
 * The start's side: takes a WARM task of the session's size with one conditional write and
 * records it on the session, or answers undefined (a miss: the caller runs a cold task). A task
 * found dead after the write is dropped and the next one is tried.
 */
export async function takeWarmTask(deps: CoreDeps, pool: WarmPoolDeps, record: SessionRecord): Promise<SessionRecord | undefined> {
  const {store, settings} = pool
  const fresh = (r: WarmTaskRecord) => r.lastSeenAt !== undefined && deps.clock.now().getTime() - Date.parse(r.lastSeenAt) <= settings.staleAfterSeconds * 1000
  const candidates = shuffle((await store.list()).filter((r) => r.status === 'WARM' && r.cpu === record.cpu && r.memory === record.memory && fresh(r)))
  for (const candidate of candidates) {
    const taken = await store.assign(candidate.id, record.id, deps.clock.now().toISOString())
    if (!taken) continue
    const state = await deps.runtime.describe(taken.taskArn)
    if (!state || state.lastStatus === 'STOPPED' || state.desiredStatus === 'STOPPED') {
      await store.remove(taken.id)
      continue
    }
    const stored = await updateSessionWithRetry(deps, record, (current) =>
      current.status === 'PENDING'
        ? // The warm task's proof becomes the session's (its task id on AWS, via taskArn; its nonce locally): the
          // session's current task, and no other, reaches its checkpoint (checkpoint.ts).
          {status: 'PROVISIONING', taskArn: taken.taskArn, capacity: taken.capacity, warm: true, ...(taken.editorPassword ? {editorPassword: taken.editorPassword} : {}), bootstrapNonceHash: taken.nonceHash}
        : undefined,
    )
    wake(pool, taken.id)
    if (stored.taskArn !== taken.taskArn) {
      // A stop that came in meanwhile wins: the task must not outlive it.
      await deps.runtime.stop(taken.taskArn, 'The session was stopped while it started.')
      await store.remove(taken.id)
    } else {
      await deps.runtime.adopt?.(taken.taskArn, {sessionId: record.id, owner: record.userId})
    }
    await store.count('hit')
    return stored
  }
  await store.count('miss')
  return undefined
}

/**
 * The claim poll that finds its task assigned: the agent token is minted once, as by the bootstrap
 * call. Undefined while the start that took the task has not recorded it on the session yet.
 */
async function handOver(deps: CoreDeps, pool: WarmPoolDeps, warm: WarmTaskRecord): Promise<WarmAssignment | undefined> {
  const sessionId = warm.sessionId as string
  const session = await deps.sessions.get(sessionId)
  const recording = session?.status === 'PENDING' && session.taskArn === undefined
  if (recording && deps.clock.now().getTime() - Date.parse(warm.assignedAt ?? warm.startedAt) < pool.settings.staleAfterSeconds * 1000) return undefined
  if (!session || isSessionTerminal(session.status) || session.taskArn !== warm.taskArn) {
    await pool.store.remove(warm.id)
    throw conflict('SESSION_ENDED', `The session warm task ${warm.id} was assigned to has ended.`, 'The workspace should shut down; the pool keeper replaces it.', {details: {status: session?.status}})
  }
  if (session.bootstrappedAt) {
    throw conflict('BOOTSTRAP_USED', `Session ${session.id}'s workspace was already handed its token at ${session.bootstrappedAt}.`, 'The token is handed out once; a restarted workspace needs a new session.')
  }
  const token = deps.ids.secret(32)
  await updateSessionWithRetry(deps, session, (current) => {
    if (current.bootstrappedAt) throw conflict('BOOTSTRAP_USED', `Session ${current.id}'s workspace was already handed its token.`, 'The token is handed out once.')
    return {agentTokenHash: hashToken(token), bootstrappedAt: deps.clock.now().toISOString()}
  })
  await pool.store.remove(warm.id)
  await pool.store.remove(warm.id)
  const repo = parseRepoRef(session.repo)
  const githubToken = await deps.tokens.mintRepoToken(repo)
  const author = gitAuthor(session.userId)
  return {
    sessionId: session.id,
    repo: session.repo,
    branch: session.branch,
    token,
    githubToken,
    environment: {
      SESSION_ID: session.id,
      REPO: session.repo,
      BRANCH: session.branch,
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      ...pool.settings.sessionEnvironment?.(session.repo),
    },
  }
}

/**
 * A claim poll waiting in this process is woken by an assignment made in this process (the local
 * server, one warm Lambda): the hand-over then costs no poll interval. Elsewhere the poll interval
 * bounds it.
 */
const waiting = new WeakMap<WarmPoolDeps, Map<string, () => void>>()

async function sleepUntilWoken(deps: CoreDeps, pool: WarmPoolDeps, warmId: string, ms: number): Promise<void> {
  const waiters = waiting.get(pool) ?? new Map<string, () => void>()
  waiting.set(pool, waiters)
  let wakeUp = () => {}
  const woken = new Promise<void>((resolve) => (wakeUp = resolve))
  waiters.set(warmId, wakeUp)
  try {
    await Promise.race([deps.clock.sleep(ms), woken])
  } finally {
    if (waiters.get(warmId) === wakeUp) waiters.delete(warmId)
  }
}

function wake(pool: WarmPoolDeps, warmId: string): void {
  waiting.get(pool)?.get(warmId)?.()
}

function checkProof(deps: CoreDeps, record: WarmTaskRecord, proof: WorkspaceProof, refused: Error): void {
  if (proof.kind === 'nonce') {
    if (!record.nonceHash || !sameHash(record.nonceHash, hashToken(proof.nonce))) throw refused
    return
  }
  const role = deps.settings.workspaceRoleArn
  const caller = parseAssumedRole(proof.principalArn)
  if (!role || !caller || !isSessionOfRole(caller, role) || caller.sessionName !== taskIdOf(record.taskArn)) throw refused
}

function retired(warmId: string): Error {
  return notFound('WARM_TASK_RETIRED', `Warm task ${warmId} is no longer in the pool.`, 'The task should shut down: the pool keeper recycled or replaced it.')
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomBytes(1)[0] % (i + 1)
    ;[items[i], items[j]] = [items[j], items[i]]
  }
  return items
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
