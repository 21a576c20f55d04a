import type {APIGatewayProxyEvent} from 'aws-lambda'
import {expect} from 'chai'

import {sigV4PrincipalsFromEnv, withSigV4Verification} from '../../../../src/adapters/http/sigv4-gate.js'
import {signRequest} from '../../../../src/adapters/http/sigv4.js'
import {DevflowError} from '../../../../src/core/errors.js'

const principals = {AKIDALICE: {secretAccessKey: 'alice-secret', userArn: 'arn:aws:iam::123456789012:user/alice'}}

async function event(method: string, target: string, options: {body?: string; secret?: string; sign?: boolean} = {}): Promise<APIGatewayProxyEvent> {
  const url = new URL(target, 'http://127.0.0.1:8787')
  const headers =
    options.sign === false
      ? {host: url.host}
      : await signRequest({method, url, headers: {'content-type': 'application/json'}, body: options.body}, {accessKeyId: 'AKIDALICE', secretAccessKey: options.secret ?? 'alice-secret'}, 'us-east-1')
  const query: Record<string, string[]> = {}
  for (const [name, value] of url.searchParams) query[name] = [...(query[name] ?? []), value]
  return {
    httpMethod: method,
    path: url.pathname,
    headers,
    multiValueQueryStringParameters: Object.keys(query).length > 0 ? query : null,
    body: options.body ?? null,
    requestContext: {identity: {userArn: null}},
  } as unknown as APIGatewayProxyEvent
}

describe('adapters/http/sigv4-gate: API Gateway AWS_IAM auth for api serve', () => {
  const seen: APIGatewayProxyEvent[] = []
  const router = {
    async handle(e: APIGatewayProxyEvent) {
      seen.push(e)
      return {statusCode: 200, body: '{}'}
    },
  }
  const gated = withSigV4Verification(router, principals)
  beforeEach(() => {
    seen.length = 0
  })

  it('passes a correctly signed request on as the principal', async () => {
    const response = await gated.handle(await event('POST', '/sessions?x=a%20b', {body: '{"repo":"o/r"}'}))
    expect(response.statusCode).to.equal(200)
    expect(seen[0].requestContext.identity).to.include({userArn: 'arn:aws:iam::123456789012:user/alice', accessKey: 'AKIDALICE'})
  })

  it('answers 403 with x-amzn-ErrorType, as API Gateway does, and never calls the router', async () => {
    const wrong = await gated.handle(await event('GET', '/sessions', {secret: 'guess'}))
    expect(wrong.statusCode).to.equal(403)
    expect(wrong.headers).to.include({'x-amzn-ErrorType': 'InvalidSignatureException'})
    const tampered = await event('POST', '/sessions', {body: '{"repo":"o/r"}'})
    expect((await gated.handle({...tampered, body: '{"repo":"o/x"}'})).statusCode).to.equal(403)
    const unsigned = await gated.handle(await event('GET', '/sessions', {sign: false}))
    expect(unsigned.headers).to.include({'x-amzn-ErrorType': 'MissingAuthenticationTokenException'})
    expect(seen).to.have.length(0)
  })

  it('lets the agent routes through to their bearer-token check', async () => {
    expect((await gated.handle(await event('GET', '/agent/sessions/s-x/prompts/next', {sign: false}))).statusCode).to.equal(200)
  })

  it('reads the principals from DEVFLOW_API_SIGV4_PRINCIPALS and refuses a malformed value', () => {
    expect(sigV4PrincipalsFromEnv({})).to.equal(undefined)
    expect(sigV4PrincipalsFromEnv({DEVFLOW_API_SIGV4_PRINCIPALS: JSON.stringify(principals)})).to.deep.equal(principals)
    expect(() => sigV4PrincipalsFromEnv({DEVFLOW_API_SIGV4_PRINCIPALS: '{"AKID": "secret"}'})).to.throw(DevflowError)
    expect(() => sigV4PrincipalsFromEnv({DEVFLOW_API_SIGV4_PRINCIPALS: 'nope'})).to.throw(DevflowError)
  })
})
