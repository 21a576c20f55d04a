/**
 * The API's routes: one Lambda function per route (entry file in lambda/), the auth API Gateway
 * applies, and the same table drives the router, the CDK API construct and the local server.
 */
export type RouteAuth = 'iam' | 'agent' | 'github' | 'workspace'

export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'DELETE'
  /** API Gateway resource path with {id}/{pid} parameters. */
  readonly path: string
  /** The entry file's base name under lambda/. */
  readonly lambda: string
  /**
   * `iam`: API Gateway AWS_IAM (the caller's SigV4 identity). `agent`: no API Gateway auth; the
   * handler checks the session's bearer token. `github`: no API Gateway auth; the handler checks
   * `X-Hub-Signature-256` with the App's webhook secret over the raw body. `workspace`: API Gateway
   * AWS_IAM, called by the workspace task with its task role (locally: no IAM, the task's one-use
   * nonce as a bearer token).
   */
  readonly auth: RouteAuth
  /** Long polls need more than the default timeout. */
  readonly timeoutSeconds?: number
}

export const ROUTES: readonly RouteSpec[] = [
  {method: 'POST', path: '/sessions', lambda: 'start-session', auth: 'iam'},
  {method: 'GET', path: '/sessions', lambda: 'list-sessions', auth: 'iam'},
  {method: 'GET', path: '/sessions/{id}', lambda: 'get-session', auth: 'iam'},
  /** Every user's sessions, for the stage's admins only (core/admins.ts). */
  {method: 'GET', path: '/admin/sessions', lambda: 'list-all-sessions', auth: 'iam'},
  /** The repositories the caller may start sessions on (the console's start form). */
  {method: 'GET', path: '/repositories', lambda: 'list-repositories', auth: 'iam'},
  {method: 'DELETE', path: '/sessions/{id}', lambda: 'stop-session', auth: 'iam'},
  {method: 'POST', path: '/sessions/{id}/prompts', lambda: 'create-prompt', auth: 'iam'},
  {method: 'GET', path: '/sessions/{id}/prompts', lambda: 'list-prompts', auth: 'iam'},
  {method: 'GET', path: '/sessions/{id}/prompts/{pid}', lambda: 'get-prompt', auth: 'iam'},
  // `?after=N&wait=S`: a long poll, answered when an event lands or the prompt ends, `wait` clamped
  // to 20 s (MAX_EVENTS_WAIT_SECONDS) inside API Gateway's 29 s integration timeout.
  {method: 'GET', path: '/sessions/{id}/prompts/{pid}/events', lambda: 'get-prompt-events', auth: 'iam', timeoutSeconds: 29},
  {method: 'GET', path: '/sessions/{id}/editor', lambda: 'get-editor', auth: 'iam'},
  {method: 'POST', path: '/sessions/{id}/budget', lambda: 'add-session-budget', auth: 'iam'},
  {method: 'POST', path: '/sessions/{id}/resume', lambda: 'resume-session', auth: 'iam'},
  {method: 'GET', path: '/usage', lambda: 'get-usage', auth: 'iam'},
  {method: 'POST', path: '/notifications/test', lambda: 'test-notification', auth: 'iam'},
  {method: 'GET', path: '/health', lambda: 'health', auth: 'iam'},
  {method: 'POST', path: '/agent/sessions/{id}/bootstrap', lambda: 'agent-bootstrap', auth: 'workspace'},
  {method: 'POST', path: '/agent/sessions/{id}/checkpoint', lambda: 'agent-save-checkpoint', auth: 'workspace'},
  {method: 'GET', path: '/agent/sessions/{id}/checkpoint', lambda: 'agent-get-checkpoint', auth: 'workspace'},
  {method: 'GET', path: '/agent/sessions/{id}/prompts/next', lambda: 'agent-next-prompt', auth: 'agent', timeoutSeconds: 29},
  {method: 'POST', path: '/agent/sessions/{id}/prompts/{pid}/events', lambda: 'agent-prompt-events', auth: 'agent'},
  {method: 'POST', path: '/agent/sessions/{id}/prompts/{pid}/result', lambda: 'agent-prompt-result', auth: 'agent'},
  {method: 'POST', path: '/agent/sessions/{id}/heartbeat', lambda: 'agent-heartbeat', auth: 'agent'},
  {method: 'POST', path: '/agent/sessions/{id}/github-token', lambda: 'agent-github-token', auth: 'agent'},
  {method: 'POST', path: '/github/webhook', lambda: 'github-webhook', auth: 'github'},
  // The warm pool's tasks (core/services/warm-pool.ts): register with the task's proof, then poll with the token it answered.
  {method: 'POST', path: '/agent/warm/{id}/register', lambda: 'agent-warm-register', auth: 'workspace'},
  {method: 'POST', path: '/agent/warm/{id}/claim', lambda: 'agent-warm-claim', auth: 'agent', timeoutSeconds: 29},
]

/** Where GitHub sends the App's webhooks: the API's URL plus this path (`devflow github status`). */
export const GITHUB_WEBHOOK_PATH = '/github/webhook'

/** Not an API route: runs on a schedule and stops idle or expired sessions. */
export const REAPER_LAMBDA = 'reap-sessions'

/** The event of the warm pool's every-minute schedule: the reaper function then runs only the pool keeper. */
export const WARM_POOL_KEEPER_TASK = 'warm-pool'
