/**
 * The whole session flow with the CLI as a process: start -> status -> prompt (answered by the
 * test agent over the agent routes) -> result -> logs -> list -> stop, once in API mode against
 * `devflow api serve` (every request's SigV4 signature recomputed) and once in --admin mode against
 * moto directly. Both must print the same JSON documents, ids and times aside.
 */
import {expect} from 'chai'

import type {CliResult} from '../helpers/cli.js'
import {expectMatchesSchema} from '../helpers/output-schemas.js'
import {REPO, TEST_USER_ARN, usePlatform} from '../helpers/platform-fixture.js'

interface FlowDocuments {
  start: Record<string, unknown>
  status: Record<string, unknown>
  prompt: Record<string, unknown>
  logs: Record<string, unknown>
  list: Record<string, unknown>
  stop: Record<string, unknown>
  after: Record<string, unknown>
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

/** Replaces what differs between two runs (ids, times, durations, task ARNs, PR numbers) with placeholders. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise)
  if (typeof value === 'object' && value !== null) {
    // A measured duration differs between runs like a time does.
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, key === 'timeToRunningMs' && typeof v === 'number' ? '<duration>' : normalise(v)]))
  }
  if (typeof value !== 'string') return value
  return value
    .replace(/s-[a-z2-7]{20}/g, '<session>')
    .replace(/p-[a-z2-7]{20}/g, '<prompt>')
    .replace(/arn:aws:ecs:[^"\s]+:task\/[^"\s]+/g, '<task>')
    .replace(/\/pull\/\d+/g, '/pull/<n>')
    .replace(ISO, '<time>')
}

/** The one JSON document a successful command printed, checked against its published schema. */
function json(result: CliResult, schema: string): Record<string, unknown> {
  expect(result.exitCode, `exit ${result.exitCode}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`).to.equal(0)
  expect(result.stdout.trim().split('\n'), 'exactly one JSON document on stdout').to.have.length(1)
  const document = result.json()
  expectMatchesSchema(schema, document)
  return document
}

describe('e2e: devflow session, the whole flow in API mode and admin mode', function () {
  this.timeout(180_000)
  const platform = usePlatform({api: 'cli'})

  async function flow(modeArgs: string[]): Promise<FlowDocuments> {
    const run = (args: string[]) => platform.cli.run([...args, ...modeArgs, '--json'], {env: platform.env()})
    const start = json(await run(['session', 'start', '--repo', REPO, '--ttl', '2h', '--idle-timeout', '45m']), 'session-start')
    const id = start.id as string
    expect(start).to.include({repo: REPO, branch: 'main', userId: TEST_USER_ARN, idleTimeout: '45m'})
    expect(Date.parse(start.expiresAt as string) - Date.parse(start.createdAt as string)).to.equal(2 * 3600_000)
    const token = await platform.agent.token(id, start.taskArn as string)
    await platform.agent.heartbeat(id, token)
    const status = json(await run(['session', 'status', id]), 'session-status')
    expect(status.status, JSON.stringify(status)).to.equal('RUNNING')

    const answered = platform.agent.answerNextPrompt(id, token)
    const prompt = json(await run(['session', 'prompt', id, 'Add a health check endpoint', '--pr', 'draft', '--wait']), 'session-prompt')
    const promptId = await answered
    expect(prompt).to.include({id: promptId, status: 'SUCCEEDED', pr: 'draft', text: 'Add a health check endpoint'})
    expect(prompt.result).to.include({summary: 'Added a health check endpoint.', branch: `devflow/${id}`, commit: '0123456789abcdef0123456789abcdef01234567'})
    expect((prompt.result as {prUrl?: string}).prUrl).to.match(/\/pull\/\d+$/)

    const logs = json(await run(['session', 'logs', id]), 'session-logs')
    const logged = (logs.prompts as Array<{id: string; events: Array<{text: string}>}>)[0]
    expect(logged.id).to.equal(promptId)
    expect(logged.events.map((e) => e.text)).to.deep.equal(['Reading the repository', 'edit src/health.ts', 'Committed the change'])

    const list = json(await run(['session', 'list', '--status', 'RUNNING']), 'session-list')
    expect((list.items as Array<{id: string}>).map((s) => s.id)).to.deep.equal([id])
    const stop = json(await run(['session', 'stop', id, '--wait']), 'session-stop')
    expect((stop.items as Array<{status: string}>)[0].status).to.equal('STOPPED')
    const after = json(await run(['session', 'status', id]), 'session-status')
    expect(after.status).to.equal('STOPPED')
    return {start, status, prompt, logs, list, stop, after}
  }

  it('runs in API mode (SigV4-signed) and in admin mode with the same JSON documents', async () => {
    const viaApi = await flow(['--endpoint', platform.api.url])
    const requests = platform.api
      .log()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as {message: string; route?: string; status?: number})
      .filter((entry) => entry.message === 'request' && !entry.route?.startsWith('/agent/'))
    expect(requests.length, 'the CLI went through the API').to.be.greaterThan(6)
    expect(requests.every((r) => (r.status ?? 500) < 400)).to.equal(true)
    const viaAdmin = await flow(['--admin'])
    expect(normalise(viaAdmin)).to.deep.equal(normalise(viaApi))
    expect(platform.github.pulls.map((p) => p.draft)).to.deep.equal([true, true])
    const everyone = json(await platform.cli.run(['session', 'list', '--admin', '--all', '--json'], {env: platform.env()}), 'session-list')
    expect((everyone.items as unknown[]).length).to.equal(2)
  })

  it('refuses a request signed with the wrong secret (exit 4) and creates nothing', async () => {
    const before = (await platform.scan('sessions')).length
    const result = await platform.cli.run(['session', 'start', '--repo', REPO, '--endpoint', platform.api.url, '--json'], {env: platform.env({AWS_SECRET_ACCESS_KEY: 'not-the-secret'})})
    expect(result.exitCode).to.equal(4)
    expect(result.json<{error: {code: string; hint: string}}>().error.code).to.equal('AWS_CREDENTIALS_INVALID')
    expectMatchesSchema('error', result.json())
    expect((await platform.scan('sessions')).length).to.equal(before)
  })
})
