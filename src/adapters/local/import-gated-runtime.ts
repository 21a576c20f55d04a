/**
 * Starts a session's workspace only once its repository is imported (issue 11, defect 12): a
 * plain directory is copied into a snapshot repository in the background (repo-registry.ts), so
 * `session start` answers at once. Until the import is done the task is PROVISIONING; when it
 * fails the task is stopped with the import's error as its reason, which the core turns into a
 * FAILED session with that message. A stop meanwhile cancels the start.
 *
 * The state of a waiting start lives in this process: a server restarted while an import runs
 * finds no task for the session, which the core records as FAILED (TASK_MISSING).
 */
import type {CapacityProvider} from '../../core/models.js'
import type {TaskRuntime, TaskSpec, TaskState} from '../../core/ports.js'
import type {EditorAccess} from '../../core/session-api.js'

/** A local runtime: its task ARN follows from the session id, so it is known before the task runs. */
export interface LocalTaskRuntime extends TaskRuntime {
  taskArnOf(sessionId: string): string
}

type Waiting = {readonly state: 'importing'} | {readonly state: 'failed'; readonly reason: string} | {readonly state: 'cancelled'; readonly reason: string}

export class ImportGatedRuntime implements TaskRuntime {
  private readonly waiting = new Map<string, Waiting>()

  constructor(
    private readonly inner: LocalTaskRuntime,
    /** The import the spec's repository still waits for (rejecting with why it failed); undefined when none. */
    private readonly pendingImport: (spec: TaskSpec) => Promise<void> | undefined,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  async run(spec: TaskSpec): Promise<{taskArn: string; capacity: CapacityProvider}> {
    const pending = this.pendingImport(spec)
    if (!pending) return this.inner.run(spec)
    const taskArn = this.inner.taskArnOf(spec.sessionId)
    this.waiting.set(taskArn, {state: 'importing'})
    void this.startAfter(pending, spec, taskArn)
    return {taskArn, capacity: 'FARGATE'}
  }

  async describe(taskArn: string): Promise<TaskState | undefined> {
    const waiting = this.waiting.get(taskArn)
    if (!waiting) return this.inner.describe(taskArn)
    if (waiting.state === 'importing') return {taskArn, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING'}
    if (waiting.state === 'cancelled') return {taskArn, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: waiting.reason, exitCode: 0}
    return {taskArn, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: waiting.reason, exitCode: 1}
  }

  async stop(taskArn: string, reason: string): Promise<void> {
    const waiting = this.waiting.get(taskArn)
    if (!waiting) return this.inner.stop(taskArn, reason)
    if (waiting.state === 'importing') this.waiting.set(taskArn, {state: 'cancelled', reason})
  }

  ping(): Promise<void> {
    return this.inner.ping()
  }

  editorAccess(taskArn: string): Promise<EditorAccess> {
    return this.inner.editorAccess(taskArn)
  }

  private async startAfter(pending: Promise<void>, spec: TaskSpec, taskArn: string): Promise<void> {
    try {
      await pending
    } catch (error) {
      if (this.waiting.get(taskArn)?.state === 'importing') this.waiting.set(taskArn, {state: 'failed', reason: `Importing the repository failed: ${(error as Error).message}`})
      return
    }
    const before = this.waiting.get(taskArn)
    if (before?.state !== 'importing') return // stopped while importing
    try {
      await this.inner.run(spec)
    } catch (error) {
      this.waiting.set(taskArn, {state: 'failed', reason: (error as Error).message})
      this.log(`devflow-local: the workspace of session ${spec.sessionId} could not start after its import: ${(error as Error).message}`)
      return
    }
    const after = this.waiting.get(taskArn)
    this.waiting.delete(taskArn)
    // A stop that came while the workspace was being started: stop what started.
    if (after?.state === 'cancelled') await this.inner.stop(taskArn, after.reason)
  }
}
