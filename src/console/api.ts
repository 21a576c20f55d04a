/**
 * The console's client of the DevFlow REST API: the same routes as the CLI (DESIGN.md's User
 * API). Every failure becomes an ApiError with a code, a message and a hint; a body that is not a
 * DevFlow error is never shown as it came.
 */

export interface ApiErrorBody {
  readonly code: string
  readonly message: string
  readonly hint: string
}

export class ApiError extends Error {
  readonly code: string
  readonly hint: string
  readonly status: number

  constructor(status: number, body: ApiErrorBody) {
    super(body.message)
    this.name = 'ApiError'
    this.status = status
    this.code = body.code
    this.hint = body.hint
  }
}

/** How a request is authenticated: adds headers, or says the user must sign in again. */
export interface RequestAuth {
  headers(method: string): Promise<Record<string, string>>
  /** Called on a 401, so the app can send the user to sign in. */
  unauthenticated(): void
  /** `include` when the API is another origin that needs no cookie, `same-origin` locally. */
  readonly credentials: 'same-origin' | 'omit'
}

/** The error an API answer carries, whatever it looks like. */
export function errorFromResponse(status: number, text: string): ApiError {
  try {
    const parsed = JSON.parse(text) as {error?: Partial<ApiErrorBody>}
    const error = parsed?.error
    if (error && typeof error.code === 'string' && typeof error.message === 'string') {
      return new ApiError(status, {code: error.code, message: error.message, hint: typeof error.hint === 'string' ? error.hint : ''})
    }
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): described below instead.
  }
  return new ApiError(status, {
    code: status === 0 ? 'API_UNREACHABLE' : `HTTP_${status}`,
    message: status === 0 ? 'The DevFlow API did not answer.' : `The DevFlow API answered ${status} without an error description.`,
    hint: status === 0 ? 'Check that the platform is running (devflow local status, or the deployed stage) and reload.' : 'Try again; if it keeps failing, check the API logs.',
  })
}

export class ConsoleApi {
  constructor(
    private readonly baseUrl: string,
    private readonly auth: RequestAuth,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {accept: 'application/json', ...(await this.auth.headers(method))}
    if (body !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await fetch(`${this.baseUrl}${path}`, {method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: this.auth.credentials})
    } catch {
      throw errorFromResponse(0, '')
    }
    const text = await response.text()
    if (!response.ok) {
      if (response.status === 401) this.auth.unauthenticated()
      throw errorFromResponse(response.status, text)
    }
    return (text === '' ? undefined : JSON.parse(text)) as T
  }

  listSessions(status?: string): Promise<Page<Session>> {
    return this.request('GET', `/sessions?limit=50${status ? `&status=${encodeURIComponent(status)}` : ''}`)
  }

  /** Every user's sessions: `GET /admin/sessions`, which answers 403 ADMIN_ONLY to anyone but a stage admin. */
  listAllSessions(status?: string): Promise<Page<Session>> {
    return this.request('GET', `/admin/sessions?limit=100${status ? `&status=${encodeURIComponent(status)}` : ''}`)
  }

  /** The repositories the caller may start sessions on. */
  repositories(): Promise<RepositoryChoices> {
    return this.request('GET', '/repositories')
  }

  getSession(id: string): Promise<Session> {
    return this.request('GET', `/sessions/${encodeURIComponent(id)}`)
  }

  startSession(request: StartRequest): Promise<Session> {
    return this.request('POST', '/sessions', request)
  }

  stopSession(id: string): Promise<Session> {
    return this.request('DELETE', `/sessions/${encodeURIComponent(id)}`)
  }

  listPrompts(id: string): Promise<Page<Prompt>> {
    return this.request('GET', `/sessions/${encodeURIComponent(id)}/prompts?limit=100`)
  }

  sendPrompt(id: string, text: string, pr: string): Promise<Prompt> {
    return this.request('POST', `/sessions/${encodeURIComponent(id)}/prompts`, {text, pr})
  }

  promptEvents(id: string, promptId: string, after: number): Promise<Page<PromptEvent>> {
    return this.request('GET', `/sessions/${encodeURIComponent(id)}/prompts/${encodeURIComponent(promptId)}/events?after=${after}`)
  }

  editor(id: string): Promise<EditorInfo> {
    return this.request('GET', `/sessions/${encodeURIComponent(id)}/editor`)
  }
}

export interface Page<T> {
  readonly items: T[]
  readonly nextToken?: string
}

export interface Session {
  readonly id: string
  readonly userId: string
  readonly repo: string
  readonly branch: string
  readonly status: string
  readonly capacity: string
  readonly cpu: number
  readonly memory: number
  readonly createdAt: string
  readonly updatedAt: string
  readonly expiresAt: string
  readonly idleTimeout: string
  readonly taskArn?: string
  readonly error?: {readonly code: string; readonly message: string}
  readonly cost?: {readonly computeUsd?: number; readonly agentUsd?: number; readonly totalUsd?: number}
}

/** `owner/name` and `owner/*` entries of the stage's allow-list for the caller; `any`: every repository. */
export interface RepositoryChoices {
  readonly items: string[]
  readonly any: boolean
}

export interface StartRequest {
  readonly repo: string
  readonly branch?: string
  readonly cpu?: string
  readonly memory?: string
  readonly ttl?: string
  readonly idleTimeout?: string
}

export interface Prompt {
  readonly id: string
  readonly seq: number
  readonly text: string
  readonly status: string
  readonly pr: string
  readonly createdAt: string
  readonly result?: {readonly summary: string; readonly branch?: string; readonly commit?: string; readonly prUrl?: string; readonly turns?: number; readonly costUsd?: number}
  readonly error?: {readonly code: string; readonly message: string}
}

export interface PromptEvent {
  readonly seq: number
  readonly type: string
  readonly text?: string
  readonly data?: unknown
  readonly at: string
}

export interface EditorInfo {
  readonly sessionId: string
  readonly status: string
  readonly url?: string
  readonly password?: string
  readonly unavailableReason?: string
  readonly unavailableHint?: string
}
