/**
 * Every route of `devflow api serve` (a process, SigV4-checked, on moto) and of the local server
 * (`devflow local up`, a process) under seeded hostile input: no answer is a 5xx, every refusal is
 * a JSON error, and no refused request changed a stored record. A failure prints the seed and the
 * case; `DEVFLOW_FUZZ_SEED=<seed> DEVFLOW_FUZZ_CASES=<n>` replays it.
 */
import {execFileSync} from 'node:child_process'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {ListTasksCommand} from '@aws-sdk/client-ecs'
import Database from 'better-sqlite3'
import {expect} from 'chai'

import {signRequest} from '../../src/adapters/http/sigv4.js'
import {type FuzzTargets, fuzzCases, fuzzRequest, fuzzSeed, type RawResponse, seeded, send} from '../helpers/fuzz.js'
import {type LocalPlatform, startLocalPlatform} from '../helpers/local-platform.js'
import {TEST_REGION} from '../helpers/moto.js'
import {CLUSTER, REPO, usePlatform} from '../helpers/platform-fixture.js'

const CREDENTIALS = {accessKeyId: 'testing', secretAccessKey: 'testing'}

interface Outcome {
  readonly problems: string[]
  readonly statuses: Record<number, number>
}

/** Runs `cases` requests, each checked against the snapshot taken before it. */
async function fuzz(options: {
  name: string
  cases: number
  targets: FuzzTargets
  repos: readonly string[]
  url: string
  snapshot: () => Promise<string>
  authorize?: (request: {method: string; path: string; body?: Buffer}) => Promise<Record<string, string>>
}): Promise<Outcome> {
  const seed = fuzzSeed()
  const random = seeded(seed)
  const problems: string[] = []
  const statuses: Record<number, number> = {}
  let before = await options.snapshot()
  for (let n = 0; n < options.cases; n++) {
    const request = fuzzRequest(random, options.targets, {repos: options.repos})
    const extra = options.authorize && random() < 0.8 ? await options.authorize(request) : {}
    let response: RawResponse
    try {
      response = await send(options.url, request, extra)
    } catch (error) {
      problems.push(`case ${n} (seed ${seed}): the request failed: ${String(error)}: ${request.label}`)
      continue
    }
    statuses[response.status] = (statuses[response.status] ?? 0) + 1
    const where = `${options.name} case ${n} (DEVFLOW_FUZZ_SEED=${seed}): ${request.label} -> ${response.status} ${response.text.slice(0, 300)}`
    if (response.status >= 500) problems.push(`a 5xx: ${where}`)
    const after = await options.snapshot()
    if (response.status >= 400) {
      if (after !== before) problems.push(`a refused request changed a record: ${where}`)
      if (!isErrorBody(response)) problems.push(`a refusal without an error body: ${where}`)
    }
    before = after
  }
  if (process.env.DEVFLOW_FUZZ_VERBOSE) console.log(options.name, JSON.stringify(statuses))
  return {problems, statuses}
}

function isErrorBody(response: RawResponse): boolean {
  try {
    const body = JSON.parse(response.text) as {error?: {code?: unknown; message?: unknown; hint?: unknown}; message?: unknown}
    // API Gateway's own refusals (the SigV4 gate of api serve) carry only a message, as on AWS.
    if (response.headers['x-amzn-errortype']) return typeof body.message === 'string'
    return typeof body.error?.code === 'string' && typeof body.error.message === 'string' && typeof body.error.hint === 'string'
  } catch {
    return false
  }
}

describe('fuzz: every route of api serve and of the local server under hostile input', function () {
  this.timeout(120_000)

  describe('devflow api serve (SigV4-checked, on moto)', () => {
    const platform = usePlatform({api: 'cli'})
    const targets = {sessionIds: [] as string[], promptIds: [] as string[], agentTokens: [] as string[], nextTokens: [] as string[]}

    const signed = async (method: string, path: string, body?: string) => {
      const url = new URL(`${platform.api.url}${path}`)
      return signRequest({method, url, headers: {'content-type': 'application/json'}, body}, CREDENTIALS, TEST_REGION)
    }
    const call = async (method: string, path: string, body?: unknown) => {
      const text = body === undefined ? undefined : JSON.stringify(body)
      const response = await fetch(`${platform.api.url}${path}`, {method, headers: await signed(method, path, text), body: text})
      return (await response.json()) as Record<string, unknown>
    }

    before(async () => {
      const {agent} = platform
      for (let i = 0; i < 2; i++) {
        const session = await call('POST', '/sessions', {repo: REPO})
        const token = await agent.token(String(session.id), String(session.taskArn))
        await agent.heartbeat(String(session.id), token)
        targets.sessionIds.push(String(session.id))
        targets.agentTokens.push(token)
      }
      for (const text of ['first', 'second']) targets.promptIds.push(String((await call('POST', `/sessions/${targets.sessionIds[0]}/prompts`, {text})).id))
      await agent.call(targets.agentTokens[0], 'GET', `/agent/sessions/${targets.sessionIds[0]}/prompts/next?wait=0`)
      targets.nextTokens.push(String((await call('GET', '/sessions?limit=1')).nextToken))
    })

    it('answers no 5xx and changes nothing when it refuses', async () => {
      const snapshot = async () => {
        const tables = await Promise.all((['sessions', 'prompts', 'events'] as const).map((t) => platform.scan(t)))
        const tasks = await platform.ecs.send(new ListTasksCommand({cluster: CLUSTER, desiredStatus: 'RUNNING'}))
        return JSON.stringify([...tables.map((items) => items.map((i) => JSON.stringify(i)).sort()), (tasks.taskArns ?? []).sort()])
      }
      const outcome = await fuzz({
        name: 'api serve',
        cases: fuzzCases(80),
        targets,
        repos: [REPO, 'octo/not-installed'],
        url: platform.api.url,
        snapshot,
        authorize: (request) => signed(request.method, request.path, request.body?.toString('utf8')),
      })
      expect(outcome.problems, outcome.problems.join('\n')).to.deep.equal([])
      // The cases reached the handlers, not only the gate: successes and refusals of several kinds.
      expect(Object.keys(outcome.statuses).length, JSON.stringify(outcome.statuses)).to.be.greaterThan(3)
    })
  })

  describe('the local server (devflow local up)', () => {
    let local: LocalPlatform
    let url: string
    let token: string
    const targets = {sessionIds: [] as string[], promptIds: [] as string[], agentTokens: [] as string[], nextTokens: [] as string[]}
    const dataDir = () => local.dataDir

    const call = async (method: string, path: string, body?: unknown) => (await local.call<Record<string, unknown>>(method, path, body)).body

    before(async () => {
      local = await startLocalPlatform({prefix: 'devflow-fuzz-', failingGh: true, env: {POLL_WAIT_SECONDS: '1'}})
      const {dir} = local
      url = local.url.replace(/\/$/, '')
      token = await local.token()
      // A configured webhook route, as on api serve: hostile deliveries meet the signature check.
      await writeFile(join(dir, 'webhook-secret'), 'fuzz-webhook-secret-0123456789\n')
      const secret = await local.run(['secrets', 'set', 'github-app', '--webhook-secret-file', join(dir, 'webhook-secret'), '--stage', 'local'])
      expect(secret.exitCode, secret.stdout + secret.stderr).to.equal(0)
      const bare = join(dir, 'app.git')
      execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare])
      // Ended sessions only: a running agent writes heartbeats, which would look like a refused request's change.
      for (let i = 0; i < 2; i++) {
        const session = await call('POST', '/sessions', {repo: bare})
        targets.sessionIds.push(String(session.id))
        targets.promptIds.push(String((await call('POST', `/sessions/${String(session.id)}/prompts`, {text: 'hello'})).id))
        await call('DELETE', `/sessions/${String(session.id)}`)
      }
      targets.nextTokens.push(String((await call('GET', '/sessions?limit=1')).nextToken))
    })
    after(async () => {
      await local?.stop()
    })

    it('answers no 5xx and changes nothing when it refuses', async () => {
      const snapshot = async () => {
        const db = new Database(join(dataDir(), 'devflow.db'), {readonly: true, fileMustExist: true})
        try {
          const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {name: string}[]
          return JSON.stringify(tables.map(({name}) => db.prepare(`SELECT * FROM "${name}"`).all().map((row) => JSON.stringify(row)).sort()))
        } finally {
          db.close()
        }
      }
      const outcome = await fuzz({
        name: 'local server',
        cases: fuzzCases(80),
        targets,
        // No absolute paths: the local server would import them as repositories.
        repos: ['local/app', 'octo/hello', './relative'],
        url,
        snapshot,
        authorize: async () => ({authorization: `Bearer ${token}`}),
      })
      expect(outcome.problems, outcome.problems.join('\n')).to.deep.equal([])
      expect(Object.keys(outcome.statuses).length, JSON.stringify(outcome.statuses)).to.be.greaterThan(3)
    })
  })
})
