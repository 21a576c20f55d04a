/**
 * The local egress allow-list: an HTTP(S) forward proxy for workspaces run by the Docker runtime
 * on a bridge network, with HTTPS_PROXY/HTTP_PROXY pointing here. It enforces the same list as the
 * DNS Firewall on AWS (src/core/egress.ts):
 *   - CONNECT host:port (https, git over https): tunnelled when the host is allowed;
 *   - a plain request with an absolute URL (http): forwarded when the host is allowed;
 *   - anything else: 403 with a one-line reason, and the blocked host is logged.
 * Only the ports of the workspace security group on AWS are let through (443 and 80 by default).
 * The proxy binds to one address only; processes on the host itself are not restricted by it.
 *
 * Two names are dialled without a DNS look-up:
 *   - `upstreams`: the platform's own services under a fixed name (the DevFlow API on the host's
 *     127.0.0.1, which a workspace on an internal Docker network cannot reach itself), always
 *     allowed, the Host header rewritten to the upstream's own (the local API answers loopback
 *     hosts only);
 *   - a name under `.localhost` is dialled at 127.0.0.1 (RFC 6761 reserves it for loopback), so
 *     an allowed `github.localhost` reaches a server on this machine, and nothing else.
 */
import {createServer, type IncomingMessage, request as httpRequest, type Server, type ServerResponse} from 'node:http'
import {connect, type Socket} from 'node:net'

import {isEgressAllowed, normaliseHost, parseEgressList} from '../../core/egress.js'

export interface EgressDecisionLog {
  readonly at: string
  readonly host: string
  readonly port: number
  readonly method: string
  readonly allowed: boolean
  /** Why it was blocked. */
  readonly reason?: 'host' | 'port' | 'malformed'
}

export interface EgressProxyOptions {
  /** The allow-list: exact names and `*.suffix` patterns. */
  readonly allow: readonly string[]
  /** @default [443, 80] */
  readonly ports?: readonly number[]
  /** @default 127.0.0.1 */
  readonly host?: string
  /** @default 0 (any free port) */
  readonly port?: number
  /** Receives every blocked request (and, with logAllowed, the allowed ones). @default a line on stderr */
  readonly log?: (entry: EgressDecisionLog) => void
  readonly logAllowed?: boolean
  /** An idle tunnel or upstream request is closed after this long. @default 10 minutes */
  readonly idleTimeoutMs?: number
  /** Fixed upstreams by `name:port`: allowed whatever the list says, dialled at `host:port` with that Host header. */
  readonly upstreams?: Readonly<Record<string, FixedUpstream>>
}

export interface FixedUpstream {
  readonly host: string
  readonly port: number
}

export interface EgressProxy {
  /** http://host:port, for HTTPS_PROXY / HTTP_PROXY. */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

const HOP_BY_HOP = ['connection', 'proxy-connection', 'proxy-authorization', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']

export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const allow = parseEgressList([...options.allow])
  const ports = options.ports ?? [443, 80]
  const idleTimeoutMs = options.idleTimeoutMs ?? 10 * 60_000
  const log = options.log ?? ((entry) => process.stderr.write(`egress-proxy: blocked ${entry.method} ${entry.host}:${entry.port} (${entry.reason})\n`))
  const sockets = new Set<Socket>()
  const upstreams = new Map(Object.entries(options.upstreams ?? {}).map(([authority, target]) => [authority.toLowerCase(), target]))
  const fixed = (host: string, port: number) => upstreams.get(`${normaliseHost(host)}:${port}`)

  const decide = (method: string, host: string, port: number): EgressDecisionLog => {
    const base = {at: new Date().toISOString(), host: normaliseHost(host), port, method}
    const entry: EgressDecisionLog = fixed(host, port)
      ? {...base, allowed: true}
      : !ports.includes(port)
      ? {...base, allowed: false, reason: 'port'}
      : isEgressAllowed(host, allow)
        ? {...base, allowed: true}
        : {...base, allowed: false, reason: 'host'}
    if (!entry.allowed || options.logAllowed) log(entry)
    return entry
  }

  const server: Server = createServer((req, res) => forward(req, res))
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  function forward(req: IncomingMessage, res: ServerResponse): void {
    let target: URL
    try {
      target = new URL(req.url ?? '')
    } catch {
      log({at: new Date().toISOString(), host: '', port: 0, method: req.method ?? '?', allowed: false, reason: 'malformed'})
      return refuse(res, 400, 'This is a forward proxy: send an absolute http:// URL, or CONNECT host:port for https.')
    }
    if (target.protocol !== 'http:') return refuse(res, 400, `Only http:// is forwarded in the clear; use CONNECT for ${target.protocol}.`)
    const port = target.port === '' ? 80 : Number(target.port)
    const decision = decide(req.method ?? 'GET', target.hostname, port)
    if (!decision.allowed) return refuse(res, 403, blockedMessage(decision))
    const headers = {...req.headers}
    for (const name of HOP_BY_HOP) delete headers[name]
    const dial = dialTarget(target.hostname, port)
    if (fixed(target.hostname, port)) headers.host = `${dial.host}:${dial.port}`
    const upstream = httpRequest({host: dial.host, port: dial.port, method: req.method, path: `${target.pathname}${target.search}`, headers, timeout: idleTimeoutMs}, (answer) => {
      const answerHeaders = {...answer.headers}
      for (const name of HOP_BY_HOP) delete answerHeaders[name]
      res.writeHead(answer.statusCode ?? 502, answerHeaders)
      answer.pipe(res)
    })
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timed out')))
    upstream.on('error', (error) => {
      if (!res.headersSent) refuse(res, 502, `Upstream ${target.host} failed: ${error.message}`)
      else res.destroy()
    })
    req.pipe(upstream)
  }

  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const {host, port} = splitAuthority(req.url ?? '')
    const decision = host === undefined ? undefined : decide('CONNECT', host, port)
    if (!decision?.allowed) {
      if (!decision) log({at: new Date().toISOString(), host: req.url ?? '', port: 0, method: 'CONNECT', allowed: false, reason: 'malformed'})
      const message = decision ? blockedMessage(decision) : 'CONNECT needs host:port.'
      client.end(`HTTP/1.1 ${decision ? '403 Forbidden' : '400 Bad Request'}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(message)}\r\nconnection: close\r\n\r\n${message}`)
      return
    }
    const upstream = connect(dialTarget(decision.host, port))
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    upstream.setTimeout(idleTimeoutMs, () => upstream.destroy())
    client.setTimeout(idleTimeoutMs, () => client.destroy())
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => {
      if (client.writable && upstream.connecting) client.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n')
      else client.destroy()
    })
    client.on('error', () => upstream.destroy())
  })
  // A client that sends garbage gets a 400, not a crash.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n')
    else socket.destroy()
  })

  /** Where a decided host:port is dialled: a fixed upstream, 127.0.0.1 for `.localhost` names, else the name itself. */
  function dialTarget(host: string, port: number): {host: string; port: number} {
    const name = normaliseHost(host)
    return fixed(name, port) ?? (name === 'localhost' || name.endsWith('.localhost') ? {host: '127.0.0.1', port} : {host: name, port})
  }

  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

function splitAuthority(authority: string): {host?: string; port: number} {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(authority)
  if (!match) return {port: 0}
  return {host: match[1], port: Number(match[2])}
}

function blockedMessage(decision: EgressDecisionLog): string {
  return decision.reason === 'port'
    ? `DevFlow egress: port ${decision.port} is not allowed (only the ports the stage opens).`
    : `DevFlow egress: ${decision.host} is not on the stage's allow-list (devflow:egressAllow).`
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, {'content-type': 'text/plain', 'content-length': Buffer.byteLength(message), connection: 'close'})
  res.end(message)
}
