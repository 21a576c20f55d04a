/**
 * A small seeded fuzzer for the API's routes: malformed and hostile path ids, query values, headers
 * and bodies, drawn from a PRNG so that a failure names its seed and case and reproduces exactly
 * (DEVFLOW_FUZZ_SEED, DEVFLOW_FUZZ_CASES). Requests go out with node:http, so any header and any
 * byte sequence can be sent, and only to 127.0.0.1.
 */
import {request as httpRequest} from 'node:http'

import {ROUTES, type RouteSpec} from '../../src/api/routes.js'

export type Random = () => number

/** mulberry32: tiny, fast, and the same sequence on every machine. */
export function seeded(seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

export function fuzzSeed(): number {
  return Number(process.env.DEVFLOW_FUZZ_SEED ?? 0x11_0f_22)
}

export function fuzzCases(fallback: number): number {
  return Number(process.env.DEVFLOW_FUZZ_CASES ?? fallback)
}

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]

const QUERY_PARAMETERS: Record<string, readonly string[]> = {
  'GET /sessions': ['limit', 'nextToken', 'status'],
  'GET /sessions/{id}/prompts': ['limit', 'nextToken'],
  'GET /sessions/{id}/prompts/{pid}/events': ['after'],
  'GET /agent/sessions/{id}/prompts/next': ['wait'],
}

const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url')

/** Page tokens that are not ours: store cursors of every shape, and near misses of sealed ones. */
const FORGED_TOKENS = [
  base64url('{"session_id":"s-aaaaaaaaaaaaaaaaaaaa"}'),
  base64url('{"session_id":{"S":"x"}}'),
  base64url('{"session_id":1,"user_id":2,"created_at":3}'),
  base64url('{"session_id":"x","seq":"1"}'),
  base64url('{"session_id":"x","seq":1e400}'),
  base64url('[]'),
  base64url('"x"'),
  base64url('{"__proto__":{"x":1}}'),
  'v1.e30.AAAA',
  'v1..',
  'x'.repeat(3000),
]

function queryValue(random: Random, name: string, targets: FuzzTargets): string {
  if (name === 'nextToken') {
    if (targets.nextTokens.length > 0 && random() < 0.3) return `${pick(random, targets.nextTokens)}${pick(random, ['', 'x', 'A', '.x'])}`
    return pick(random, [...FORGED_TOKENS, ...HOSTILE_NUMBERS.slice(0, 4)])
  }
  if (name === 'status') return pick(random, ['running', 'RUNNING', 'stopped', '', 'all', '\u0000'])
  return pick(random, HOSTILE_NUMBERS)
}

/** What the fuzzer knows of the platform under test: real ids and tokens to mix with hostile ones. */
export interface FuzzTargets {
  readonly sessionIds: readonly string[]
  readonly promptIds: readonly string[]
  /** Valid Authorization header values for user routes (signing happens in `authorize`). */
  readonly agentTokens: readonly string[]
  readonly nextTokens: readonly string[]
}

export interface FuzzRequest {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body?: Buffer
  /** A one-line description for failure messages. */
  readonly label: string
}

const HOSTILE_SEGMENTS = [
  '',
  '.',
  '..',
  '%2e%2e',
  '%2F',
  '%00',
  '%ZZ',
  '%ED%A0%80', // an encoded lone surrogate
  '%F0%9F%92%A9',
  's-',
  's-AAAAAAAAAAAAAAAAAAAA',
  's-aaaaaaaaaaaaaaaaaaaaa',
  'p-aaaaaaaaaaaaaaaaaaaa',
  "s-aaaaaaaaaaaaaaaaaaaa'--",
  'x'.repeat(3000),
  '%20s-aaaaaaaaaaaaaaaaaaaa',
  '__proto__',
  'constructor',
]

const HOSTILE_NUMBERS = ['-1', '1e3', '1.5', '0x10', 'NaN', 'Infinity', ' 1', '99999999999999999999', '9007199254740993', '', '00', '١', '1'.repeat(400)]

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\ud800',
  '\udc00x',
  '😀',
  '\u202e',
  'a'.repeat(70_000),
  '../../etc/passwd',
  '$(reboot)',
  '<script>',
  '%s%n',
  '\r\nX-Injected: 1',
]

const HOSTILE_JSON: unknown[] = [
  null,
  true,
  0,
  -0,
  1e308,
  -1e308,
  5e-324,
  Number.MAX_SAFE_INTEGER + 2,
  [],
  {},
  {'': ''},
  JSON.parse('{"__proto__": {"admin": true}}'),
  {constructor: {prototype: {admin: true}}},
  nested(70),
]

function nested(depth: number): unknown {
  let value: unknown = []
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

function hostileValue(random: Random, depth = 0): unknown {
  const roll = random()
  if (roll < 0.35) return pick(random, HOSTILE_STRINGS)
  if (roll < 0.65 || depth > 3) return pick(random, HOSTILE_JSON)
  if (roll < 0.8) return Array.from({length: Math.floor(random() * 4)}, () => hostileValue(random, depth + 1))
  const object: Record<string, unknown> = {}
  for (let i = Math.floor(random() * 4); i > 0; i--) object[String(pick(random, [...HOSTILE_STRINGS.slice(0, 7), 'data', 'type', 'text', 'repo', 'events']))] = hostileValue(random, depth + 1)
  return object
}

/** A well-formed body for the route, that `mutate` then breaks in one or more places. */
function baseBody(route: RouteSpec, random: Random, repos: readonly string[]): Record<string, unknown> | undefined {
  switch (`${route.method} ${route.path}`) {
    case 'POST /sessions':
      return {repo: pick(random, repos), branch: 'main', cpu: 1, memory: '4GB', ttl: '1h', idleTimeout: '30m'}
    case 'POST /sessions/{id}/prompts':
      return {text: 'Add a test', pr: 'none'}
    case 'POST /agent/sessions/{id}/prompts/{pid}/events':
      return {events: [{type: 'log', text: 'working', data: {step: 1}}]}
    case 'POST /agent/sessions/{id}/prompts/{pid}/result':
      return {status: 'SUCCEEDED', summary: 'done', branch: 'devflow/x', commit: 'abcdef1', turns: 1, costUsd: 0.1}
    case 'POST /agent/sessions/{id}/heartbeat':
      return {state: 'idle'}
    default:
      return undefined
  }
}

function mutateBody(random: Random, base: Record<string, unknown> | undefined): Buffer | undefined {
  const roll = random()
  if (roll < 0.08) return undefined
  if (roll < 0.14) return Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28])
  if (roll < 0.2) return Buffer.from(pick(random, ['{', '{"a":', 'nul', '"\\ud800"', '{"text": "\\ud800"}', '{"events":[{"type":"x","data":{"\\udfff":1}}]}', '[]', '1e309']))
  if (roll < 0.24) return Buffer.from(JSON.stringify({events: Array.from({length: 101}, () => ({type: 'log'}))}))
  const body: Record<string, unknown> = {...(base ?? {})}
  const keys = Object.keys(body)
  const changes = 1 + Math.floor(random() * 3)
  for (let i = 0; i < changes; i++) {
    if (keys.length > 0 && random() < 0.7) body[pick(random, keys)] = hostileValue(random)
    else body[pick(random, ['extra', '__proto__', 'events', 'data', 'status'])] = hostileValue(random)
  }
  // Nested places too: an event's fields.
  if (Array.isArray(body.events) && random() < 0.5) body.events = [{type: pick(random, ['log', '', 'x'.repeat(65)]), data: hostileValue(random), text: pick(random, HOSTILE_STRINGS)}]
  return Buffer.from(JSON.stringify(body))
}

/** One random request against one of the routes (or a near miss of one). */
export function fuzzRequest(random: Random, targets: FuzzTargets, options: {repos: readonly string[]}): FuzzRequest {
  const route = pick(random, ROUTES)
  const segment = (real: readonly string[]) => (real.length > 0 && random() < 0.55 ? pick(random, real) : pick(random, HOSTILE_SEGMENTS))
  let path = route.path.replace('{id}', () => segment(targets.sessionIds)).replace('{pid}', () => segment(targets.promptIds))
  if (random() < 0.05) path = `${path}/${pick(random, ['x', '..', ''])}`
  const query = new URLSearchParams()
  // The parameters a route reads are fuzzed often, the others now and then.
  const reads = QUERY_PARAMETERS[`${route.method} ${route.path}`] ?? []
  for (const name of ['limit', 'nextToken', 'status', 'after', 'wait']) {
    if (random() < (reads.includes(name) ? 0.6 : 0.05)) query.set(name, queryValue(random, name, targets))
  }
  // A long poll with a real token would wait its full 20 s: always ask for no wait unless hostile.
  if (route.path.endsWith('/prompts/next') && !query.has('wait')) query.set('wait', '0')
  if (query.get('wait') !== null && /^0*[1-9]\d{0,1}$/.test(query.get('wait') ?? '')) query.set('wait', '0')
  const method = random() < 0.06 ? pick(random, ['PUT', 'PATCH', 'OPTIONS', 'DELETE', 'POST']) : route.method
  const headers: Record<string, string> = {}
  const contentType = pick(random, ['application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', ''])
  if (contentType) headers['content-type'] = contentType
  if (route.auth === 'agent' || random() < 0.15) {
    const token = targets.agentTokens.length > 0 && random() < 0.5 ? pick(random, targets.agentTokens) : pick(random, ['', 'x', 'null', 'a'.repeat(5000), '../../token'])
    headers.authorization = pick(random, [`Bearer ${token}`, `bearer ${token}`, `Bearer  ${token} `, `Basic ${token}`, token, 'Bearer'])
  }
  if (random() < 0.1) headers['x-forwarded-proto'] = pick(random, ['javascript', 'https', ''])
  const body = route.method === 'POST' || random() < 0.1 ? mutateBody(random, baseBody(route, random, options.repos)) : undefined
  const search = query.toString()
  return {
    method,
    path: `${path}${search ? `?${search}` : ''}`,
    headers,
    ...(body ? {body} : {}),
    label: `${method} ${path.slice(0, 120)}${search ? `?${search.slice(0, 120)}` : ''} ${JSON.stringify(headers).slice(0, 160)} body=${body ? body.toString('utf8').slice(0, 160) : '-'}`,
  }
}

export interface RawResponse {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
}

/** Sends the request as it is (no normalisation of the path, headers or body). */
export function send(baseUrl: string, request: FuzzRequest, extraHeaders: Record<string, string> = {}): Promise<RawResponse> {
  const url = new URL(baseUrl)
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        hostname: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        headers: {...request.headers, ...extraHeaders, ...(request.body ? {'content-length': String(request.body.length)} : {})},
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () => resolve({status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8')}))
        response.on('error', reject)
      },
    )
    outgoing.on('error', reject)
    outgoing.end(request.body)
  })
}
