import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {expect} from 'chai'

import {HttpSessionApi} from '../../../src/adapters/http/api-client.js'
import {sigV4Authorizer} from '../../../src/adapters/http/authorizers.js'
import {ConfigFile} from '../../../src/cli/config.js'
import {listSessions, readPromptText} from '../../../src/cli/session-actions.js'
import {openSessionClient, type SessionClientContext, sessionModeFor} from '../../../src/cli/session-client.js'
import type {SessionApi} from '../../../src/core/session-api.js'
import {rejection} from '../../helpers/assertions.js'
import {sampleSession} from '../../helpers/sample-session.js'
import {startSignedApiServer} from '../../helpers/signed-api-server.js'

describe('cli/session-client: mode selection', () => {
  let dir: string
  let config: ConfigFile
  const adminCalls: unknown[] = []
  const context = (overrides: Partial<SessionClientContext> = {}): SessionClientContext => ({
    admin: false,
    stage: 'dev',
    config,
    aws: {},
    userAgent: 'test',
    async adminApi(aws, deployment) {
      adminCalls.push({aws, deployment})
      return {api: {} as SessionApi, caller: {userId: 'arn:aws:iam::1:user/op', admin: true}}
    },
    ...overrides,
  })

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'devflow-client-'))
    config = await ConfigFile.load(join(dir, 'config.json'))
    adminCalls.length = 0
  })
  afterEach(() => rm(dir, {recursive: true, force: true}))

  it('picks admin for --admin, local for a stage with a local section, api otherwise', () => {
    config.setStageData('local', 'local', {tokenFile: '/x', apiUrl: 'http://127.0.0.1:8787/'})
    expect(sessionModeFor(true, config, 'local')).to.equal('admin')
    expect(sessionModeFor(false, config, 'local')).to.equal('local')
    expect(sessionModeFor(false, config, 'dev')).to.equal('api')
  })

  it('admin mode hands the saved deployment to the core services, as the operator', async () => {
    config.setStageData('dev', 'deployment', {cluster: 'c'})
    const client = await openSessionClient(context({admin: true, aws: {region: 'eu-west-1'}}))
    expect(client.mode).to.equal('admin')
    expect(client.caller).to.deep.equal({userId: 'arn:aws:iam::1:user/op', admin: true})
    expect(adminCalls).to.deep.equal([{aws: {region: 'eu-west-1'}, deployment: {cluster: 'c'}}])
  })

  it('api mode: --endpoint wins over the saved deployment\'s apiUrl', async () => {
    config.setStageData('dev', 'deployment', {apiUrl: 'https://saved.example/prod/'})
    expect((await openSessionClient(context())).endpoint).to.equal('https://saved.example/prod/')
    expect((await openSessionClient(context({endpoint: 'https://flag.example/'}))).endpoint).to.equal('https://flag.example/')
  })

  it('local mode reads the token file; a missing one is exit 4 with `devflow local up` as the hint', async () => {
    const tokenFile = join(dir, 'token')
    await writeFile(tokenFile, 'secret\n')
    config.setStageData('local', 'local', {tokenFile, apiUrl: 'http://127.0.0.1:8787/'})
    const client = await openSessionClient(context({stage: 'local'}))
    expect(client).to.include({mode: 'local', endpoint: 'http://127.0.0.1:8787/'})
    config.setStageData('local', 'local', {tokenFile: join(dir, 'gone'), apiUrl: 'http://127.0.0.1:8787/'})
    const error = await rejection(openSessionClient(context({stage: 'local'})))
    expect(error.code).to.equal('LOCAL_TOKEN_UNREADABLE')
    expect(error.exitCode).to.equal(4)
    expect(error.hint).to.include('devflow local up')
  })

  it('without an endpoint or a region, says to deploy or pass --endpoint without calling AWS', async () => {
    const saved = {AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION}
    delete process.env.AWS_REGION
    delete process.env.AWS_DEFAULT_REGION
    try {
      const error = await rejection(openSessionClient(context()))
      expect(error.code).to.equal('ENDPOINT_UNKNOWN')
      expect(error.hint).to.include('devflow deploy --stage dev')
    } finally {
      Object.assign(process.env, Object.fromEntries(Object.entries(saved).filter(([, v]) => v !== undefined)))
    }
  })
})

describe('cli/session-actions', () => {
  it('pages through every session, or stops at --limit and keeps the token', async () => {
    const all = Array.from({length: 250}, (_, i) => sampleSession({id: `session-${i}`}))
    const server = await startSignedApiServer({AKID: 'secret'}, (request) => {
      const url = new URL(request.url, 'http://x')
      const offset = Number(url.searchParams.get('nextToken') ?? 0)
      const limit = Number(url.searchParams.get('limit'))
      const items = all.slice(offset, offset + limit)
      return {status: 200, body: offset + limit < all.length ? {items, nextToken: String(offset + limit)} : {items}}
    })
    try {
      const api = new HttpSessionApi({endpoint: server.url, authorizer: sigV4Authorizer({credentials: async () => ({accessKeyId: 'AKID', secretAccessKey: 'secret'})})})
      const client = {mode: 'api' as const, api, caller: {userId: 'self'}}
      const everything = await listSessions(client, {})
      expect(everything.items).to.have.length(250)
      expect(everything.nextToken).to.equal(undefined)
      expect(server.requests.map((r) => r.url)).to.deep.equal(['/prod/sessions?limit=100', '/prod/sessions?limit=100&nextToken=100', '/prod/sessions?limit=100&nextToken=200'])
      const some = await listSessions(client, {limit: 120})
      expect(some.items.map((s) => s.id)).to.deep.equal(all.slice(0, 120).map((s) => s.id))
      expect(some.nextToken).to.equal('120')
    } finally {
      await server.close()
    }
  })

  it('reads the prompt from exactly one source and never waits on a terminal', async () => {
    const terminal = {isTTY: true} as NodeJS.ReadStream
    expect(await readPromptText({text: 'hi', stdin: terminal})).to.equal('hi')
    expect((await rejection(readPromptText({text: 'a', file: 'b', stdin: terminal}))).code).to.equal('PROMPT_SOURCES')
    expect((await rejection(readPromptText({stdin: terminal}))).code).to.equal('PROMPT_MISSING')
  })
})
