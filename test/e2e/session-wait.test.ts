/**
 * The waiting and streaming side of the session commands, with the CLI as a process against
 * `devflow api serve` and the test agent: start --wait, prompt --wait / --stream with success,
 * failure and timeout, logs --follow, status --watch, stop of several sessions, and human output.
 */
import {expect} from 'chai'
import {execa} from 'execa'

import {CLI} from '../helpers/cli.js'
import {expectMatchesSchema} from '../helpers/output-schemas.js'
import {REPO, usePlatform} from '../helpers/platform-fixture.js'

describe('e2e: devflow session, waiting and streaming', function () {
  this.timeout(120_000)
  const platform = usePlatform({api: 'cli'})

  const run = (args: string[], input?: string) => platform.cli.run(args, {env: platform.env({DEVFLOW_ENDPOINT: platform.api.url}), input})

  /** A RUNNING session and its agent token. */
  async function runningSession(): Promise<{id: string; token: string}> {
    const start = await run(['session', 'start', '--repo', REPO, '--json'])
    const session = start.json<{id: string; taskArn: string}>()
    const token = await platform.agent.token(session.id, session.taskArn)
    await platform.agent.heartbeat(session.id, token)
    return {id: session.id, token}
  }

  it('start --wait returns once the workspace is RUNNING, printing only the document', async () => {
    const stop = platform.agent.watchNewTasks()
    try {
      const result = await run(['session', 'start', '--repo', REPO, '--wait', '--timeout', '1m', '--json'])
      expect(result.exitCode, result.stdout + result.stderr).to.equal(0)
      expectMatchesSchema('session-start', result.json())
      expect(result.json()).to.include({status: 'RUNNING', repo: REPO})
      expect(result.stderr).to.equal('')
    } finally {
      await stop()
    }
  })

  it('start --wait in human mode prints the id, then how to open the editor', async () => {
    const stop = platform.agent.watchNewTasks()
    try {
      const result = await run(['session', 'start', '--repo', REPO, '--wait'])
      expect(result.exitCode, result.stderr).to.equal(0)
      expect(result.stdout).to.match(/^s-[a-z2-7]{20}\n$/)
      expect(result.stderr).to.include(`devflow session open ${result.stdout.trim()}`)
    } finally {
      await stop()
    }
  })

  it('start with the same idempotency key twice gives one session', async () => {
    const first = await run(['session', 'start', '--repo', REPO, '--idempotency-key', 'ci-run-42', '--json'])
    const again = await run(['session', 'start', '--repo', REPO, '--idempotency-key', 'ci-run-42'])
    expect(first.exitCode).to.equal(0)
    expect(again.exitCode, again.stderr).to.equal(0)
    expect(again.stdout.trim()).to.equal(first.json<{id: string}>().id)
    expect(again.stderr).to.include('Found existing session')
  })

  it('start --wait gives up with exit 6 when the workspace never comes up, leaving it running', async () => {
    const result = await run(['session', 'start', '--repo', REPO, '--wait', '--timeout', '2s', '--json'])
    expect(result.exitCode).to.equal(6)
    const {error} = result.json<{error: {code: string; hint: string}}>()
    expect(error.code).to.equal('WAIT_TIMEOUT')
    expect(error.hint).to.include('--watch')
  })

  it('prompt --stream prints each event as a JSON line, then the prompt', async () => {
    const {id, token} = await runningSession()
    const answered = platform.agent.answerNextPrompt(id, token)
    const result = await run(['session', 'prompt', id, 'Add a health check', '--stream'])
    await answered
    expect(result.exitCode, result.stderr).to.equal(0)
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, {text?: string; status?: string}>)
    for (const line of lines) expectMatchesSchema('session-prompt-stream-line', line)
    expect(lines.slice(0, -1).map((l) => l.event.text)).to.deep.equal(['Reading the repository', 'edit src/health.ts', 'Committed the change'])
    expect(lines.at(-1)?.prompt.status).to.equal('SUCCEEDED')
  })

  it('prompt --wait exits 7 when the agent fails, with the prompt as the document', async () => {
    const {id, token} = await runningSession()
    const answered = platform.agent.answerNextPrompt(id, token, 'FAILED')
    const result = await run(['session', 'prompt', id, 'Break the build', '--wait', '--json'])
    await answered
    expect(result.exitCode).to.equal(7)
    expectMatchesSchema('session-prompt', result.json())
    expect(result.json()).to.include({status: 'FAILED'})
  })

  it('prompt --wait in human mode streams progress to stderr and ends with the result', async () => {
    const {id, token} = await runningSession()
    const answered = platform.agent.answerNextPrompt(id, token)
    const result = await run(['session', 'prompt', id, '--wait'], 'Add a health check\n')
    await answered
    expect(result.exitCode, result.stderr).to.equal(0)
    expect(result.stderr).to.match(/progress\s+Reading the repository/)
    expect(result.stdout).to.match(/Status:\s+SUCCEEDED/).and.to.match(/Commit:\s+0123456789abcdef/)
  })

  it('prompt --wait gives up with exit 6 when no agent answers in time', async () => {
    const {id} = await runningSession()
    const result = await run(['session', 'prompt', id, 'Nobody listens', '--wait', '--timeout', '2s', '--json'])
    expect(result.exitCode).to.equal(6)
    const {error} = result.json<{error: {code: string; hint: string}}>()
    expect(error.code).to.equal('PROMPT_WAIT_TIMEOUT')
    expect(error.hint).to.include('session logs')
  })

  it('logs --follow prints the events as they come and ends with the prompt', async () => {
    const {id, token} = await runningSession()
    const queued = await run(['session', 'prompt', id, 'Write docs', '--json'])
    const promptId = queued.json<{id: string}>().id
    const follow = execa('node', [CLI, 'session', 'logs', id, '--prompt', promptId, '--follow'], {
      reject: false,
      extendEnv: false,
      env: {PATH: process.env.PATH, HOME: platform.cli.home, XDG_CONFIG_HOME: platform.cli.configHome, NO_COLOR: '1', ...platform.env({DEVFLOW_ENDPOINT: platform.api.url})},
    })
    await platform.agent.answerNextPrompt(id, token)
    const result = await follow
    expect(result.exitCode, String(result.stderr)).to.equal(0)
    expect(String(result.stdout)).to.match(/Reading the repository[\s\S]*Committed the change[\s\S]*SUCCEEDED/)
  })

  it('status --watch follows the session until it has stopped', async () => {
    const {id} = await runningSession()
    const watch = execa('node', [CLI, 'session', 'status', id, '--watch', '--json'], {
      reject: false,
      extendEnv: false,
      env: {PATH: process.env.PATH, HOME: platform.cli.home, XDG_CONFIG_HOME: platform.cli.configHome, NO_COLOR: '1', ...platform.env({DEVFLOW_ENDPOINT: platform.api.url})},
    })
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect((await run(['session', 'stop', id])).exitCode).to.equal(0)
    const result = await watch
    expect(result.exitCode, String(result.stderr)).to.equal(0)
    expect(JSON.parse(String(result.stdout))).to.include({id, status: 'STOPPED'})
  })

  it('stops several sessions at once and lists them as a table', async () => {
    const a = await runningSession()
    const b = await runningSession()
    const table = await run(['session', 'list', '--status', 'RUNNING'])
    expect(table.exitCode).to.equal(0)
    expect(table.stdout.split('\n')[0]).to.match(/^ID\s+REPO\s+BRANCH\s+STATUS\s+SIZE\s+COST\s+CREATED\s+EXPIRES$/)
    expect(table.stdout).to.include(a.id).and.to.include(b.id).and.to.match(/just now|seconds? ago|minutes? ago/)
    expect(table.stdout).to.not.include('\u001B[')
    const stopped = await run(['session', 'stop', a.id, b.id, '--wait', '--json'])
    expect(stopped.exitCode, stopped.stdout).to.equal(0)
    expectMatchesSchema('session-stop', stopped.json())
    expect(stopped.json<{items: Array<{id: string; status: string}>}>().items.map((s) => [s.id, s.status])).to.deep.equal([
      [a.id, 'STOPPED'],
      [b.id, 'STOPPED'],
    ])
    const limited = await run(['session', 'list', '--limit', '1', '--json'])
    expectMatchesSchema('session-list', limited.json())
    expect(limited.json<{items: unknown[]; nextToken?: string}>().items).to.have.length(1)
    expect(limited.json<{nextToken?: string}>().nextToken).to.be.a('string')
  })
})
