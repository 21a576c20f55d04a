/**
 * The workspace side of the prompt channel, answering as a real agent would: it makes the task's
 * bootstrap call, SigV4-signed as the task role's session named after the task id (each such
 * session is added to the principals file `devflow api serve` reads on every request, as STS would
 * issue it), and speaks the agent routes of the API at `apiUrl` with the token it answered.
 */
import {randomBytes} from 'node:crypto'
import {readFile, rename, writeFile} from 'node:fs/promises'

import {DescribeTasksCommand, type ECSClient, ListTasksCommand} from '@aws-sdk/client-ecs'

import {signRequest} from '../../src/adapters/http/sigv4.js'

export interface TaskRoleOptions {
  /**
   * The JSON principals file of `devflow api serve` (DEVFLOW_API_SIGV4_PRINCIPALS=@file). Without it
   * the API is the fixture's in-process server, which takes the caller from `x-test-user`.
   */
  readonly principalsFile?: string
  /** The assumed-role ARN of a task's role session. */
  readonly callerOf: (taskArn: string) => string
}

export interface WorkspaceSecrets {
  readonly token: string
  readonly editorPassword: string
}

export class TestAgent {
  private readonly bootstrapped = new Map<string, Promise<WorkspaceSecrets>>()
  /** The last change to the principals file (see taskRoleHeaders). */
  private principalsWrite: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly apiUrl: string,
    private readonly ecs: ECSClient,
    private readonly cluster: string,
    private readonly taskRole: TaskRoleOptions,
  ) {}

  /** The session token the bootstrap call handed the task (never stored in plain text anywhere else). */
  async token(sessionId: string, taskArn: string): Promise<string> {
    return (await this.bootstrap(sessionId, taskArn)).token
  }

  /** The task's bootstrap call, made once per session; later calls answer what the first got. */
  bootstrap(sessionId: string, taskArn: string): Promise<WorkspaceSecrets> {
    let secrets = this.bootstrapped.get(sessionId)
    if (!secrets) {
      secrets = this.signedBootstrap(sessionId, taskArn)
      this.bootstrapped.set(sessionId, secrets)
    }
    return secrets
  }

  /** Signed as the task role's session (api serve), or named in `x-test-user` (the in-process server). */
  private async taskRoleHeaders(url: URL, taskArn: string): Promise<Record<string, string>> {
    const {principalsFile, callerOf} = this.taskRole
    if (!principalsFile) return {'x-test-user': callerOf(taskArn)}
    const credentials = {accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('base64')}
    // api serve reads the file on every request: replace it whole (a rename), never half-written,
    // and one change at a time, so that two tasks' credentials never overwrite each other.
    const add = async () => {
      const principals = JSON.parse(await readFile(principalsFile, 'utf8')) as Record<string, unknown>
      principals[credentials.accessKeyId] = {secretAccessKey: credentials.secretAccessKey, userArn: callerOf(taskArn)}
      await writeFile(`${principalsFile}.next`, JSON.stringify(principals))
      await rename(`${principalsFile}.next`, principalsFile)
    }
    const added = this.principalsWrite.then(add, add)
    this.principalsWrite = added.catch(() => undefined)
    await added
    return signRequest({method: 'POST', url, headers: {}, body: ''}, credentials, 'us-east-1')
  }

  private async signedBootstrap(sessionId: string, taskArn: string): Promise<WorkspaceSecrets> {
    const url = new URL(`${this.apiUrl}/agent/sessions/${sessionId}/bootstrap`)
    const headers = await this.taskRoleHeaders(url, taskArn)
    const response = await fetch(url, {method: 'POST', headers, body: ''})
    const body = await response.text()
    if (response.status !== 200) throw new Error(`bootstrap of ${sessionId} answered ${response.status}: ${body}`)
    return JSON.parse(body) as WorkspaceSecrets
  }

  /** The workspace container's environment overrides, as the task was started. */
  async environment(taskArn: string): Promise<Record<string, string>> {
    const out = await this.ecs.send(new DescribeTasksCommand({cluster: this.cluster, tasks: [taskArn]}))
    const variables = out.tasks?.[0]?.overrides?.containerOverrides?.flatMap((o) => o.environment ?? []) ?? []
    return Object.fromEntries(variables.map((v) => [v.name ?? '', v.value ?? '']))
  }

  async call(token: string, method: string, path: string, body?: unknown): Promise<{status: number; body: unknown}> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'},
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return {status: response.status, body: text ? JSON.parse(text) : undefined}
  }

  /**
   * Plays the agent of every workspace task that appears from now on: its first heartbeat makes the
   * session RUNNING. Returns a function that stops watching.
   */
  watchNewTasks(): () => Promise<void> {
    const seen = new Set<string>()
    let running = true
    const loop = (async () => {
      const initial = await this.ecs.send(new ListTasksCommand({cluster: this.cluster}))
      for (const arn of initial.taskArns ?? []) seen.add(arn)
      while (running) {
        const out = await this.ecs.send(new ListTasksCommand({cluster: this.cluster}))
        for (const arn of out.taskArns ?? []) {
          if (seen.has(arn)) continue
          seen.add(arn)
          const environment = await this.environment(arn)
          await this.heartbeat(environment.SESSION_ID, await this.token(environment.SESSION_ID, arn))
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    })()
    return async () => {
      running = false
      await loop
    }
  }

  async heartbeat(sessionId: string, token: string): Promise<void> {
    const {status} = await this.call(token, 'POST', `/agent/sessions/${sessionId}/heartbeat`, {state: 'idle'})
    if (status !== 200) throw new Error(`heartbeat answered ${status}`)
  }

  /**
   * Claims the next prompt (long poll), reports progress and a successful result with a commit.
   * `events`: the progress batch to send first (default: two generic lines).
   */
  async answerNextPrompt(sessionId: string, token: string, outcome: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED', events?: Array<{type: string; text?: string; data?: unknown}>): Promise<string> {
    for (let attempt = 0; attempt < 30; attempt++) {
      const next = await this.call(token, 'GET', `/agent/sessions/${sessionId}/prompts/next?wait=2`)
      if (next.status === 204) continue
      if (next.status !== 200) throw new Error(`next prompt answered ${next.status}: ${JSON.stringify(next.body)}`)
      const prompt = next.body as {id: string}
      const base = `/agent/sessions/${sessionId}/prompts/${prompt.id}`
      await this.call(token, 'POST', `${base}/events`, {events: events ?? [{type: 'progress', text: 'Reading the repository'}, {type: 'tool', text: 'edit src/health.ts'}]})
      await this.call(token, 'POST', `${base}/events`, {events: [{type: 'progress', text: 'Committed the change'}]})
      const result =
        outcome === 'SUCCEEDED'
          ? {status: 'SUCCEEDED', summary: 'Added a health check endpoint.', branch: `devflow/${sessionId}`, commit: '0123456789abcdef0123456789abcdef01234567', turns: 3, costUsd: 0.12}
          : {status: 'FAILED', summary: 'The tests did not pass.', error: {code: 'AGENT_FAILED', message: 'The tests did not pass.'}}
      const done = await this.call(token, 'POST', `${base}/result`, result)
      if (done.status !== 200) throw new Error(`result answered ${done.status}: ${JSON.stringify(done.body)}`)
      return prompt.id
    }
    throw new Error('no prompt arrived')
  }
}
