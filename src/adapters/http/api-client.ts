/**
 * The DevFlow REST API as a `SessionApi`: what the CLI's API mode (SigV4) and local mode (bearer
 * token) call. Error bodies `{"error": {code, message, hint}}` become the same DevflowErrors the
 * core services throw, with the kind taken from the HTTP status, so every command exits with the
 * same code in API mode as in admin mode.
 */
import type {z} from 'zod'

import {DevflowError, kindForHttpStatus, remoteFailure, timedOut, unauthenticated, unavailable} from '../../core/errors.js'
import {type Page, Prompt, PromptEvent, PromptStatus, Session} from '../../core/models.js'
import {type AddBudgetRequest, type Caller, type EditorInfo, type Health, type ListSessionsOptions, NotificationTestResult, type PromptEventsOptions, type PromptEventsPage, type PromptRequest, RepositoryChoices, type SessionApi, type StartSessionRequest, UsageReport, type UsageRequest} from '../../core/session-api.js'

/** Adds authentication headers to a request about to be sent. */
export interface RequestAuthorizer {
  authorize(request: {method: string; url: URL; headers: Record<string, string>; body?: string}): Promise<Record<string, string>>
}

export interface HttpSessionApiOptions {
  /** The API's base URL, including any stage path (`https://.../prod/`). */
  readonly endpoint: string
  readonly authorizer: RequestAuthorizer
  /** Per request; long enough for the slowest route (a start runs RunTask). */
  readonly timeoutMs?: number
  readonly userAgent?: string
}

const DEFAULT_TIMEOUT_MS = 60_000

/** API Gateway's own refusals (IAM auth) carry `x-amzn-ErrorType` and `{"message"}`, not our error body. */
const GATEWAY_AUTH_ERRORS: Record<string, {code: string; message: string; hint: string}> = {
  ExpiredTokenException: {
    code: 'AWS_CREDENTIALS_EXPIRED',
    message: 'Your AWS credentials have expired.',
    hint: 'Refresh them (for example `aws sso login`) and try again.',
  },
  InvalidSignatureException: {
    code: 'AWS_CREDENTIALS_INVALID',
    message: 'The DevFlow API rejected the request signature.',
    hint: 'Check your AWS credentials and --profile, and that this machine\'s clock is right.',
  },
  UnrecognizedClientException: {
    code: 'AWS_CREDENTIALS_INVALID',
    message: 'The DevFlow API does not recognise your AWS access key.',
    hint: 'Use valid AWS credentials for the account DevFlow is deployed in (check --profile).',
  },
  MissingAuthenticationTokenException: {
    code: 'API_ROUTE_NOT_FOUND',
    message: 'The DevFlow API has no such route, or the request was not signed.',
    hint: 'Check --endpoint (it must be the ApiUrl output of the stack) and that your CLI matches the deployed version.',
  },
}

export class HttpSessionApi implements SessionApi {
  private readonly base: URL

  constructor(private readonly options: HttpSessionApiOptions) {
    this.base = new URL(options.endpoint.endsWith('/') ? options.endpoint : `${options.endpoint}/`)
  }

  get endpoint(): string {
    return this.base.toString()
  }

  async start(_caller: Caller, request: StartSessionRequest): Promise<{session: Session; created: boolean}> {
    const {status, body} = await this.send('POST', 'sessions', {body: request})
    return {session: parse(Session, body, 'session'), created: status === 201}
  }

  async list(_caller: Caller, options: ListSessionsOptions): Promise<Page<Session>> {
    // Every user's sessions are their own route, which only the stage's admins may call.
    const {body} = await this.send('GET', options.all ? 'admin/sessions' : 'sessions', {
      query: {limit: options.limit, nextToken: options.nextToken, status: options.status},
    })
    return parsePage(Session, body, 'session list')
  }

  async get(_caller: Caller, sessionId: string): Promise<Session> {
    const {body} = await this.send('GET', `sessions/${encodeURIComponent(sessionId)}`)
    return parse(Session, body, 'session')
  }

  async stop(_caller: Caller, sessionId: string): Promise<Session> {
    const {body} = await this.send('DELETE', `sessions/${encodeURIComponent(sessionId)}`)
    return parse(Session, body, 'session')
  }

  async resume(_caller: Caller, sessionId: string): Promise<Session> {
    const {body} = await this.send('POST', `sessions/${encodeURIComponent(sessionId)}/resume`, {body: {}})
    return parse(Session, body, 'session')
  }

  async enqueuePrompt(_caller: Caller, sessionId: string, request: PromptRequest): Promise<Prompt> {
    const {body} = await this.send('POST', `sessions/${encodeURIComponent(sessionId)}/prompts`, {body: request})
    return parse(Prompt, body, 'prompt')
  }

  async listPrompts(_caller: Caller, sessionId: string, options: {limit?: number; nextToken?: string}): Promise<Page<Prompt>> {
    const {body} = await this.send('GET', `sessions/${encodeURIComponent(sessionId)}/prompts`, {query: {limit: options.limit, nextToken: options.nextToken}})
    return parsePage(Prompt, body, 'prompt list')
  }

  async getPrompt(_caller: Caller, sessionId: string, promptId: string): Promise<Prompt> {
    const {body} = await this.send('GET', `sessions/${encodeURIComponent(sessionId)}/prompts/${encodeURIComponent(promptId)}`)
    return parse(Prompt, body, 'prompt')
  }

  async promptEvents(_caller: Caller, sessionId: string, promptId: string, after: number, options: PromptEventsOptions = {}): Promise<PromptEventsPage> {
    const wait = options.waitSeconds ? {wait: options.waitSeconds} : {}
    const {body} = await this.send('GET', `sessions/${encodeURIComponent(sessionId)}/prompts/${encodeURIComponent(promptId)}/events`, {query: {after, ...wait}})
    const status = isRecord(body) ? PromptStatus.safeParse(body.status) : undefined
    return {...parsePage(PromptEvent, body, 'prompt events'), ...(status?.success ? {status: status.data} : {})}
  }

  async addBudget(_caller: Caller, sessionId: string, request: AddBudgetRequest): Promise<Session> {
    const {body} = await this.send('POST', `sessions/${encodeURIComponent(sessionId)}/budget`, {body: request})
    return parse(Session, body, 'session')
  }

  async usage(_caller: Caller, request: UsageRequest): Promise<UsageReport> {
    const {body} = await this.send('GET', 'usage', {query: {since: request.since, by: request.by}})
    return parse(UsageReport, body, 'usage report')
  }

  async notifyTest(_caller: Caller): Promise<NotificationTestResult> {
    const {body} = await this.send('POST', 'notifications/test', {body: {}})
    return parse(NotificationTestResult, body, 'notification result')
  }

  async repositories(_caller: Caller): Promise<RepositoryChoices> {
    const {body} = await this.send('GET', 'repositories')
    return parse(RepositoryChoices, body, 'repository list')
  }

  async editor(_caller: Caller, sessionId: string): Promise<EditorInfo> {
    const {body} = await this.send('GET', `sessions/${encodeURIComponent(sessionId)}/editor`)
    if (!isRecord(body) || typeof body.sessionId !== 'string' || typeof body.port !== 'number') throw badResponse('editor info')
    return body as unknown as EditorInfo
  }

  async health(): Promise<Health> {
    // A degraded API answers 503 with the same document (src/api/router.ts).
    const {body} = await this.send('GET', 'health', {accept: [503]})
    if (!isRecord(body) || (body.status !== 'ok' && body.status !== 'degraded')) throw badResponse('health')
    return body as unknown as Health
  }

  private async send(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    options: {body?: unknown; query?: Record<string, string | number | undefined>; accept?: number[]} = {},
  ): Promise<{status: number; body: unknown}> {
    const url = new URL(path, this.base)
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value))
    }
    const body = options.body === undefined ? undefined : JSON.stringify(options.body)
    const headers: Record<string, string> = {accept: 'application/json'}
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (this.options.userAgent) headers['user-agent'] = this.options.userAgent
    const signed = await this.options.authorizer.authorize({method, url, headers, body})
    let response: Response
    try {
      response = await fetch(url, {method, headers: withoutHost(signed), body, signal: AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS)})
    } catch (error) {
      throw this.networkError(error)
    }
    const text = await response.text()
    const parsed = parseJson(text)
    if (!response.ok && !(options.accept?.includes(response.status) && parsed !== undefined)) throw apiError(response, parsed, text)
    if (parsed === undefined) throw badResponse(`${method} /${path}`)
    return {status: response.status, body: parsed}
  }

  private networkError(error: unknown): DevflowError {
    const name = (error as {name?: string}).name
    if (name === 'TimeoutError' || name === 'AbortError') {
      return timedOut('API_TIMEOUT', `The DevFlow API at ${this.endpoint} did not answer in time.`, 'Try again; if it persists, check the API\'s health with `devflow doctor`.', {cause: error})
    }
    const code = (error as {cause?: {code?: string}}).cause?.code
    return unavailable(
      'API_UNREACHABLE',
      `Cannot reach the DevFlow API at ${this.endpoint}${code ? ` (${code})` : ''}.`,
      'Check --endpoint / DEVFLOW_ENDPOINT and your network; run `devflow deploy` if the stage is not deployed.',
      {cause: error},
    )
  }
}

/** fetch sets Host from the URL, which is the value that was signed. */
function withoutHost(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'host'))
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function badResponse(what: string): DevflowError {
  return remoteFailure('API_BAD_RESPONSE', `The DevFlow API sent a ${what} response this CLI cannot read.`, 'Check that the CLI and the deployed API are the same version (`devflow --version`, `devflow deploy`).')
}

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body)
  if (!result.success) throw badResponse(what)
  return result.data
}

function parsePage<T>(schema: z.ZodType<T>, body: unknown, what: string): Page<T> {
  if (!isRecord(body) || !Array.isArray(body.items)) throw badResponse(what)
  const items = body.items.map((item) => parse(schema, item, what))
  return typeof body.nextToken === 'string' && body.nextToken !== '' ? {items, nextToken: body.nextToken} : {items}
}

function apiError(response: Response, body: unknown, text: string): DevflowError {
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new DevflowError({
      kind: kindForHttpStatus(response.status),
      code: error.code,
      message: error.message,
      hint: typeof error.hint === 'string' ? error.hint : 'Try again, or run with DEVFLOW_DEBUG=1 for details.',
      ...(isRecord(error.details) ? {details: error.details} : {}),
    })
  }
  const gatewayType = response.headers.get('x-amzn-errortype')?.split(':')[0]
  const gateway = gatewayType ? GATEWAY_AUTH_ERRORS[gatewayType] : undefined
  if (gateway) return unauthenticated(gateway.code, gateway.message, gateway.hint)
  if (response.status === 403) {
    return new DevflowError({
      kind: 'forbidden',
      code: 'API_ACCESS_DENIED',
      message: `The DevFlow API denied access${isRecord(body) && typeof body.message === 'string' ? `: ${body.message}` : ''}.`,
      hint: 'Use credentials allowed to invoke the DevFlow API (execute-api:Invoke), or check --profile.',
    })
  }
  const detail = isRecord(body) && typeof body.message === 'string' ? body.message : text.slice(0, 200)
  return new DevflowError({
    kind: kindForHttpStatus(response.status),
    code: 'API_ERROR',
    message: `The DevFlow API answered HTTP ${response.status}${detail ? `: ${detail}` : ''}.`,
    hint: 'Try again; if it persists, check the API with `devflow doctor` and its logs.',
  })
}
