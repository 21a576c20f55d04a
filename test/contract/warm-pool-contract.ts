/**
 * The warm pool's contract (issue 16), run on DynamoDB (moto, with ECS on moto as the runtime) and
 * on SQLite (with host processes as the runtime): the WarmPoolStore port's conditional writes, and
 * the pool as the core services use it through that port: assignment races, refill, recycle, the
 * fallback to a cold start, a warm task that dies before it is taken, and the hand-over.
 */
import {expect} from 'chai'

import {LocalPullRequestOpener, LocalTokenIssuer} from '../../src/adapters/local/github.js'
import type {WorkspaceProof} from '../../src/core/agent-api.js'
import {randomIds} from '../../src/core/ids.js'
import type {PromptStore, SessionStore, TaskRuntime, UsageStore} from '../../src/core/ports.js'
import {ANY_REPOSITORY} from '../../src/core/repository-access.js'
import {type CoreDeps, type CoreServices, type CoreSettings, createCoreServices, DEFAULT_CORE_SETTINGS} from '../../src/core/services/index.js'
import {newWarmId} from '../../src/core/services/warm-pool.js'
import {DEFAULT_WARM_POOL_SETTINGS, type WarmPoolSettings, type WarmPoolStore, type WarmTaskRecord} from '../../src/core/warm-pool.js'
import {rejection} from '../helpers/assertions.js'

export interface WarmPlatformUnderTest {
  readonly sessions: SessionStore
  readonly prompts: PromptStore
  readonly usage: UsageStore
  readonly warm: WarmPoolStore
  readonly runtime: TaskRuntime
  readonly settings?: Partial<CoreSettings>
  /** What the warm task itself would present at register (its task role, or its nonce file). */
  proofOf(record: WarmTaskRecord): Promise<WorkspaceProof>
  /** Ends the task as a crash would. */
  kill(taskArn: string): Promise<void>
  /** Whether the runtime still runs the task. */
  isRunning(taskArn: string): Promise<boolean>
  readonly cleanup: () => Promise<void>
}

const USER = 'arn:aws:iam::123456789012:user/warm'
const REPO = 'octo/hello'

function warmRecord(overrides: Partial<WarmTaskRecord> = {}): WarmTaskRecord {
  return {
    id: newWarmId(),
    taskArn: `arn:aws:ecs:us-east-1:123456789012:task/devflow/${randomIds.secret(8)}`,
    cpu: 1024,
    memory: 4096,
    capacity: 'FARGATE',
    status: 'WARM',
    startedAt: new Date().toISOString(),
    lastSeenAt: new Date().toISOString(),
    version: 0,
    ...overrides,
  }
}

export function warmPoolContract(name: string, make: () => Promise<WarmPlatformUnderTest>): void {
  describe(`warm pool contract: ${name}`, function () {
    this.timeout(60_000)
    let kit: WarmPlatformUnderTest
    let services: CoreServices
    let offsetMs: number
    let poolSettings: WarmPoolSettings

    const build = (overrides: Partial<WarmPoolSettings> = {}) => {
      poolSettings = {baseTasks: 3, windows: [], cpu: 1024, memory: 4096, capacity: 'FARGATE', ...DEFAULT_WARM_POOL_SETTINGS, maxAgeSeconds: 3600, ...overrides}
      const github = {isLocalRepo: () => true}
      const deps: CoreDeps = {
        sessions: kit.sessions,
        prompts: kit.prompts,
        usage: kit.usage,
        runtime: kit.runtime,
        tokens: new LocalTokenIssuer(github),
        pullRequests: new LocalPullRequestOpener(github),
        clock: {now: () => new Date(Date.now() + offsetMs), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms))},
        ids: randomIds,
        pageTokenKey: async () => Buffer.alloc(32, 7),
        settings: {...DEFAULT_CORE_SETTINGS, version: 'test', agentApiUrl: 'http://127.0.0.1:9/', repositoryAccess: ANY_REPOSITORY, pollIntervalMs: 50, ...kit.settings},
        warmPool: {store: kit.warm, settings: poolSettings},
      }
      services = createCoreServices(deps)
      return services.warmPool as NonNullable<CoreServices['warmPool']>
    }
    const pool = () => services.warmPool as NonNullable<CoreServices['warmPool']>

    /** Runs `n` warm tasks through the keeper and registers each as the task would. */
    const fill = async (n: number) => {
      build({baseTasks: n})
      const report = await pool().keep()
      expect(report.started, JSON.stringify(report.failures)).to.have.length(n)
      for (const id of report.started) {
        const record = (await kit.warm.get(id)) as WarmTaskRecord
        const registration = await pool().register(id, await kit.proofOf(record))
        expect(registration.pollToken).to.be.a('string')
      }
      return report.started
    }
    const start = (body: Record<string, unknown> = {}) => services.sessions.start({userId: USER}, {repo: REPO, ...body}).then((r) => r.session)

    beforeEach(async () => {
      offsetMs = 0
      kit = await make()
      build()
    })
    afterEach(async () => kit.cleanup())

    describe('the store', () => {
      it('creates once, reads back, and updates on the version only', async () => {
        const record = warmRecord({status: 'STARTING'})
        await kit.warm.create(record)
        expect((await rejection(kit.warm.create(record))).code).to.equal('WARM_TASK_EXISTS')
        expect(await kit.warm.get(record.id)).to.deep.equal(record)
        const updated = await kit.warm.update(record.id, 0, {status: 'WARM', readyAt: record.startedAt, nonceHash: undefined})
        expect(updated).to.include({status: 'WARM', version: 1})
        expect((await rejection(kit.warm.update(record.id, 0, {lastSeenAt: record.startedAt}))).code).to.equal('CONCURRENT_UPDATE')
        expect((await rejection(kit.warm.update('w-aaaaaaaaaaaaaaaaaaaa', 0, {}))).code).to.equal('WARM_TASK_NOT_FOUND')
        await kit.warm.remove(record.id)
        await kit.warm.remove(record.id)
        expect(await kit.warm.get(record.id)).to.equal(undefined)
      })

      it('assigns each WARM task to exactly one of 20 racing sessions, whatever its version', async () => {
        const records = [warmRecord(), warmRecord({version: 5}), warmRecord()]
        for (const r of records) await kit.warm.create(r)
        await kit.warm.create(warmRecord({status: 'STARTING'}))
        const sessions = Array.from({length: 20}, () => randomIds.sessionId())
        const results = await Promise.all(sessions.flatMap((sessionId) => records.map(async (r) => ({sessionId, taken: await kit.warm.assign(r.id, sessionId, new Date().toISOString())}))))
        const won = results.filter((r) => r.taken)
        expect(won.map((r) => r.taken?.id)).to.have.members(records.map((r) => r.id))
        for (const r of won) expect((await kit.warm.get(r.taken?.id as string))?.sessionId).to.equal(r.sessionId)
        const listed = await kit.warm.list()
        expect(listed.filter((r) => r.status === 'ASSIGNED')).to.have.length(3)
        expect(listed.filter((r) => r.status === 'STARTING')).to.have.length(1)
      })

      it('counts hits and misses', async () => {
        expect(await kit.warm.counters()).to.deep.equal({hits: 0, misses: 0})
        await Promise.all([kit.warm.count('hit'), kit.warm.count('miss'), kit.warm.count('miss')])
        expect(await kit.warm.counters()).to.deep.equal({hits: 1, misses: 2})
      })
    })

    describe('the pool through the core services', () => {
      it('20 concurrent starts, 3 warm tasks: exactly 3 warm, 17 cold, no task twice; the 3 are replaced', async () => {
        const warmIds = await fill(3)
        const warmArns = await Promise.all(warmIds.map(async (id) => (await kit.warm.get(id))?.taskArn))
        const sessions = await Promise.all(Array.from({length: 20}, () => start()))
        const warm = sessions.filter((s) => s.warm)
        expect(warm).to.have.length(3)
        expect(warm.map((s) => s.taskArn)).to.have.members(warmArns)
        expect(sessions.filter((s) => !s.warm)).to.have.length(17)
        expect(new Set(sessions.map((s) => s.taskArn)).size).to.equal(20)
        for (const s of sessions) expect(s.status).to.equal('PROVISIONING')
        expect(await kit.warm.counters()).to.deep.equal({hits: 3, misses: 17})
        // Refill: each start that took a task ran one in its place.
        const after = await kit.warm.list()
        expect(after.filter((r) => r.status === 'STARTING')).to.have.length(3)
        expect((await pool().status())).to.include({target: 3, starting: 3, warm: 0, hits: 3, misses: 17})
      })

      it('the session that takes a task gets the editor password the task runs with; a wrong poll token is refused', async () => {
        const [id] = await fill(1)
        const record = (await kit.warm.get(id)) as WarmTaskRecord
        const session = await start()
        expect(session).to.include({warm: true, taskArn: record.taskArn})
        const stored = await kit.sessions.get(session.id)
        expect(stored?.editorPassword).to.equal(record.editorPassword)
        // The poll token of another task is refused.
        expect((await rejection(pool().claim(id, 'not-the-token', 0))).code).to.equal('WARM_TOKEN_INVALID')
      })

      it('a claim poll answers the assignment with the agent token, a repo token and the session environment', async () => {
        const report = await pool().keep()
        const id = report.started[0]
        const record = (await kit.warm.get(id)) as WarmTaskRecord
        const {pollToken} = await pool().register(id, await kit.proofOf(record))
        // A second register: a nonce was used up (refused), a task role is told it registered already.
        expect((await rejection(pool().register(id, await kit.proofOf(record).catch(() => ({kind: 'nonce' as const, nonce: 'used'}))))).code).to.be.oneOf(['WARM_TASK_REGISTERED', 'WARM_REGISTER_REFUSED'])
        expect(await pool().claim(id, pollToken, 0)).to.equal(undefined)
        const polling = pool().claim(id, pollToken, 10)
        const session = await start({cpu: 1024, memory: 4096})
        const assignment = await polling
        expect(assignment).to.include({sessionId: session.id, repo: REPO, branch: 'main'})
        expect(assignment?.environment).to.include({SESSION_ID: session.id, REPO, BRANCH: 'main'})
        expect(assignment?.githubToken.token).to.be.a('string')
        await services.agent.authenticate(session.id, assignment?.token)
        expect((await rejection(services.agent.bootstrap(session.id, await kit.proofOf(record)))).code).to.be.oneOf(['BOOTSTRAP_USED', 'BOOTSTRAP_REFUSED'])
        expect(await services.agent.heartbeat(session.id, {state: 'idle'})).to.deep.equal({status: 'RUNNING'})
        const running = await services.sessions.get({userId: USER}, session.id)
        expect(running.warm).to.equal(true)
        expect(running.timeToRunningMs).to.be.a('number').and.be.at.least(0)
        // Handed over: the task is no longer the pool's, and a second poll gets nothing.
        expect(await kit.warm.get(id)).to.equal(undefined)
        expect((await rejection(pool().claim(id, pollToken, 0))).code).to.equal('WARM_TOKEN_INVALID')
      })

      it('a poll between the assignment and its record on the session waits for the record', async () => {
        const report = await pool().keep()
        const id = report.started[0]
        const record = (await kit.warm.get(id)) as WarmTaskRecord
        const {pollToken} = await pool().register(id, await kit.proofOf(record))
        const now = new Date().toISOString()
        const session = {id: randomIds.sessionId(), userId: USER, repo: REPO, branch: 'main', status: 'PENDING' as const, capacity: 'FARGATE' as const, cpu: 1024, memory: 4096, createdAt: now, updatedAt: now, expiresAt: new Date(Date.now() + 3600_000).toISOString(), idleTimeoutSeconds: 1800, agentTokenHash: '', version: 0}
        await kit.sessions.create(session)
        // What a start's one conditional write does before it records the task on the session.
        expect(await kit.warm.assign(id, session.id, now)).to.include({status: 'ASSIGNED'})
        expect(await pool().claim(id, pollToken, 0)).to.equal(undefined)
        await kit.sessions.update(session.id, 0, {status: 'PROVISIONING', taskArn: record.taskArn, warm: true})
        expect(await pool().claim(id, pollToken, 0)).to.include({sessionId: session.id})
      })

      it('falls back to a cold start when no warm task of the size is free, and counts the miss', async () => {
        await fill(1)
        const other = await start({cpu: 2048, memory: 8192})
        expect(other.warm).to.equal(undefined)
        expect(other.taskArn).to.be.a('string')
        expect(await kit.warm.counters()).to.deep.equal({hits: 0, misses: 1})
        // A task that registered but never polled again (stale) is not handed a session either.
        offsetMs = (poolSettings.staleAfterSeconds + 5) * 1000
        const cold = await start()
        expect(cold.warm).to.equal(undefined)
      })

      it('drops a warm task that died before it was taken, and the start falls back to a cold task', async () => {
        const [id] = await fill(1)
        const record = (await kit.warm.get(id)) as WarmTaskRecord
        await kit.kill(record.taskArn)
        build({refillOnTake: false})
        const session = await start()
        expect(session.warm).to.equal(undefined)
        expect(session.taskArn).to.not.equal(record.taskArn)
        expect(await kit.warm.get(id)).to.equal(undefined)
        expect(await kit.warm.counters()).to.deep.equal({hits: 0, misses: 1})
      })

      it('a warm-started session\'s task reaches its own checkpoint with its proof; the warm task of another session is refused', async () => {
        const [first, second] = await fill(2)
        const records = await Promise.all([first, second].map(async (id) => (await kit.warm.get(id)) as WarmTaskRecord))
        // What each task would present: read before the take, as the task holds it from its start.
        const [proofA, proofB] = await Promise.all(records.map((r) => kit.proofOf(r)))
        build({baseTasks: 2, refillOnTake: false})
        const a = await start()
        const b = await start()
        expect([a.warm, b.warm]).to.deep.equal([true, true])
        const [sessionA, sessionB] = a.taskArn === records[0].taskArn ? [a, b] : [b, a]
        const checkpoint = {branch: `devflow/${sessionA.id}`, commit: 'abc1234def567'}
        const saved = await services.agent.saveCheckpoint(sessionA.id, proofA, checkpoint)
        expect(saved.checkpoint).to.include(checkpoint)
        expect((await kit.sessions.get(sessionA.id))?.checkpoint).to.include(checkpoint)
        // The other session's warm task reaches neither this checkpoint, nor the other way round.
        expect((await rejection(services.agent.saveCheckpoint(sessionA.id, proofB, checkpoint))).code).to.equal('CHECKPOINT_REFUSED')
        expect((await rejection(services.agent.restoreCheckpoint(sessionB.id, proofA))).code).to.equal('CHECKPOINT_REFUSED')
        expect((await services.agent.restoreCheckpoint(sessionB.id, proofB)).checkpoint).to.equal(undefined)

        // Resumed with an empty pool: a cold task, not marked warm, and the warm task it replaced is refused.
        await services.sessions.stop({userId: USER}, sessionA.id)
        let resumed: Awaited<ReturnType<typeof services.sessions.resume>> | undefined
        for (let i = 0; i < 100 && !resumed; i++) {
          resumed = await services.sessions.resume({userId: USER}, sessionA.id).catch(async (error: {code?: string}) => {
            if (error.code !== 'SESSION_STILL_STOPPING') throw error
            await new Promise((resolve) => setTimeout(resolve, 100))
            return undefined
          })
        }
        expect(resumed).to.include({status: 'PROVISIONING', resumeCount: 1})
        expect(resumed?.warm).to.equal(undefined)
        expect(resumed?.taskArn).to.not.equal(records[0].taskArn)
        expect((await rejection(services.agent.restoreCheckpoint(sessionA.id, proofA))).code).to.equal('CHECKPOINT_REFUSED')
      })

      it('a resume takes a warm task of the session\'s size when the pool has one, and that task restores the checkpoint', async () => {
        build({baseTasks: 1, refillOnTake: false})
        const session = await start()
        expect(session.warm).to.equal(undefined)
        const stored = (await kit.sessions.get(session.id)) as NonNullable<Awaited<ReturnType<typeof kit.sessions.get>>>
        // The cold task's workspace ran and checkpointed (what its bootstrap and stop would record).
        await kit.sessions.update(session.id, stored.version, {agentReadyAt: new Date().toISOString(), checkpoint: {branch: 'main', commit: 'abc1234def567', conversation: false, savedAt: new Date().toISOString()}})
        await services.sessions.stop({userId: USER}, session.id)
        const [id] = await fill(1)
        const record = (await kit.warm.get(id)) as WarmTaskRecord
        const proof = await kit.proofOf(record)
        let resumed: Awaited<ReturnType<typeof services.sessions.resume>> | undefined
        for (let i = 0; i < 100 && !resumed; i++) {
          resumed = await services.sessions.resume({userId: USER}, session.id).catch(async (error: {code?: string}) => {
            if (error.code !== 'SESSION_STILL_STOPPING') throw error
            await new Promise((resolve) => setTimeout(resolve, 100))
            return undefined
          })
        }
        expect(resumed).to.include({status: 'PROVISIONING', resumeCount: 1, warm: true, taskArn: record.taskArn})
        expect((await services.agent.restoreCheckpoint(session.id, proof)).checkpoint).to.include({branch: 'main', commit: 'abc1234def567'})
        expect(await kit.warm.counters()).to.deep.include({hits: 1})
      })

      it('the keeper refills to the target, drops dead tasks, recycles old ones and trims a surplus', async () => {
        const ids = await fill(3)
        expect((await pool().keep()).started).to.have.length(0)
        const dead = (await kit.warm.get(ids[0])) as WarmTaskRecord
        await kit.kill(dead.taskArn)
        const refilled = await pool().keep()
        expect(refilled).to.deep.include({dropped: [ids[0]], target: 3})
        expect(refilled.started).to.have.length(1)
        // Past the maximum age every task is recycled: stopped, and replaced by a fresh one.
        offsetMs = (poolSettings.maxAgeSeconds + 60) * 1000
        const old = await Promise.all([ids[1], ids[2], refilled.started[0]].map(async (id) => (await kit.warm.get(id)) as WarmTaskRecord))
        const recycled = await pool().keep()
        expect(recycled.recycled).to.have.members(old.map((r) => r.id))
        expect(recycled.started).to.have.length(3)
        for (const r of old) expect(await kit.isRunning(r.taskArn), r.taskArn).to.equal(false)
        // A smaller target (the schedule's night hours, say) stops the surplus.
        build({baseTasks: 1, maxAgeSeconds: 3600 * 24})
        const trimmed = await pool().keep()
        expect(trimmed.trimmed).to.have.length(2)
        expect((await kit.warm.list()).length).to.equal(1)
      })
    })
  })
}
