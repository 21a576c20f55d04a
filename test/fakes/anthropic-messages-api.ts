/**
 * A scripted Anthropic Messages API on 127.0.0.1, for running the real Claude Code CLI
 * (`ANTHROPIC_BASE_URL`) without the internet.
 *
 * Shapes, as the real API's (https://docs.claude.com/en/api/messages, .../messages-streaming):
 * - `POST /v1/messages` with `"stream": true` answers `text/event-stream`: `message_start` (the
 *   message with empty content and input usage), then per content block `content_block_start`,
 *   `content_block_delta` (`text_delta`, or `input_json_delta` for a tool_use's input) and
 *   `content_block_stop`, a `ping`, then `message_delta` (`stop_reason`, output usage) and
 *   `message_stop`. Without `stream` it answers the whole message as JSON.
 * - An error is its HTTP status with `{"type":"error","error":{"type","message"},"request_id"}`
 *   and a `request-id` header; the `error.type` follows the status (401 authentication_error,
 *   429 rate_limit_error, 529 overloaded_error, ...).
 * - `POST /v1/messages/count_tokens` answers `{"input_tokens": N}`.
 *
 * Scripting: the CLI's agent turns (requests that offer tools) take the scripted replies in order;
 * once the script is used up they get `fallback` (a short `end_turn` text). The CLI's side requests
 * (no tools: titles, summaries) always get a short text and never use up the script. Every request
 * is recorded with its parsed body, so a test can check what the CLI sent (the resumed
 * conversation, the tools offered, the model).
 */
import {randomBytes} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export type ContentBlock =
  | {readonly type: 'text'; readonly text: string}
  | {readonly type: 'tool_use'; readonly id: string; readonly name: string; readonly input: Record<string, unknown>}

export type StopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence'

export type ScriptedReply =
  | {
      readonly kind: 'message'
      readonly content: readonly ContentBlock[]
      readonly stopReason?: StopReason
      /** Milliseconds before the answer starts (a slow model). */
      readonly delayMs?: number
      readonly usage?: {readonly inputTokens?: number; readonly outputTokens?: number}
    }
  | {readonly kind: 'error'; readonly status: number; readonly message?: string; readonly errorType?: string}
  /** Never answers; the connection stays open until the client gives up or the fake closes. */
  | {readonly kind: 'hang'}

export type MessageReply = Extract<ScriptedReply, {kind: 'message'}>

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: MessagesRequestBody | undefined
  /** Whether the request took a scripted reply (an agent turn) rather than the side answer. */
  readonly agentTurn: boolean
}

export interface MessagesRequestBody {
  readonly model?: string
  readonly stream?: boolean
  readonly max_tokens?: number
  readonly system?: unknown
  readonly messages?: ReadonlyArray<{readonly role: string; readonly content: unknown}>
  readonly tools?: ReadonlyArray<{readonly name: string}>
  readonly [key: string]: unknown
}

/** The error.type the real API uses for each status. */
export const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
}

const DEFAULT_ERROR_MESSAGES: Readonly<Record<number, string>> = {
  400: 'Invalid request',
  401: 'invalid x-api-key',
  403: 'Your API key does not have permission to use the specified resource.',
  429: 'Number of request tokens has exceeded your per-minute rate limit',
  500: 'Internal server error',
  529: 'Overloaded',
}

export function text(value: string): ContentBlock {
  return {type: 'text', text: value}
}

export function toolUse(name: string, input: Record<string, unknown>): ContentBlock {
  return {type: 'tool_use', id: `toolu_01${randomBytes(11).toString('hex')}`, name, input}
}

/** An assistant turn: tool_use blocks end with stop_reason tool_use, text only with end_turn. */
export function reply(...content: ContentBlock[]): MessageReply {
  return {kind: 'message', content, stopReason: content.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn'}
}

export function apiError(status: number, message?: string): ScriptedReply {
  return {kind: 'error', status, message}
}

export class FakeMessagesApi {
  readonly requests: RecordedRequest[] = []
  url = ''
  fallback: ScriptedReply = reply(text('Done.'))
  private script: ScriptedReply[] = []
  private server?: Server
  private readonly open = new Set<ServerResponse>()

  static async start(): Promise<FakeMessagesApi> {
    const fake = new FakeMessagesApi()
    fake.server = createServer((req, res) => {
      fake.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendError(res, 500, `fake failure: ${String(error)}`)
        else res.destroy()
      })
    })
    await new Promise<void>((resolve) => fake.server?.listen(0, '127.0.0.1', resolve))
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`
    return fake
  }

  /** Replaces the script: the next agent turns get these replies, in order. */
  setScript(...replies: ScriptedReply[]): void {
    this.script = [...replies]
  }

  /** How many scripted replies are still waiting for an agent turn. */
  get pending(): number {
    return this.script.length
  }

  /** The recorded agent turns (requests that offered tools). */
  agentTurns(): RecordedRequest[] {
    return this.requests.filter((request) => request.agentTurn)
  }

  reset(): void {
    this.requests.length = 0
    this.script = []
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req)
    const path = (req.url ?? '/').split('?')[0]
    let body: MessagesRequestBody | undefined
    try {
      body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as MessagesRequestBody) : undefined
    } catch {
      this.requests.push({method: req.method ?? '', path, headers: req.headers, body: undefined, agentTurn: false})
      sendError(res, 400, 'The request body is not valid JSON.')
      return
    }
    const isMessages = req.method === 'POST' && path === '/v1/messages'
    const agentTurn = isMessages && Array.isArray(body?.tools) && body.tools.length > 0
    this.requests.push({method: req.method ?? '', path, headers: req.headers, body, agentTurn})

    if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
      sendJson(res, 200, {input_tokens: Math.ceil(raw.length / 4)})
      return
    }
    if (!isMessages) {
      sendError(res, 404, `Not found: ${req.method} ${path}`)
      return
    }
    if (!body || !Array.isArray(body.messages) || typeof body.model !== 'string') {
      sendError(res, 400, 'messages: Field required')
      return
    }
    const scripted = agentTurn ? (this.script.shift() ?? this.fallback) : reply(text('DevFlow session'))
    await this.answer(req, res, body, scripted)
  }

  private async answer(req: IncomingMessage, res: ServerResponse, body: MessagesRequestBody, scripted: ScriptedReply): Promise<void> {
    if (scripted.kind === 'hang') {
      this.open.add(res)
      res.once('close', () => this.open.delete(res))
      return
    }
    if (scripted.kind === 'error') {
      sendError(res, scripted.status, scripted.message ?? DEFAULT_ERROR_MESSAGES[scripted.status] ?? 'Error', scripted.errorType)
      return
    }
    if (scripted.delayMs) {
      this.open.add(res)
      const closed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), scripted.delayMs)
        req.socket.once('close', () => {
          clearTimeout(timer)
          resolve(true)
        })
      })
      this.open.delete(res)
      if (closed) return
    }
    const message = {
      id: `msg_01${randomBytes(11).toString('hex')}`,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: scripted.content,
      stop_reason: scripted.stopReason ?? 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: scripted.usage?.inputTokens ?? inputTokensOf(body),
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: scripted.usage?.outputTokens ?? outputTokensOf(scripted.content),
      },
    }
    if (body.stream === true) streamMessage(res, message)
    else sendJson(res, 200, message)
  }
}

interface Message {
  readonly id: string
  readonly model: string | undefined
  readonly content: readonly ContentBlock[]
  readonly stop_reason: string
  readonly usage: {readonly input_tokens: number; readonly output_tokens: number; readonly [key: string]: number}
  readonly [key: string]: unknown
}

function streamMessage(res: ServerResponse, message: Message): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': requestId(),
  })
  const event = (type: string, data: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({type, ...data})}\n\n`)
  event('message_start', {message: {...message, content: [], stop_reason: null, usage: {...message.usage, output_tokens: 1}}})
  message.content.forEach((block, index) => {
    if (block.type === 'text') {
      event('content_block_start', {index, content_block: {type: 'text', text: ''}})
      if (index === 0) event('ping', {})
      for (const piece of chunks(block.text, 40)) event('content_block_delta', {index, delta: {type: 'text_delta', text: piece}})
    } else {
      event('content_block_start', {index, content_block: {type: 'tool_use', id: block.id, name: block.name, input: {}}})
      if (index === 0) event('ping', {})
      for (const piece of chunks(JSON.stringify(block.input), 40)) {
        event('content_block_delta', {index, delta: {type: 'input_json_delta', partial_json: piece}})
      }
    }
    event('content_block_stop', {index})
  })
  event('message_delta', {delta: {stop_reason: message.stop_reason, stop_sequence: null}, usage: {output_tokens: message.usage.output_tokens}})
  event('message_stop', {})
  res.end()
}

function chunks(value: string, size: number): string[] {
  const pieces: string[] = []
  for (let i = 0; i < value.length; i += size) pieces.push(value.slice(i, i + size))
  return pieces.length > 0 ? pieces : ['']
}

function inputTokensOf(body: MessagesRequestBody): number {
  return Math.max(1, Math.ceil(JSON.stringify(body.messages ?? []).length / 4))
}

function outputTokensOf(content: readonly ContentBlock[]): number {
  return Math.max(1, Math.ceil(JSON.stringify(content).length / 4))
}

function requestId(): string {
  return `req_01${randomBytes(11).toString('hex')}`
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body))
  res.writeHead(status, {'content-type': 'application/json', 'content-length': data.length, 'request-id': requestId()})
  res.end(data)
}

function sendError(res: ServerResponse, status: number, message: string, errorType?: string): void {
  const id = requestId()
  const data = Buffer.from(JSON.stringify({type: 'error', error: {type: errorType ?? ERROR_TYPES[status] ?? 'api_error', message}, request_id: id}))
  res.writeHead(status, {'content-type': 'application/json', 'content-length': data.length, 'request-id': id})
  res.end(data)
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const part of req) parts.push(part as Buffer)
  return Buffer.concat(parts)
}
