/**
 * Typed errors shared by the CLI, the REST API and the local platform.
 *
 * Each error carries a stable `code` (callers branch on it, never on the message), a message that
 * says what went wrong, a hint that says what to do next, and a `kind` from which both the CLI exit
 * code and the HTTP status are derived: one table each, below.
 */

/** The CLI's exit codes (DESIGN.md). The README carries the same table. */
export const ExitCode = {
  OK: 0,
  UNEXPECTED: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  AUTH: 4,
  CONFLICT: 5,
  TIMEOUT: 6,
  REMOTE: 7,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export type ErrorKind =
  | 'invalid' // bad input or usage
  | 'too_large' // a request body or prompt over its limit
  | 'not_found'
  | 'unauthenticated' // no or bad credentials / token
  | 'forbidden' // authenticated but not allowed
  | 'conflict' // wrong state, concurrent change
  | 'timeout' // gave up waiting
  | 'remote' // a dependency failed: AWS, GitHub, the agent
  | 'unavailable' // a dependency is unreachable or throttling beyond retries
  | 'internal' // a bug

const exitCodes: Record<ErrorKind, ExitCode> = {
  invalid: ExitCode.USAGE,
  too_large: ExitCode.USAGE,
  not_found: ExitCode.NOT_FOUND,
  unauthenticated: ExitCode.AUTH,
  forbidden: ExitCode.AUTH,
  conflict: ExitCode.CONFLICT,
  timeout: ExitCode.TIMEOUT,
  remote: ExitCode.REMOTE,
  unavailable: ExitCode.REMOTE,
  internal: ExitCode.UNEXPECTED,
}

const httpStatuses: Record<ErrorKind, number> = {
  invalid: 400,
  too_large: 413,
  not_found: 404,
  unauthenticated: 401,
  forbidden: 403,
  conflict: 409,
  timeout: 504,
  remote: 502,
  unavailable: 503,
  internal: 500,
}

export function exitCodeFor(kind: ErrorKind): ExitCode {
  return exitCodes[kind]
}

export function httpStatusFor(kind: ErrorKind): number {
  return httpStatuses[kind]
}

/** The inverse of httpStatusFor, for clients reading an API error body. */
export function kindForHttpStatus(status: number): ErrorKind {
  const exact = (Object.entries(httpStatuses) as [ErrorKind, number][]).find(([, s]) => s === status)
  if (exact) return exact[0]
  if (status === 429) return 'unavailable'
  if (status >= 500) return 'remote'
  return 'invalid'
}

export interface DevflowErrorOptions {
  readonly code: string
  readonly message: string
  readonly hint: string
  readonly kind: ErrorKind
  readonly cause?: unknown
  /** Extra machine-readable fields (for example the list of valid keys). */
  readonly details?: Record<string, unknown>
}

export class DevflowError extends Error {
  readonly code: string
  readonly hint: string
  readonly kind: ErrorKind
  readonly details?: Record<string, unknown>

  constructor(options: DevflowErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'DevflowError'
    this.code = options.code
    this.hint = options.hint
    this.kind = options.kind
    this.details = options.details
  }

  get exitCode(): ExitCode {
    return exitCodeFor(this.kind)
  }

  get httpStatus(): number {
    return httpStatusFor(this.kind)
  }

  /** The error body of DESIGN.md: `{"error": {"code", "message", "hint"}}`. */
  toJSON(): {error: {code: string; message: string; hint: string; details?: Record<string, unknown>}} {
    return {
      error: {
        code: this.code,
        message: this.message,
        hint: this.hint,
        ...(this.details ? {details: this.details} : {}),
      },
    }
  }
}

export function isDevflowError(value: unknown): value is DevflowError {
  return value instanceof DevflowError
}

type Factory = (code: string, message: string, hint: string, extra?: {cause?: unknown; details?: Record<string, unknown>}) => DevflowError

function factory(kind: ErrorKind): Factory {
  return (code, message, hint, extra) => new DevflowError({code, message, hint, kind, ...extra})
}

export const invalidInput = factory('invalid')
export const tooLarge = factory('too_large')
export const notFound = factory('not_found')
export const unauthenticated = factory('unauthenticated')
export const forbidden = factory('forbidden')
export const conflict = factory('conflict')
export const timedOut = factory('timeout')
export const remoteFailure = factory('remote')
export const unavailable = factory('unavailable')
export const internalError = factory('internal')

/*
 * The errors every SessionStore and PromptStore raises (src/core/ports.ts): the services branch on
 * these codes, so each adapter throws the same error with the same words.
 */
type ErrorOptions = {cause?: unknown}

export function sessionNotFound(sessionId: string, options?: ErrorOptions) {
  return notFound('SESSION_NOT_FOUND', `Session ${sessionId} does not exist.`, 'Run `devflow session list` to see your sessions.', options)
}

export function promptNotFound(sessionId: string, promptId: string, options?: ErrorOptions) {
  return notFound('PROMPT_NOT_FOUND', `Prompt ${promptId} does not exist in session ${sessionId}.`, 'Run `devflow session logs <session>` to list the session\'s prompts.', options)
}

export function sessionExists(sessionId: string, options?: ErrorOptions) {
  return conflict('SESSION_EXISTS', `Session ${sessionId} already exists.`, 'Use a new idempotency key, or read the existing session.', options)
}

export function promptSeqTaken(sessionId: string, seq: number, options?: ErrorOptions) {
  return conflict('PROMPT_SEQ_TAKEN', `Session ${sessionId} already has a prompt ${seq}.`, 'Queue the prompt again: the next prompt number is read again.', options)
}

/** `what` names the record, e.g. "Session s-…". */
export function concurrentUpdate(what: string, options?: ErrorOptions) {
  return conflict('CONCURRENT_UPDATE', `${what} changed while this request was updating it.`, 'Read it again and retry.', options)
}
