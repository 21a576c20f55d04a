/**
 * The Lambda functions as AWS runs them: the code `npm run build` wrote to dist/lambda
 * (lambda/build.mjs), the very asset infra/constructs/control-plane-api.ts deploys, copied into a
 * temp dir and invoked by its `<entry>.handler` in a child process whose only node_modules is the
 * AWS SDK, as in the nodejs22.x runtime. Events are API Gateway REST API proxy events, built as
 * API Gateway builds them.
 */
import {execFile} from 'node:child_process'
import {cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import type {APIGatewayProxyEvent} from 'aws-lambda'

import {lambdaCodeDir} from '../../infra/constructs/control-plane-api.js'
import {ROOT} from './cli.js'

const RUNNER = `
import {readFileSync, writeFileSync} from 'node:fs'
const [bundle, eventsFile, outFile] = process.argv.slice(2)
const {handler} = await import(bundle)
const results = []
for (const event of JSON.parse(readFileSync(eventsFile, 'utf8'))) {
  results.push(await handler(event, {functionName: 'devflow', awsRequestId: 'local-' + results.length, getRemainingTimeInMillis: () => 30000}))
}
writeFileSync(outFile, JSON.stringify(results))
`

export interface LambdaBundles {
  readonly dir: string
  readonly entries: string[]
  /** Invokes one function with each event in turn, in one fresh process (a cold start, then warm calls). */
  invoke(entry: string, events: unknown[], env: Record<string, string>): Promise<unknown[]>
  cleanup(): Promise<void>
}

export async function bundleLambdas(): Promise<LambdaBundles> {
  const dir = await mkdtemp(join(tmpdir(), 'devflow-lambdas-'))
  // The deployed asset as it is: the global setup has just built it from the current sources.
  const code = lambdaCodeDir(ROOT)
  await cp(code, join(dir, 'fn'), {recursive: true})
  const entries = (await readdir(code)).filter((file) => file.endsWith('.mjs')).map((file) => file.slice(0, -'.mjs'.length))
  // The runtime's module path: the AWS SDK and nothing else.
  await mkdir(join(dir, 'node_modules'))
  await symlink(join(ROOT, 'node_modules', '@aws-sdk'), join(dir, 'node_modules', '@aws-sdk'))
  await writeFile(join(dir, 'runner.mjs'), RUNNER)
  let calls = 0
  return {
    dir,
    entries,
    async invoke(entry, events, env) {
      const n = calls++
      const eventsFile = join(dir, `events-${n}.json`)
      const outFile = join(dir, `results-${n}.json`)
      await writeFile(eventsFile, JSON.stringify(events))
      try {
        await promisify(execFile)(process.execPath, [join(dir, 'runner.mjs'), join(dir, 'fn', `${entry}.mjs`), eventsFile, outFile], {
          cwd: join(dir, 'fn'),
          env: {PATH: process.env.PATH ?? '', AWS_LAMBDA_FUNCTION_NAME: entry, POWERTOOLS_LOG_LEVEL: 'ERROR', ...env},
        })
      } catch (error) {
        const failed = error as {stderr?: string; stdout?: string}
        throw new Error(`${entry} failed:\n${failed.stderr ?? ''}${failed.stdout ?? ''}`)
      }
      return JSON.parse(await readFile(outFile, 'utf8')) as unknown[]
    },
    cleanup: () => rm(dir, {recursive: true, force: true}),
  }
}

export interface RestEventOptions {
  /** The caller API Gateway's AWS_IAM auth verified; null for an agent route or an anonymous call. */
  readonly userArn?: string | null
  readonly body?: string
  readonly base64?: boolean
  readonly query?: Record<string, string>
  readonly headers?: Record<string, string>
  /** The API's domain and the path before the resource: the stage on execute-api, a base path on a custom domain. */
  readonly domain?: string
  readonly basePath?: string
  /** Leave requestContext.identity out altogether. */
  readonly noIdentity?: boolean
}

export const API_DOMAIN = 'abc123defg.execute-api.us-east-1.amazonaws.com'
export const STAGE = 'dev'

/** A REST API (v1) proxy event for `method resource` with these path parameters, as API Gateway sends it. */
export function restEvent(method: string, resource: string, pathParameters: Record<string, string> | null, options: RestEventOptions = {}): APIGatewayProxyEvent {
  const path = resource.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(pathParameters?.[name] ?? ''))
  const domain = options.domain ?? API_DOMAIN
  const basePath = options.basePath ?? `/${STAGE}`
  const headers: Record<string, string> = {Host: domain, 'X-Forwarded-Proto': 'https', 'Content-Type': 'application/json', 'User-Agent': 'devflow-test', ...options.headers}
  const iam = options.userArn
    ? {accessKey: 'ASIAEXAMPLEKEY', accountId: '123456789012', caller: 'AIDAEXAMPLE', user: 'AIDAEXAMPLE', userArn: options.userArn, principalOrgId: null}
    : {accessKey: null, accountId: null, caller: null, user: null, userArn: null, principalOrgId: null}
  const identity = {
    apiKey: null,
    apiKeyId: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    sourceIp: '203.0.113.7',
    userAgent: 'devflow-test',
    ...iam,
  }
  const query = options.query ?? null
  return {
    resource,
    // On a custom domain API Gateway's `path` carries the base path; on execute-api it does not.
    path: options.domain && options.domain !== API_DOMAIN ? `${basePath}${path}` : path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query,
    multiValueQueryStringParameters: query ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) : null,
    pathParameters,
    stageVariables: null,
    body: options.body === undefined ? null : options.base64 ? Buffer.from(options.body, 'utf8').toString('base64') : options.body,
    isBase64Encoded: options.base64 ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123defg',
      authorizer: null,
      domainName: domain,
      domainPrefix: domain.split('.')[0],
      extendedRequestId: 'ext-1',
      httpMethod: method,
      path: `${basePath}${path}`,
      protocol: 'HTTP/1.1',
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      requestTime: '01/Dec/2026:20:00:00 +0000',
      requestTimeEpoch: Date.now(),
      resourceId: 'res123',
      resourcePath: resource,
      stage: STAGE,
      ...(options.noIdentity ? {} : {identity}),
    },
  } as unknown as APIGatewayProxyEvent
}
