/**
 * Serves the API router over plain HTTP on this machine: each Node request becomes the API Gateway
 * REST proxy event the Lambda handlers receive, so `devflow api serve`, the local platform and the
 * Lambdas share one router.
 */
import {randomUUID} from 'node:crypto'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import type {APIGatewayProxyEvent} from 'aws-lambda'

import {conflict, forbidden, invalidInput, tooLarge} from '../core/errors.js'
import type {ApiRouter} from './router.js'
import {MAX_BODY_BYTES} from './router.js'
import {ROUTES} from './routes.js'

export interface HttpIdentity {
  readonly userArn: string
  readonly accessKey?: string
}

export interface HttpServerOptions {
  readonly router: ApiRouter
  readonly host: string
  readonly port: number
  /** The caller of a request, as API Gateway's AWS_IAM auth would report it; undefined when anonymous. */
  identify(req: IncomingMessage): Promise<HttpIdentity | undefined>
  /**
   * Answer only requests whose `Host` header names this machine by its loopback names
   * (`LOOPBACK_HOST_NAMES`), any port: a web page whose DNS name was rebound to 127.0.0.1 sends its
   * own name and is refused (403 HOST_NOT_ALLOWED) before anything else runs, the console's pages
   * included; the agent routes (per-session tokens, called from containers too) are exempt. Every
   * loopback-bound server sets it: this is the one Host check.
   */
  readonly loopbackHostsOnly?: boolean
  /** Told of a request that failed outside the router (it logs its own failures). */
  onError?(error: unknown): void
  /** Answers a request before the router does (the local console's pages and sign-in): true when it did. */
  intercept?(req: IncomingMessage, res: ServerResponse): Promise<boolean>
}

/** The names a request to a server bound to this machine may carry in its `Host` header. */
export const LOOPBACK_HOST_NAMES: readonly string[] = ['127.0.0.1', 'localhost', '[::1]']

/** Whether `host` (a --host value) is an address only this machine reaches. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare)
}

/** The host name of a `Host` header without its port (`[::1]:8787` -> `[::1]`). */
function hostName(header: string | undefined): string {
  const value = (header ?? '').trim().toLowerCase()
  const bracketed = /^(\[[^\]]*\])(:\d+)?$/.exec(value)
  if (bracketed) return bracketed[1]
  return value.replace(/:\d+$/, '')
}

export interface RunningHttpServer {
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const server = createServer((req, res) => {
    serve(options, req, res).catch((error: unknown) => {
      options.onError?.(error)
      if (!res.headersSent) res.writeHead(500, {'content-type': 'application/json'})
      res.end(JSON.stringify({error: {code: 'INTERNAL_ERROR', message: String((error as Error)?.message ?? error), hint: 'Try again.'}}))
    })
  })
  // Long polls wait up to 20 s; keep idle keep-alive sockets from holding `close()` up.
  server.keepAliveTimeout = 5000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(conflict('PORT_IN_USE', `Port ${options.port} on ${options.host} is already in use.`, 'Stop the other server or pick another port with --port.', {cause: error}))
      } else if (error.code === 'EACCES' || error.code === 'EADDRNOTAVAIL') {
        reject(invalidInput('CANNOT_LISTEN', `Cannot listen on ${options.host}:${options.port} (${error.code}).`, 'Use a port above 1024 and an address of this machine (--host 127.0.0.1).', {cause: error}))
      } else {
        reject(error)
      }
    })
    server.listen(options.port, options.host, () => resolve())
  })
  const {port} = server.address() as AddressInfo
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeIdleConnections()
      }),
  }
}

async function serve(options: HttpServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Workspace agents call back with their own tokens, from a container too (host.docker.internal).
  const agentRoute = (req.url ?? '').startsWith('/agent/')
  if (options.loopbackHostsOnly && !agentRoute && !LOOPBACK_HOST_NAMES.includes(hostName(req.headers.host))) {
    const error = forbidden(
      'HOST_NOT_ALLOWED',
      `This server answers only requests addressed to ${LOOPBACK_HOST_NAMES.join(', ')}; this one named "${String(req.headers.host ?? '')}".`,
      'Use http://127.0.0.1:<port> (or localhost; `devflow local open` for the console). Another name pointing at this machine is refused so that web pages cannot reach it.',
    )
    req.resume()
    res.writeHead(error.httpStatus, {'content-type': 'application/json'})
    res.end(JSON.stringify(error.toJSON()))
    return
  }
  if (await options.intercept?.(req, res)) return
  const body = await readBody(req)
  if (body === undefined) {
    const error = tooLarge('BODY_TOO_LARGE', `The request body is larger than ${MAX_BODY_BYTES} bytes.`, 'Send a smaller request.')
    res.writeHead(error.httpStatus, {'content-type': 'application/json'})
    res.end(JSON.stringify(error.toJSON()))
    return
  }
  const identity = await options.identify(req)
  const result = await options.router.handle(toEvent(req, body, identity))
  res.writeHead(result.statusCode, {...(result.headers as Record<string, string>)})
  res.end(result.statusCode === 204 ? undefined : result.body)
}

/** undefined when the body is over the limit. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) return undefined
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function toEvent(req: IncomingMessage, body: string, identity: HttpIdentity | undefined): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const headers: Record<string, string> = {}
  const multiValueHeaders: Record<string, string[]> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    const values = Array.isArray(value) ? value : [value]
    headers[name] = values.join(', ')
    multiValueHeaders[name] = values
  }
  headers['x-forwarded-proto'] = 'http'
  const query: Record<string, string> = {}
  const multiQuery: Record<string, string[]> = {}
  for (const [name, value] of url.searchParams) {
    query[name] = value
    multiQuery[name] = [...(multiQuery[name] ?? []), value]
  }
  const requestId = randomUUID()
  const hasQuery = Object.keys(query).length > 0
  const {resource, pathParameters} = matchResource(url.pathname)
  return {
    httpMethod: req.method ?? 'GET',
    path: url.pathname,
    resource,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters,
    stageVariables: null,
    body: body === '' ? null : body,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      authorizer: null,
      domainName: headers.host,
      httpMethod: req.method ?? 'GET',
      path: url.pathname,
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
      stage: '$default',
      identity: {
        accessKey: identity?.accessKey ?? null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: identity?.userArn ?? null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: identity?.userArn ?? null,
        userAgent: headers['user-agent'] ?? null,
        userArn: identity?.userArn ?? null,
      },
    },
  }
}

const ROUTE_PATTERNS = [...new Set(ROUTES.map((r) => r.path))].map((path) => ({
  path,
  pattern: new RegExp(`^${path.replace(/\{(\w+)\}/g, (_, name: string) => `(?<${name}>[^/]+)`)}/?$`),
}))

/** What API Gateway does before invoking: the resource a path matches, and its decoded parameters. */
function matchResource(pathname: string): {resource: string; pathParameters: Record<string, string> | null} {
  for (const {path, pattern} of ROUTE_PATTERNS) {
    const match = pattern.exec(pathname)
    if (!match) continue
    const entries = Object.entries(match.groups ?? {}).map(([name, value]) => [name, decodeSegment(value)])
    return {resource: path, pathParameters: entries.length > 0 ? Object.fromEntries(entries) : null}
  }
  return {resource: pathname, pathParameters: null}
}

function decodeSegment(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
