/**
 * The local egress proxy, for real on 127.0.0.1: an upstream HTTP server stands in for GitHub and
 * for an unlisted host. `localhost` is on the allow-list; `127.0.0.1` (the same server, under a
 * name not on the list) is not. Only loopback traffic.
 */
import {createServer, request, type Server} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

import {expect} from 'chai'

import {type EgressDecisionLog, type EgressProxy, startEgressProxy} from '../../../../src/adapters/local/egress-proxy.js'

interface Reply {
  status: number
  body: string
}

function viaProxy(proxy: EgressProxy, url: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // A forward proxy gets the absolute URL as the request target.
    const req = request({host: '127.0.0.1', port: proxy.port, method: 'GET', path: url, headers: {host: url.startsWith('/') ? 'localhost' : new URL(url).host}}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
    })
    req.on('error', reject)
    req.end()
  })
}

/** CONNECT through the proxy; on 200, speaks HTTP/1.1 over the tunnel and returns that reply too. */
function tunnel(proxy: EgressProxy, authority: string): Promise<{status: number; body: string; tunnelled?: string}> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: authority})
    req.on('connect', (res, socket: Socket, head: Buffer) => {
      if (res.statusCode !== 200) {
        let body = head.toString()
        socket.on('data', (chunk: Buffer) => (body += chunk.toString()))
        socket.on('end', () => resolve({status: res.statusCode ?? 0, body}))
        return
      }
      let raw = ''
      socket.on('data', (chunk: Buffer) => (raw += chunk.toString()))
      socket.on('end', () => resolve({status: 200, body: '', tunnelled: raw}))
      socket.write(`GET /through-tunnel HTTP/1.1\r\nhost: ${authority}\r\nconnection: close\r\n\r\n`)
    })
    req.on('error', reject)
    req.end()
  })
}

describe('adapters/local/egress-proxy: the allow-list, for real on 127.0.0.1', () => {
  let upstream: Server
  let upstreamPort: number
  const seen: string[] = []
  let proxy: EgressProxy
  const blocked: EgressDecisionLog[] = []

  before(async () => {
    upstream = createServer((req, res) => {
      seen.push(`${req.headers.host} ${req.url}`)
      res.writeHead(200, {'content-type': 'text/plain'})
      res.end(`upstream says hello to ${req.url}`)
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    upstreamPort = (upstream.address() as AddressInfo).port
    proxy = await startEgressProxy({allow: ['localhost', '*.github.test'], ports: [upstreamPort], log: (entry) => blocked.push(entry)})
  })
  after(async () => {
    await proxy.close()
    await new Promise((resolve) => upstream.close(resolve))
  })
  beforeEach(() => {
    seen.length = 0
    blocked.length = 0
  })

  it('forwards a plain http request to an allowed host', async () => {
    const reply = await viaProxy(proxy, `http://localhost:${upstreamPort}/repo.git/info/refs?service=git-upload-pack`)
    expect(reply).to.deep.equal({status: 200, body: 'upstream says hello to /repo.git/info/refs?service=git-upload-pack'})
    expect(seen).to.deep.equal([`localhost:${upstreamPort} /repo.git/info/refs?service=git-upload-pack`])
    expect(blocked).to.deep.equal([])
  })

  it('refuses a plain http request to a host not on the list, never reaching it, and logs it', async () => {
    const reply = await viaProxy(proxy, `http://127.0.0.1:${upstreamPort}/exfiltrate`)
    expect(reply.status).to.equal(403)
    expect(reply.body).to.equal('DevFlow egress: 127.0.0.1 is not on the stage\'s allow-list (devflow:egressAllow).')
    expect(seen).to.deep.equal([])
    expect(blocked).to.have.length(1)
    expect(blocked[0]).to.include({host: '127.0.0.1', port: upstreamPort, method: 'GET', allowed: false, reason: 'host'})
  })

  it('tunnels CONNECT to an allowed host:port', async () => {
    const result = await tunnel(proxy, `localhost:${upstreamPort}`)
    expect(result.status).to.equal(200)
    expect(result.tunnelled).to.match(/^HTTP\/1\.1 200 OK/)
    expect(result.tunnelled).to.contain('upstream says hello to /through-tunnel')
    expect(seen).to.deep.equal([`localhost:${upstreamPort} /through-tunnel`])
  })

  it('refuses CONNECT to a host not on the list, and to an allowed host on a port not opened', async () => {
    const host = await tunnel(proxy, `127.0.0.1:${upstreamPort}`)
    expect(host.status).to.equal(403)
    expect(host.body).to.contain('127.0.0.1 is not on the stage\'s allow-list')
    const port = await tunnel(proxy, 'localhost:22')
    expect(port.status).to.equal(403)
    expect(port.body).to.contain('port 22 is not allowed')
    expect(seen).to.deep.equal([])
    expect(blocked.map((entry) => [entry.method, entry.host, entry.port, entry.reason])).to.deep.equal([
      ['CONNECT', '127.0.0.1', upstreamPort, 'host'],
      ['CONNECT', 'localhost', 22, 'port'],
    ])
  })

  it('refuses the apex and look-alikes of a *.suffix pattern before any look-up', async () => {
    // Names that do not resolve: the refusal comes before any DNS query (core/egress tests cover the matching).
    const apex = await viaProxy(proxy, `http://github.test:${upstreamPort}/`)
    expect(apex.status).to.equal(403)
    const lookalike = await viaProxy(proxy, `http://evilgithub.test:${upstreamPort}/`)
    expect(lookalike.status).to.equal(403)
    expect(blocked.map((entry) => entry.host)).to.deep.equal(['github.test', 'evilgithub.test'])
  })

  it('answers 400 to a request that is not for a proxy', async () => {
    const reply = await viaProxy(proxy, '/relative')
    expect(reply.status).to.equal(400)
    expect(reply.body).to.contain('forward proxy')
  })
})

describe('adapters/local/egress-proxy: .localhost names and the fixed DevFlow API upstream', () => {
  let upstream: Server
  let upstreamPort: number
  const seen: string[] = []
  let proxy: EgressProxy
  const blocked: EgressDecisionLog[] = []

  before(async () => {
    upstream = createServer((req, res) => {
      seen.push(`${req.headers.host} ${req.url}`)
      res.writeHead(200, {'content-type': 'text/plain'})
      res.end(`hello ${req.url}`)
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    upstreamPort = (upstream.address() as AddressInfo).port
    proxy = await startEgressProxy({
      allow: ['github.localhost', '*.github.localhost'],
      ports: [upstreamPort],
      upstreams: {'devflow-api:80': {host: '127.0.0.1', port: upstreamPort}},
      log: (entry) => blocked.push(entry),
    })
  })
  after(async () => {
    await proxy.close()
    await new Promise((resolve) => upstream.close(resolve))
  })
  beforeEach(() => {
    seen.length = 0
    blocked.length = 0
  })

  it('dials an allowed github-like .localhost name on 127.0.0.1 (RFC 6761), in the clear and through CONNECT', async () => {
    const plain = await viaProxy(proxy, `http://github.localhost:${upstreamPort}/owner/repo.git/info/refs`)
    expect(plain).to.deep.equal({status: 200, body: 'hello /owner/repo.git/info/refs'})
    const tunnelled = await tunnel(proxy, `api.github.localhost:${upstreamPort}`)
    expect(tunnelled.status).to.equal(200)
    expect(tunnelled.tunnelled).to.contain('hello /through-tunnel')
    expect(seen).to.deep.equal([`github.localhost:${upstreamPort} /owner/repo.git/info/refs`, `api.github.localhost:${upstreamPort} /through-tunnel`])
  })

  it('blocks another .localhost name, never reaching it', async () => {
    const plain = await viaProxy(proxy, `http://evil.localhost:${upstreamPort}/steal`)
    expect(plain.status).to.equal(403)
    const tunnelled = await tunnel(proxy, `evil.localhost:${upstreamPort}`)
    expect(tunnelled.status).to.equal(403)
    expect(seen).to.deep.equal([])
    expect(blocked.map((entry) => [entry.method, entry.host, entry.reason])).to.deep.equal([
      ['GET', 'evil.localhost', 'host'],
      ['CONNECT', 'evil.localhost', 'host'],
    ])
  })

  it('forwards the fixed upstream name to its address with its own Host header, though neither name nor port is on the list', async () => {
    const reply = await viaProxy(proxy, 'http://devflow-api/agent/sessions/s-1/heartbeat')
    expect(reply).to.deep.equal({status: 200, body: 'hello /agent/sessions/s-1/heartbeat'})
    expect(seen).to.deep.equal([`127.0.0.1:${upstreamPort} /agent/sessions/s-1/heartbeat`])
    const otherPort = await viaProxy(proxy, 'http://devflow-api:8081/')
    expect(otherPort.status, 'only the name:port given is fixed').to.equal(403)
  })
})
