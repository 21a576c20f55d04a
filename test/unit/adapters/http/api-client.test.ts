import {expect} from 'chai'

import {HttpSessionApi} from '../../../../src/adapters/http/api-client.js'
import {bearerAuthorizer, sigV4Authorizer} from '../../../../src/adapters/http/authorizers.js'
import type {Session} from '../../../../src/core/models.js'
import {rejection} from '../../../helpers/assertions.js'
import {type Reply, type SignedApiServer, startSignedApiServer} from '../../../helpers/signed-api-server.js'

const caller = {userId: 'ignored-by-the-client'}
const keys = {accessKeyId: 'AKIDCLIENT', secretAccessKey: 'client-secret'}
const session: Session = {
  id: 's-abcdefghijklmnopqrst',
  userId: 'arn:aws:iam::123456789012:user/dev',
  repo: 'octo/hello',
  branch: 'main',
  status: 'PROVISIONING',
  capacity: 'FARGATE_SPOT',
  cpu: 1024,
  memory: 4096,
  createdAt: '2026-01-01T10:00:00.000Z',
  updatedAt: '2026-01-01T10:00:00.000Z',
  expiresAt: '2026-01-01T14:00:00.000Z',
  idleTimeout: '30m',
  cost: {computeUsd: 0.01, agentUsd: 0.02, totalUsd: 0.03},
}

describe('HttpSessionApi over a SigV4-checking server', () => {
  let server: SignedApiServer
  let reply: (path: string, method: string) => Reply

  before(async () => {
    server = await startSignedApiServer({[keys.accessKeyId]: keys.secretAccessKey}, (request) => reply(request.url, request.method))
  })
  after(() => server.close())
  beforeEach(() => {
    server.requests.length = 0
  })

  const api = (credentials = keys) => new HttpSessionApi({endpoint: server.url, authorizer: sigV4Authorizer({credentials: async () => credentials})})

  it('starts a session with a signed POST under the stage path, and tells created from repeated', async () => {
    reply = () => ({status: 201, body: session})
    const started = await api().start(caller, {repo: 'octo/hello', ttl: '4h'})
    expect(started).to.deep.equal({session, created: true})
    const [request] = server.requests
    expect(request).to.include({method: 'POST', url: '/prod/sessions', accessKeyId: 'AKIDCLIENT'})
    expect(JSON.parse(request.body)).to.deep.equal({repo: 'octo/hello', ttl: '4h'})
    reply = () => ({status: 200, body: session})
    expect((await api().start(caller, {repo: 'octo/hello', idempotencyKey: 'k1'})).created).to.equal(false)
  })

  it('signs query strings and reads pages', async () => {
    reply = () => ({status: 200, body: {items: [session], nextToken: 'next-1'}})
    const page = await api().list(caller, {limit: 5, status: 'RUNNING', nextToken: 'tok/+='})
    expect(page).to.deep.equal({items: [session], nextToken: 'next-1'})
    expect(server.requests[0].url).to.equal('/prod/sessions?limit=5&nextToken=tok%2F%2B%3D&status=RUNNING')
    reply = () => ({status: 200, body: {items: [{seq: 1, type: 'progress', text: 'hi', at: '2026-01-01T10:00:00.000Z'}]}})
    const events = await api().promptEvents(caller, session.id, 'p-abcdefghijklmnopqrst', 3)
    expect(events.items[0].text).to.equal('hi')
    expect(server.requests[1].url).to.equal(`/prod/sessions/${session.id}/prompts/p-abcdefghijklmnopqrst/events?after=3`)
    expect(events).not.to.have.property('status')
  })

  it('long-polls the events with a signed wait, and reads the prompt status the page carries', async () => {
    reply = () => ({status: 200, body: {items: [], status: 'SUCCEEDED'}})
    const page = await api().promptEvents(caller, session.id, 'p-abcdefghijklmnopqrst', 7, {waitSeconds: 20})
    expect(page).to.deep.equal({items: [], status: 'SUCCEEDED'})
    expect(server.requests[0].url).to.equal(`/prod/sessions/${session.id}/prompts/p-abcdefghijklmnopqrst/events?after=7&wait=20`)
    // A status the client does not know is left out rather than trusted.
    reply = () => ({status: 200, body: {items: [], status: 'SLEEPING'}})
    expect(await api().promptEvents(caller, session.id, 'p-abcdefghijklmnopqrst', 7, {waitSeconds: 0})).to.deep.equal({items: []})
    expect(server.requests[1].url).to.equal(`/prod/sessions/${session.id}/prompts/p-abcdefghijklmnopqrst/events?after=7`)
  })

  it('lists every user\'s sessions at the admins\' route, reads the repository choices, and passes a 403 on as exit 4', async () => {
    reply = () => ({status: 200, body: {items: [session]}})
    expect(await api().list(caller, {all: true, status: 'RUNNING', limit: 10})).to.deep.equal({items: [session]})
    expect(server.requests[0].url).to.equal('/prod/admin/sessions?limit=10&status=RUNNING')
    reply = () => ({status: 200, body: {items: ['octo/app', 'octo/*'], any: false}})
    expect(await api().repositories(caller)).to.deep.equal({items: ['octo/app', 'octo/*'], any: false})
    expect(server.requests[1]).to.include({method: 'GET', url: '/prod/repositories'})
    reply = () => ({status: 403, body: {error: {code: 'ADMIN_ONLY', message: 'Only an admin of this stage can list every user\'s sessions.', hint: 'Assume the operator role.'}}})
    const refused = await rejection(api().list(caller, {all: true}))
    expect([refused.code, refused.exitCode]).to.deep.equal(['ADMIN_ONLY', 4])
    reply = () => ({status: 200, body: {items: 'octo/app'}})
    expect((await rejection(api().repositories(caller))).exitCode).to.equal(7)
  })

  it('turns an API error body into the same DevflowError, kind from the status', async () => {
    reply = () => ({status: 404, body: {error: {code: 'SESSION_NOT_FOUND', message: 'No session s-x.', hint: 'Run devflow session list.'}}})
    const notFound = await rejection(api().get(caller, session.id))
    expect(notFound).to.include({code: 'SESSION_NOT_FOUND', message: 'No session s-x.', hint: 'Run devflow session list.'})
    expect(notFound.exitCode).to.equal(3)
    reply = () => ({status: 409, body: {error: {code: 'SESSION_WRONG_STATE', message: 'Stopped.', hint: 'Start one.'}}})
    expect((await rejection(api().enqueuePrompt(caller, session.id, {text: 'x'}))).exitCode).to.equal(5)
    reply = () => ({status: 502, body: {message: 'Internal server error'}})
    const gateway = await rejection(api().get(caller, session.id))
    expect(gateway.code).to.equal('API_ERROR')
    expect(gateway.exitCode).to.equal(7)
  })

  it('reports a wrongly signed request as an authentication failure (exit 4)', async () => {
    reply = () => ({status: 200, body: session})
    const wrongSecret = await rejection(api({...keys, secretAccessKey: 'wrong'}).get(caller, session.id))
    expect(wrongSecret.code).to.equal('AWS_CREDENTIALS_INVALID')
    expect(wrongSecret.exitCode).to.equal(4)
    expect(server.requests[0].rejected).to.equal('INVALID_SIGNATURE')
    const unknown = await rejection(api({accessKeyId: 'AKIDOTHER', secretAccessKey: 'x'}).get(caller, session.id))
    expect(unknown.exitCode).to.equal(4)
  })

  it('refuses expired credentials before sending anything', async () => {
    const expired = await rejection(
      new HttpSessionApi({endpoint: server.url, authorizer: sigV4Authorizer({credentials: async () => ({...keys, expiration: new Date(Date.now() - 1000)})})}).health(),
    )
    expect(expired.code).to.equal('AWS_CREDENTIALS_EXPIRED')
    expect(server.requests).to.have.length(0)
  })

  it('names an unreachable endpoint (exit 7) and a response it cannot read', async () => {
    const unreachable = await rejection(new HttpSessionApi({endpoint: 'http://127.0.0.1:9/', authorizer: bearerAuthorizer('t')}).health())
    expect(unreachable.code).to.equal('API_UNREACHABLE')
    expect(unreachable.exitCode).to.equal(7)
    expect(unreachable.hint).to.match(/--endpoint/)
    reply = () => ({status: 200, body: {id: 'only-an-id'}})
    expect((await rejection(api().get(caller, session.id))).code).to.equal('API_BAD_RESPONSE')
  })

  it('sends the local token as a bearer token', async () => {
    const {createServer} = await import('node:http')
    let seen: string | undefined
    const local = createServer((req, res) => {
      seen = req.headers.authorization
      res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({status: 'ok', version: '1', checks: {}}))
    })
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve))
    const {port} = local.address() as {port: number}
    try {
      const health = await new HttpSessionApi({endpoint: `http://127.0.0.1:${port}`, authorizer: bearerAuthorizer('local-token')}).health()
      expect(health.status).to.equal('ok')
      expect(seen).to.equal('Bearer local-token')
    } finally {
      local.close()
    }
  })
})
