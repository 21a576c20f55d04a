import type {APIGatewayProxyEvent} from 'aws-lambda'
import {expect} from 'chai'

import {startHttpServer} from '../../../src/api/http-server.js'
import {createApiRouter} from '../../../src/api/router.js'
import {sigV4Identity} from '../../../src/api/serve.js'
import {awsErrorTranslator} from '../../../src/composition/aws.js'
import {notFound} from '../../../src/core/errors.js'
import type {CoreServices} from '../../../src/core/services/index.js'
import type {Caller} from '../../../src/core/session-api.js'
import {ROUTES} from '../../../src/api/routes.js'

/** Services that record the caller and answer from a script; only the router is under test. */
function scriptedServices(answers: {get?: () => Promise<unknown>; claim?: () => Promise<unknown>} = {}) {
  const callers: Caller[] = []
  const services = {
    sessions: {
      get: async (caller: Caller) => {
        callers.push(caller)
        return (answers.get ?? (async () => ({id: 's-aaaaaaaaaaaaaaaaaaaa'})))()
      },
      start: async (caller: Caller) => {
        callers.push(caller)
        return {session: {id: 's-aaaaaaaaaaaaaaaaaaaa'}, created: true}
      },
    },
    agent: {
      authenticate: async (_id: string, token: string | undefined) => {
        if (token !== 'good') throw new Error('not reached in these tests')
      },
      claimNext: async () => (answers.claim ?? (async () => undefined))(),
    },
    reapSessions: async () => ({checked: 0, stopped: [], reconciled: 0, failures: []}),
  } as unknown as CoreServices
  return {services, callers}
}

/** The resource API Gateway matches a path to, with its path parameters. */
function restResource(path: string): {resource: string; pathParameters: Record<string, string> | null} {
  for (const route of ROUTES) {
    const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])
    const match = new RegExp(`^${route.path.replace(/\{\w+\}/g, '([^/]+)')}$`).exec(path)
    if (match) return {resource: route.path, pathParameters: names.length > 0 ? Object.fromEntries(names.map((n, i) => [n, match[i + 1]])) : null}
  }
  return {resource: path, pathParameters: null}
}

/** A REST API proxy event as API Gateway sends it on the execute-api domain, stage prod. */
function event(method: string, path: string, extra: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path,
    ...restResource(path),
    headers: {},
    body: null,
    isBase64Encoded: false,
    queryStringParameters: null,
    requestContext: {requestId: 'req-1', identity: {userArn: 'arn:aws:iam::123456789012:user/alice'}, domainName: 'abc.execute-api.us-east-1.amazonaws.com', stage: 'prod', path: `/prod${path}`},
    ...extra,
  } as unknown as APIGatewayProxyEvent
}

describe('api router', () => {
  it('passes the IAM identity and the stage URL to the services', async () => {
    const {services, callers} = scriptedServices()
    const response = await createApiRouter(services).handle(event('POST', '/sessions', {body: '{"repo":"octo/hello"}'}))
    expect(response.statusCode).to.equal(201)
    expect(response.headers?.['x-request-id']).to.equal('req-1')
    expect(callers[0]).to.deep.equal({userId: 'arn:aws:iam::123456789012:user/alice', apiBaseUrl: 'https://abc.execute-api.us-east-1.amazonaws.com/prod'})
  })

  it('routes on the resource behind a custom domain\'s base path, and calls the agent back there', async () => {
    const {services, callers} = scriptedServices()
    const response = await createApiRouter(services).handle(
      event('POST', '/devflow/sessions', {
        resource: '/sessions',
        pathParameters: null,
        body: '{"repo":"octo/hello"}',
        requestContext: {requestId: 'r', identity: {userArn: 'alice'}, domainName: 'api.example.com', stage: 'prod', path: '/devflow/sessions'},
      } as never),
    )
    expect(response.statusCode).to.equal(201)
    expect(callers[0].apiBaseUrl).to.equal('https://api.example.com/devflow')
    const read = await createApiRouter(services).handle(
      event('GET', '/devflow/sessions/s-aaaaaaaaaaaaaaaaaaaa', {
        resource: '/sessions/{id}',
        pathParameters: {id: 's-aaaaaaaaaaaaaaaaaaaa'},
        requestContext: {requestId: 'r', identity: {userArn: 'alice'}, domainName: 'api.example.com', stage: 'prod', path: '/devflow/sessions/s-aaaaaaaaaaaaaaaaaaaa'},
      } as never),
    )
    expect(read.statusCode).to.equal(200)
  })

  it('answers 401 without an identity, 404 for an unknown route and 405 with Allow for a wrong method', async () => {
    const router = createApiRouter(scriptedServices().services)
    const anonymous = await router.handle(event('GET', '/sessions/s-aaaaaaaaaaaaaaaaaaaa', {requestContext: {requestId: 'r', identity: {}}} as never))
    expect(anonymous.statusCode).to.equal(401)
    expect(JSON.parse(anonymous.body).error.code).to.equal('UNAUTHENTICATED')
    const unknown = await router.handle(event('GET', '/nope'))
    expect([unknown.statusCode, JSON.parse(unknown.body).error.code]).to.deep.equal([404, 'ROUTE_NOT_FOUND'])
    const wrong = await router.handle(event('PATCH', '/sessions/s-aaaaaaaaaaaaaaaaaaaa'))
    expect(wrong.statusCode).to.equal(405)
    expect(wrong.headers?.allow).to.equal('GET, DELETE')
  })

  it('maps DevflowErrors to their status and hides the text of unexpected errors', async () => {
    const logged: Array<Record<string, unknown> | undefined> = []
    const logger = {info() {}, warn() {}, error: (_m: string, extra?: Record<string, unknown>) => logged.push(extra)}
    const missing = scriptedServices({get: async () => Promise.reject(notFound('SESSION_NOT_FOUND', 'gone', 'look elsewhere'))})
    const response = await createApiRouter(missing.services, {logger}).handle(event('GET', '/sessions/s-aaaaaaaaaaaaaaaaaaaa'))
    expect(response.statusCode).to.equal(404)
    expect(JSON.parse(response.body)).to.deep.equal({error: {code: 'SESSION_NOT_FOUND', message: 'gone', hint: 'look elsewhere'}})

    const broken = scriptedServices({get: async () => Promise.reject(new TypeError('secret internals'))})
    const crash = await createApiRouter(broken.services, {logger}).handle(event('GET', '/sessions/s-aaaaaaaaaaaaaaaaaaaa'))
    expect(crash.statusCode).to.equal(500)
    expect(JSON.parse(crash.body).error.code).to.equal('INTERNAL_ERROR')
    expect(crash.body).not.to.include('secret internals')
    expect(logged).to.have.length(1)

    const throttled = scriptedServices({get: async () => Promise.reject(Object.assign(new Error('slow down'), {name: 'ThrottlingException', $metadata: {httpStatusCode: 400}}))})
    const busy = await createApiRouter(throttled.services, {translateError: awsErrorTranslator}).handle(event('GET', '/sessions/s-aaaaaaaaaaaaaaaaaaaa'))
    expect([busy.statusCode, JSON.parse(busy.body).error.code]).to.deep.equal([503, 'AWS_THROTTLED'])
  })

  it('answers 204 with an empty body when the long poll found no prompt', async () => {
    const router = createApiRouter(scriptedServices().services)
    const response = await router.handle(
      event('GET', '/agent/sessions/s-aaaaaaaaaaaaaaaaaaaa/prompts/next', {headers: {Authorization: 'Bearer good'}, queryStringParameters: {wait: '0'}}),
    )
    expect(response.statusCode).to.equal(204)
    expect(response.body).to.equal('')
  })
})

describe('api http server', () => {
  it('refuses a body over the limit with 413 and a port in use with PORT_IN_USE', async () => {
    const router = createApiRouter(scriptedServices().services)
    const server = await startHttpServer({router, host: '127.0.0.1', port: 0, identify: async () => ({userArn: 'alice'})})
    try {
      const big = await fetch(`${server.url}/sessions`, {method: 'POST', body: 'x'.repeat(300 * 1024)})
      expect(big.status).to.equal(413)
      expect(((await big.json()) as {error: {code: string}}).error.code).to.equal('BODY_TOO_LARGE')
      const second = await startHttpServer({router, host: '127.0.0.1', port: server.port, identify: async () => undefined}).then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(second).to.include({code: 'PORT_IN_USE', kind: 'conflict'})
    } finally {
      await server.close()
    }
  })

  it('reads the caller from a SigV4 Authorization header', () => {
    expect(sigV4Identity({headers: {authorization: 'AWS4-HMAC-SHA256 Credential=AKIAXYZ/20261129/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=1'}})).to.deep.equal({
      userArn: 'access-key/AKIAXYZ',
      accessKey: 'AKIAXYZ',
    })
    expect(sigV4Identity({headers: {authorization: 'Bearer x'}})).to.equal(undefined)
    expect(sigV4Identity({headers: {}})).to.equal(undefined)
  })
})
