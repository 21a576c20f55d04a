/**
 * The REST API as one router over the core services, taking API Gateway REST proxy events. The
 * Lambda handlers, `devflow api serve` and the local platform all call `handle`, so routing,
 * parsing, auth and the error body exist once.
 */
import {randomUUID} from 'node:crypto'

import type {APIGatewayProxyEvent, APIGatewayProxyResult} from 'aws-lambda'

import {type AgentEventsRequest, type AgentResultRequest, type HeartbeatRequest, MAX_WAIT_SECONDS, type WorkspaceProof} from '../core/agent-api.js'
import {DevflowError, internalError, invalidInput, isDevflowError, notFound, tooLarge, unauthenticated} from '../core/errors.js'
import {SessionStatus} from '../core/models.js'
import {ownerOf} from '../core/owner.js'
import type {CoreServices} from '../core/services/index.js'
import type {AddBudgetRequest, Caller, PromptRequest, StartSessionRequest, UsageRequest} from '../core/session-api.js'
import {parsePromptId, parseSessionId} from '../core/validation.js'
import {consoleUser} from './console-identity.js'
import {ROUTES, type RouteSpec} from './routes.js'

/** A request body larger than this is refused before parsing (prompts are limited further). */
export const MAX_BODY_BYTES = 256 * 1024

/** What the router logs through: Powertools' Logger fits, so does a silent stub. */
export interface RouterLogger {
  info(message: string, extra?: Record<string, unknown>): void
  warn(message: string, extra?: Record<string, unknown>): void
  error(message: string, extra?: Record<string, unknown>): void
}

/** Turns a foreign error (an AWS SDK error, say) into a DevflowError; undefined when it does not know it. */
export type ErrorTranslator = (error: unknown) => DevflowError | undefined

export interface ApiRouterOptions {
  readonly logger?: RouterLogger
  /** Given by the composition root that knows the backends' errors; anything else is an INTERNAL_ERROR. */
  readonly translateError?: ErrorTranslator
}

export interface ApiRouter {
  handle(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult>
}

interface Request {
  readonly event: APIGatewayProxyEvent
  readonly params: Record<string, string>
  readonly query: Record<string, string | undefined>
}

type Handler = (request: Request) => Promise<APIGatewayProxyResult>

const silent: RouterLogger = {info() {}, warn() {}, error() {}}

export function createApiRouter(services: CoreServices, options: ApiRouterOptions = {}): ApiRouter {
  const logger = options.logger ?? silent
  const translateError = options.translateError ?? (() => undefined)
  const handlers = routeHandlers(services, logger)

  return {
    async handle(event) {
      const started = Date.now()
      const requestId = event.requestContext?.requestId ?? randomUUID()
      const path = event.path ?? '/'
      let route: RouteSpec | undefined
      let response: APIGatewayProxyResult
      try {
        // API Gateway has matched the resource: `path` may carry a custom domain's base path.
        const matches = ROUTES.filter((r) => r.path === event.resource)
        const match = matches.find((r) => r.method === event.httpMethod)
        if (!match) {
          response = matches.length > 0 ? methodNotAllowed(event.httpMethod, matches.map((r) => r.method)) : routeNotFound(event.httpMethod, path)
        } else {
          route = match
          response = await handlers[`${route.method} ${route.path}`]({event, params: pathParams(event, route), query: event.queryStringParameters ?? {}})
        }
      } catch (error) {
        response = errorResponse(toApiError(error, translateError))
        if (response.statusCode >= 500) {
          logger.error('request failed', {requestId, route: route?.path, error: describeError(error)})
        }
      }
      const errorCode = response.statusCode >= 400 ? errorCodeOf(response) : undefined
      logger.info('request', {
        requestId,
        method: event.httpMethod,
        route: route?.path ?? path,
        sessionId: event.pathParameters?.id ?? sessionIdFromPath(path),
        status: response.statusCode,
        durationMs: Date.now() - started,
        ...(errorCode ? {errorCode} : {}),
      })
      return {...response, headers: {...response.headers, 'x-request-id': requestId}}
    },
  }
}

/** Bodies go to the services as they came: each service parses its request (the casts only name the type). */
function routeHandlers(services: CoreServices, logger: RouterLogger): Record<string, Handler> {
  return {
    'POST /sessions': async ({event}) => {
      const caller = iamCaller(event)
      const result = await services.sessions.start(caller, jsonBody(event) as StartSessionRequest)
      return json(result.created ? 201 : 200, result.session)
    },
    'GET /sessions': async ({event, query}) =>
      json(200, await services.sessions.list(iamCaller(event), {limit: intParam(query, 'limit'), nextToken: query.nextToken, status: statusParam(query)})),
    'GET /admin/sessions': async ({event, query}) =>
      json(200, await services.sessions.list(iamCaller(event), {all: true, limit: intParam(query, 'limit'), nextToken: query.nextToken, status: statusParam(query)})),
    'GET /repositories': async ({event}) => json(200, await services.sessions.repositories(iamCaller(event))),
    'GET /sessions/{id}': async ({event, params}) => json(200, await services.sessions.get(iamCaller(event), parseSessionId(params.id))),
    'DELETE /sessions/{id}': async ({event, params}) => json(200, await services.sessions.stop(iamCaller(event), parseSessionId(params.id))),
    'POST /sessions/{id}/prompts': async ({event, params}) => {
      const caller = iamCaller(event)
      const id = parseSessionId(params.id)
      return json(202, await services.sessions.enqueuePrompt(caller, id, jsonBody(event) as PromptRequest))
    },
    'GET /sessions/{id}/prompts': async ({event, params, query}) =>
      json(200, await services.sessions.listPrompts(iamCaller(event), parseSessionId(params.id), {limit: intParam(query, 'limit'), nextToken: query.nextToken})),
    'GET /sessions/{id}/prompts/{pid}': async ({event, params}) =>
      json(200, await services.sessions.getPrompt(iamCaller(event), parseSessionId(params.id), parsePromptId(params.pid))),
    'GET /sessions/{id}/prompts/{pid}/events': async ({event, params, query}) =>
      json(
        200,
        // `wait` above MAX_EVENTS_WAIT_SECONDS is clamped by the service (API Gateway's 29 s bound).
        await services.sessions.promptEvents(iamCaller(event), parseSessionId(params.id), parsePromptId(params.pid), intParam(query, 'after') ?? 0, {waitSeconds: intParam(query, 'wait')}),
      ),
    'GET /sessions/{id}/editor': async ({event, params}) => json(200, await services.sessions.editor(iamCaller(event), parseSessionId(params.id))),
    'POST /sessions/{id}/budget': async ({event, params}) =>
      json(200, await services.sessions.addBudget(iamCaller(event), parseSessionId(params.id), jsonBody(event) as AddBudgetRequest)),
    'POST /sessions/{id}/resume': async ({event, params}) => json(200, await services.sessions.resume(iamCaller(event), parseSessionId(params.id))),
    'GET /usage': async ({event, query}) =>
      json(200, await services.sessions.usage(iamCaller(event), {...(query.since ? {since: query.since} : {}), ...(query.by ? {by: query.by} : {})} as UsageRequest)),
    'POST /notifications/test': async ({event}) => json(200, await services.sessions.notifyTest(iamCaller(event))),
    'GET /health': async ({event}) => {
      iamCaller(event)
      const health = await services.sessions.health()
      return json(health.status === 'ok' ? 200 : 503, health)
    },
    'POST /agent/sessions/{id}/bootstrap': async ({event, params}) => json(200, await services.agent.bootstrap(params.id, workspaceProof(event))),
    'POST /agent/sessions/{id}/checkpoint': async ({event, params}) =>
      json(200, await services.agent.saveCheckpoint(params.id, workspaceProof(event), jsonBody(event))),
    'GET /agent/sessions/{id}/checkpoint': async ({event, params}) => json(200, await services.agent.restoreCheckpoint(params.id, workspaceProof(event))),
    'GET /agent/sessions/{id}/prompts/next': async ({event, params, query}) => {
      await authenticateAgent(services, event, params.id)
      const wait = intParam(query, 'wait') ?? MAX_WAIT_SECONDS
      const prompt = await services.agent.claimNext(params.id, wait)
      return prompt ? json(200, prompt) : {statusCode: 204, headers: {}, body: ''}
    },
    'POST /agent/sessions/{id}/prompts/{pid}/events': async ({event, params}) => {
      await authenticateAgent(services, event, params.id)
      return json(200, await services.agent.appendEvents(params.id, parsePromptId(params.pid), jsonBody(event) as AgentEventsRequest))
    },
    'POST /agent/sessions/{id}/prompts/{pid}/result': async ({event, params}) => {
      await authenticateAgent(services, event, params.id)
      return json(200, await services.agent.complete(params.id, parsePromptId(params.pid), jsonBody(event) as AgentResultRequest))
    },
    'POST /agent/sessions/{id}/heartbeat': async ({event, params}) => {
      await authenticateAgent(services, event, params.id)
      return json(200, await services.agent.heartbeat(params.id, jsonBody(event, {}) as HeartbeatRequest))
    },
    'POST /agent/sessions/{id}/github-token': async ({event, params}) => {
      await authenticateAgent(services, event, params.id)
      return json(200, await services.agent.githubToken(params.id))
    },
    'POST /agent/warm/{id}/register': async ({event, params}) => json(200, await warmPoolOf(services).register(params.id, workspaceProof(event))),
    'POST /agent/warm/{id}/claim': async ({event, params, query}) => {
      const assignment = await warmPoolOf(services).claim(params.id, bearerToken(event), intParam(query, 'wait') ?? MAX_WAIT_SECONDS)
      return assignment ? json(200, assignment) : {statusCode: 204, headers: {}, body: ''}
    },
    'POST /github/webhook': async ({event}) => {
      if (!services.github) {
        throw notFound('GITHUB_WEBHOOKS_NOT_CONFIGURED', 'This server does not take GitHub webhooks.', 'Point the GitHub App at a deployed stage (`devflow github status` shows the URL) or at `devflow api serve`.')
      }
      // The signature covers the bytes GitHub sent: no JSON parsing before the check.
      const response = await services.github.receive({headers: event.headers ?? {}, body: rawBody(event), apiBaseUrl: apiBaseUrl(event)})
      if (response.status === 202 && response.body.outcome === 'ignore') {
        logger.info('webhook ignored', {delivery: response.body.delivery, event: header(event, 'x-github-event'), reason: response.body.reason})
      }
      return json(response.status, response.body)
    },
  }
}

/**
 * The caller of a user route: API Gateway has verified the SigV4 signature and fills the
 * identity, or (the console's API) the Cognito authorizer has verified the ID token. The base
 * URL lets a new session's agent call back to the same API.
 */
function iamCaller(event: APIGatewayProxyEvent): Caller {
  const cognito = consoleUser(event)
  if (cognito) return {userId: cognito.userId, groups: cognito.groups, apiBaseUrl: apiBaseUrl(event)}
  const identity = event.requestContext?.identity
  const userId = identity?.userArn ?? identity?.caller
  if (!userId) {
    throw unauthenticated('UNAUTHENTICATED', 'The request carries no caller identity.', 'Sign the request with AWS credentials (SigV4), as the devflow CLI does.')
  }
  return {userId: ownerOf(userId), apiBaseUrl: apiBaseUrl(event)}
}

/**
 * The URL the caller reached the API at: the request's full path (`requestContext.path`: the stage
 * on the execute-api domain, the base path on a custom domain) without the route's own segments.
 */
function apiBaseUrl(event: APIGatewayProxyEvent): string | undefined {
  const context = event.requestContext
  const host = context?.domainName ?? header(event, 'host')
  if (!host) return undefined
  const proto = header(event, 'x-forwarded-proto') ?? 'https'
  const fullPath = (context?.path ?? event.path ?? '').split('/').filter(Boolean)
  const routeSegments = (event.resource ?? '').split('/').filter(Boolean).length
  const base = fullPath.slice(0, Math.max(0, fullPath.length - routeSegments))
  return `${proto}://${host}${base.map((segment) => `/${segment}`).join('')}`
}

/**
 * The task's proof on the bootstrap route: its SigV4 identity (API Gateway's AWS_IAM fills it), or
 * else a local runtime's nonce as a bearer token.
 */
function workspaceProof(event: APIGatewayProxyEvent): WorkspaceProof | undefined {
  const principalArn = event.requestContext?.identity?.userArn
  if (principalArn) return {kind: 'task-role', principalArn}
  const nonce = bearerToken(event)
  return nonce ? {kind: 'nonce', nonce} : undefined
}

function warmPoolOf(services: CoreServices): NonNullable<CoreServices['warmPool']> {
  if (!services.warmPool) throw notFound('WARM_POOL_NOT_CONFIGURED', 'This platform keeps no warm pool.', 'Set devflow:warmTasks (or `devflow local up --warm N`) to keep warm tasks.')
  return services.warmPool
}

function bearerToken(event: APIGatewayProxyEvent): string | undefined {
  const authorization = header(event, 'authorization')
  return (authorization ? /^Bearer\s+(\S+)$/i.exec(authorization.trim()) : null)?.[1]
}

async function authenticateAgent(services: CoreServices, event: APIGatewayProxyEvent, sessionId: string): Promise<void> {
  await services.agent.authenticate(sessionId, bearerToken(event))
}

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const headers = event.headers ?? {}
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name)
  return key === undefined ? undefined : headers[key]
}

/** The body as sent: API Gateway hands binary or unknown content types over base64-encoded. */
function rawBody(event: APIGatewayProxyEvent): string {
  const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : ''
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) {
    throw tooLarge('BODY_TOO_LARGE', `The request body is larger than ${MAX_BODY_BYTES} bytes.`, 'Send a smaller request.')
  }
  return raw
}

function jsonBody(event: APIGatewayProxyEvent, whenEmpty?: unknown): unknown {
  const raw = rawBody(event)
  if (raw.trim() === '') {
    if (whenEmpty !== undefined) return whenEmpty
    throw invalidInput('INVALID_JSON', 'The request has no body.', 'Send a JSON object with Content-Type: application/json.')
  }
  try {
    return JSON.parse(raw)
  } catch {
    throw invalidInput('INVALID_JSON', 'The request body is not valid JSON.', 'Send a JSON object with Content-Type: application/json.')
  }
}

function statusParam(query: Record<string, string | undefined>): SessionStatus | undefined {
  if (query.status === undefined) return undefined
  const status = SessionStatus.safeParse(query.status.toUpperCase())
  if (!status.success) throw invalidInput('INVALID_STATUS', `"${query.status}" is not a session status.`, `Use one of ${SessionStatus.options.join(', ')}.`)
  return status.data
}

/** Up to 15 digits: every value is exact as a JavaScript number and in every store. */
function intParam(query: Record<string, string | undefined>, name: string): number | undefined {
  const raw = query[name]
  if (raw === undefined || raw === '') return undefined
  if (!/^\d{1,15}$/.test(raw)) {
    throw invalidInput('INVALID_PARAMETER', `The ${name} parameter "${raw.slice(0, 40)}" is not a whole number below 10^15.`, `Pass ${name} as a non-negative integer.`)
  }
  return Number(raw)
}

/** The route's path parameters as API Gateway passes them (decoded); a missing one is empty, which every id parser refuses. */
function pathParams(event: APIGatewayProxyEvent, route: RouteSpec): Record<string, string> {
  const given = event.pathParameters ?? {}
  const params: Record<string, string> = {}
  for (const [, name] of route.path.matchAll(/\{(\w+)\}/g)) params[name] = given[name] ?? ''
  return params
}

function sessionIdFromPath(path: string): string | undefined {
  return /\/sessions\/(s-[a-z2-7]{20})/.exec(path)?.[1]
}

function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {statusCode, headers: {'content-type': 'application/json'}, body: JSON.stringify(body)}
}

function toApiError(error: unknown, translateError: ErrorTranslator): DevflowError {
  if (isDevflowError(error)) return error
  return translateError(error) ?? internalError('INTERNAL_ERROR', 'The API failed unexpectedly.', 'Try again; if it keeps failing, report it with the x-request-id header.', {cause: error})
}

function errorResponse(error: DevflowError): APIGatewayProxyResult {
  return json(error.httpStatus, error.toJSON())
}

function routeNotFound(method: string, path: string): APIGatewayProxyResult {
  return errorResponse(notFound('ROUTE_NOT_FOUND', `${method} ${path} is not a DevFlow API route.`, 'See DESIGN.md for the routes, or update the CLI.'))
}

function methodNotAllowed(method: string, allowed: string[]): APIGatewayProxyResult {
  const body = new DevflowError({kind: 'invalid', code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed here.`, hint: `Use ${allowed.join(' or ')}.`}).toJSON()
  return {statusCode: 405, headers: {'content-type': 'application/json', allow: allowed.join(', ')}, body: JSON.stringify(body)}
}

function errorCodeOf(response: APIGatewayProxyResult): string | undefined {
  try {
    return (JSON.parse(response.body) as {error?: {code?: string}}).error?.code
  } catch {
    return undefined
  }
}

/** Name, code and message only: never a request body, a header or a token. */
function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return {name: error.name, message: error.message, stack: error.stack}
  return {value: String(error)}
}
