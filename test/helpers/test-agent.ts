/**
 * The workspace side of the prompt channel, answering as a real agent would: it reads the session
 * token from the task's environment overrides (ECS DescribeTasks) and speaks the agent routes of
 * the API at `apiUrl`.
 */
import {DescribeTasksCommand, type ECSClient, ListTasksCommand} from '@aws-sdk/client-ecs'

export class TestAgent {
  constructor(
    private readonly apiUrl: string,
    private readonly ecs: ECSClient,
    private readonly cluster: string,
  ) {}

  /** The session token the control plane handed the task (never stored in plain text anywhere else). */
  async token(sessionId: string, taskArn: string): Promise<string> {
    const environment = await this.environment(taskArn)
    if (!environment.DEVFLOW_SESSION_TOKEN || environment.SESSION_ID !== sessionId) throw new Error(`task ${taskArn} carries no session token for ${sessionId}`)
    return environment.DEVFLOW_SESSION_TOKEN
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
          await this.heartbeat(environment.SESSION_ID, environment.DEVFLOW_SESSION_TOKEN)
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
