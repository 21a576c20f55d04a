/**
 * The console's callers on AWS at the router: REST proxy events shaped as API Gateway sends them
 * through a Cognito user-pool authorizer (the verified ID token's claims under
 * requestContext.authorizer.claims, an identity without an IAM user), over the real core services
 * on moto. The owner is `cognito:<sub>`; another subject neither sees nor stops the session. A
 * member of the `devflow-admins` group (the `cognito:groups` claim) lists every user's sessions at
 * GET /admin/sessions, as a session of the operator role does through AWS_IAM; anyone else gets 403.
 */
import {GetItemCommand} from '@aws-sdk/client-dynamodb'
import type {APIGatewayProxyEvent} from 'aws-lambda'
import {expect} from 'chai'

import {withConsoleCors} from '../../../src/api/console-cors.js'
import {type ApiRouter, createApiRouter} from '../../../src/api/router.js'
import {awsErrorTranslator} from '../../../src/composition/aws.js'
import {restEvent} from '../../helpers/lambda-bundles.js'
import {REPO, TABLES, usePlatform} from '../../helpers/platform-fixture.js'

const ALICE = '7c1f3e0a-5b2d-4c8e-9f61-2a4b6c8d0e1f'
const BOB = 'e2d4f6a8-1b3c-4d5e-8f70-9a1b2c3d4e5f'
const OPERATOR = '0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d'
const OPERATOR_SESSION = 'arn:aws:sts::123456789012:assumed-role/devflow-dev-operator/ops@example.com'
const DEVELOPER_SESSION = 'arn:aws:sts::123456789012:assumed-role/devflow-dev-developer/dev@example.com'
const CONSOLE_ORIGIN = 'https://d111111abcdef8.cloudfront.net'

/** What API Gateway passes a proxy integration behind a COGNITO_USER_POOLS authorizer. */
function cognitoEvent(method: string, path: string, resource: string, sub: string, body?: unknown, groups?: string): APIGatewayProxyEvent {
  const pathParameters = /\/sessions\/(?<id>[^/]+)/.exec(path)?.groups ?? null
  return {
    resource,
    path,
    httpMethod: method,
    headers: {Authorization: 'eyJraWQiOi...', Host: 'abc123.execute-api.eu-west-1.amazonaws.com', Origin: CONSOLE_ORIGIN, 'X-Forwarded-Proto': 'https'},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters,
    stageVariables: null,
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      resourceId: 'abc123',
      resourcePath: resource,
      httpMethod: method,
      extendedRequestId: 'Xyz=',
      requestTime: '01/Dec/2026:20:00:00 +0000',
      path: `/dev${path}`,
      accountId: '123456789012',
      protocol: 'HTTP/1.1',
      stage: 'dev',
      domainPrefix: 'abc123',
      requestTimeEpoch: Date.now(),
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      apiId: 'abc123',
      authorizer: {
        claims: {
          sub,
          aud: '4example0client0id',
          email_verified: 'true',
          event_id: 'd1b4bd5d-0000-4000-8000-000000000000',
          token_use: 'id',
          auth_time: '1764619200',
          iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example',
          'cognito:username': sub,
          exp: 'Tue Dec 01 21:00:00 UTC 2026',
          iat: 'Tue Dec 01 20:00:00 UTC 2026',
          email: `${sub.slice(0, 4)}@example.com`,
          // A REST API's authorizer passes the groups as one string, comma-separated.
          ...(groups === undefined ? {} : {'cognito:groups': groups}),
        },
      },
      identity: {
        cognitoIdentityPoolId: null,
        accountId: null,
        cognitoIdentityId: null,
        caller: null,
        sourceIp: '203.0.113.7',
        principalOrgId: null,
        accessKey: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: null,
        userAgent: 'Mozilla/5.0',
        user: null,
        apiKey: null,
        apiKeyId: null,
        clientCert: null,
      },
    },
  } as unknown as APIGatewayProxyEvent
}

describe('control plane: console callers through the Cognito authorizer', function () {
  this.timeout(60_000)
  const h = usePlatform()
  let router: ApiRouter

  before(() => {
    router = createApiRouter(h.services, {translateError: awsErrorTranslator})
  })

  it('owns what a console user starts by the Cognito subject, and shows it to that subject only', async () => {
    const started = await router.handle(cognitoEvent('POST', '/sessions', '/sessions', ALICE, {repo: REPO, ttl: '1h'}))
    expect(started.statusCode, started.body).to.equal(201)
    const session = JSON.parse(started.body) as {id: string; userId: string}
    expect(session.userId).to.equal(`cognito:${ALICE}`)
    const item = (await h.dynamo.send(new GetItemCommand({TableName: TABLES.sessions, Key: {session_id: {S: session.id}}}))).Item
    expect(item?.user_id?.S).to.equal(`cognito:${ALICE}`)

    const mine = JSON.parse((await router.handle(cognitoEvent('GET', '/sessions', '/sessions', ALICE))).body) as {items: {id: string}[]}
    expect(mine.items.map((s) => s.id)).to.deep.equal([session.id])
    const theirs = JSON.parse((await router.handle(cognitoEvent('GET', '/sessions', '/sessions', BOB))).body) as {items: unknown[]}
    expect(theirs.items).to.deep.equal([])

    for (const [method, path, resource] of [
      ['GET', `/sessions/${session.id}`, '/sessions/{id}'],
      ['DELETE', `/sessions/${session.id}`, '/sessions/{id}'],
      ['GET', `/sessions/${session.id}/prompts`, '/sessions/{id}/prompts'],
    ]) {
      const refused = await router.handle(cognitoEvent(method, path, resource, BOB))
      expect(refused.statusCode, `${method} ${path}`).to.equal(404)
      expect(JSON.parse(refused.body).error.code).to.equal('SESSION_NOT_FOUND')
    }
    const still = await h.dynamo.send(new GetItemCommand({TableName: TABLES.sessions, Key: {session_id: {S: session.id}}}))
    expect(still.Item?.status?.S).not.to.equal('STOPPED')

    const stopped = await router.handle(cognitoEvent('DELETE', `/sessions/${session.id}`, '/sessions/{id}', ALICE))
    expect(stopped.statusCode, stopped.body).to.equal(200)
    expect(JSON.parse(stopped.body).userId).to.equal(`cognito:${ALICE}`)
  })

  it('lists every user\'s sessions for the devflow-admins group and the operator role, and answers anyone else 403 ADMIN_ONLY', async () => {
    const alices = JSON.parse((await router.handle(cognitoEvent('POST', '/sessions', '/sessions', ALICE, {repo: REPO, ttl: '1h'}))).body) as {id: string}
    const developers = await router.handle(restEvent('POST', '/sessions', null, {userArn: DEVELOPER_SESSION, body: JSON.stringify({repo: REPO, ttl: '1h'})}))
    expect(developers.statusCode, developers.body).to.equal(201)
    const developersId = (JSON.parse(developers.body) as {id: string}).id

    const owners = (body: string) => new Map((JSON.parse(body) as {items: {id: string; userId: string}[]}).items.map((s) => [s.id, s.userId]))
    for (const [who, event] of [
      ['a console admin', cognitoEvent('GET', '/admin/sessions', '/admin/sessions', OPERATOR, undefined, 'readers,devflow-admins')],
      ['a console admin (one group)', cognitoEvent('GET', '/admin/sessions', '/admin/sessions', OPERATOR, undefined, 'devflow-admins')],
      ['the operator role', restEvent('GET', '/admin/sessions', null, {userArn: OPERATOR_SESSION})],
    ] as const) {
      const listed = await router.handle(event)
      expect(listed.statusCode, `${who}: ${listed.body}`).to.equal(200)
      const seen = owners(listed.body)
      expect(seen.get(alices.id), who).to.equal(`cognito:${ALICE}`)
      expect(seen.get(developersId), who).to.equal(DEVELOPER_SESSION)
    }
    const running = await router.handle({...restEvent('GET', '/admin/sessions', null, {userArn: OPERATOR_SESSION, query: {status: 'stopped'}})})
    expect([...owners(running.body).keys()]).not.to.include(alices.id)
    const badStatus = await router.handle(restEvent('GET', '/admin/sessions', null, {userArn: OPERATOR_SESSION, query: {status: 'asleep'}}))
    expect([badStatus.statusCode, JSON.parse(badStatus.body).error.code]).to.deep.equal([400, 'INVALID_STATUS'])

    for (const [who, event] of [
      ['a console user in no group', cognitoEvent('GET', '/admin/sessions', '/admin/sessions', BOB)],
      ['a console user in another group', cognitoEvent('GET', '/admin/sessions', '/admin/sessions', BOB, undefined, 'readers')],
      ['a developer', restEvent('GET', '/admin/sessions', null, {userArn: DEVELOPER_SESSION})],
      // Groups are read from the authorizer's claims only: a header saying so is nothing.
      ['a developer claiming the group', restEvent('GET', '/admin/sessions', null, {userArn: DEVELOPER_SESSION, headers: {'cognito:groups': 'devflow-admins'}})],
    ] as const) {
      const refused = await router.handle(event)
      expect(refused.statusCode, who).to.equal(403)
      const error = JSON.parse(refused.body).error as {code: string; hint: string}
      expect(error.code, who).to.equal('ADMIN_ONLY')
      expect(error.hint, who).to.include('devflow-admins').and.to.include('devflow-dev-operator')
    }
    // Admin rights list; they do not open another user's session.
    const opened = await router.handle(cognitoEvent('GET', `/sessions/${developersId}`, '/sessions/{id}', OPERATOR, undefined, 'devflow-admins'))
    expect(opened.statusCode).to.equal(404)
  })

  it('offers each caller the allow-list that applies to it', async () => {
    const choices = await router.handle(cognitoEvent('GET', '/repositories', '/repositories', ALICE))
    expect(choices.statusCode, choices.body).to.equal(200)
    // The fixture allows every repository.
    expect(JSON.parse(choices.body)).to.deep.equal({items: [], any: true})
  })

  it('never takes the owner from claims the authorizer did not set: an empty subject is anonymous', async () => {
    const blank = cognitoEvent('GET', '/sessions', '/sessions', '  ')
    const response = await router.handle(blank)
    expect(response.statusCode).to.equal(401)
    expect(JSON.parse(response.body).error.code).to.equal('UNAUTHENTICATED')
  })

  it('adds CORS headers for the console\'s origin only', async () => {
    const event = cognitoEvent('GET', '/sessions', '/sessions', ALICE)
    const answered = withConsoleCors(event, await router.handle(event), CONSOLE_ORIGIN)
    expect(answered.headers).to.include({'access-control-allow-origin': CONSOLE_ORIGIN, vary: 'Origin'})
    const foreign = {...event, headers: {...event.headers, Origin: 'https://evil.example'}}
    expect(withConsoleCors(foreign, await router.handle(foreign), CONSOLE_ORIGIN).headers).not.to.have.property('access-control-allow-origin')
    expect(withConsoleCors(event, await router.handle(event), undefined).headers).not.to.have.property('access-control-allow-origin')
  })
})
