/**
 * The webhook notifier against a real HTTP server on 127.0.0.1: what lands there (body, headers,
 * signature), and that a 500, a receiver that never answers, or no receiver at all is logged and
 * returned, never thrown.
 */
import {createHmac} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

import {expect} from 'chai'

import {DELIVERY_HEADER, EVENT_HEADER, parseWebhookUrl, SIGNATURE_HEADER, WebhookNotifier} from '../../../../src/adapters/http/webhook-notifier.js'
import {describeNotification, type NotificationEvent} from '../../../../src/core/notifications.js'
import {rejection} from '../../../helpers/assertions.js'

interface Received {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

const session = {stage: 'dev', sessionId: 's-abc', userId: 'local:ana', repo: 'acme/api'}
const promptEnded: NotificationEvent = {...session, kind: 'prompt.ended', promptId: 'p-1', outcome: 'SUCCEEDED', summary: 'Added the <health> route & tests', prUrl: 'https://github.com/acme/api/pull/7', costUsd: 0.4213}

describe('adapters/http/webhook-notifier, against a real server on 127.0.0.1', () => {
  let server: Server
  let base: string
  const received: Received[] = []
  let answer: (res: ServerResponse) => void
  const openSockets = new Set<Socket>()

  before(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (chunk: string) => (body += chunk))
      req.on('end', () => {
        received.push({method: req.method ?? '', url: req.url ?? '', headers: req.headers, body})
        answer(res)
      })
    })
    server.on('connection', (socket) => {
      openSockets.add(socket)
      socket.on('close', () => openSockets.delete(socket))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    for (const socket of openSockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  beforeEach(() => {
    received.length = 0
    answer = (res) => res.writeHead(200).end('ok')
  })

  it('posts a Slack-compatible body: text, and blocks with the details', async () => {
    const logs: string[] = []
    const notifier = new WebhookNotifier({url: `${base}/services/T0/B0/x`, format: 'slack', log: (line) => logs.push(line)})
    const result = await notifier.notify(promptEnded)
    expect(result).to.deep.equal({delivered: true, status: 200})
    expect(received).to.have.length(1)
    const [request] = received
    expect(request.method).to.equal('POST')
    expect(request.url).to.equal('/services/T0/B0/x')
    expect(request.headers['content-type']).to.equal('application/json')
    expect(request.headers[EVENT_HEADER]).to.equal('prompt.ended')
    expect(request.headers[SIGNATURE_HEADER], 'no secret, no signature').to.equal(undefined)
    const body = JSON.parse(request.body)
    expect(body.text).to.equal('Prompt p-1 on acme/api succeeded.')
    expect(body.blocks).to.deep.equal([
      {type: 'section', text: {type: 'mrkdwn', text: '*Prompt p-1 on acme/api succeeded.*'}},
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: 'Added the &lt;health&gt; route &amp; tests\nPull request: https://github.com/acme/api/pull/7\nCost: $0.42\nstage dev · local:ana · session s-abc',
        },
      },
    ])
    expect(logs).to.deep.equal([])
  })

  it('posts a generic JSON body signed with HMAC-SHA256 of the raw body', async () => {
    const secret = 'webhook-secret'
    const now = new Date('2026-03-14T09:00:00Z')
    const notifier = new WebhookNotifier({url: `${base}/hook`, format: 'json', secret, now: () => now})
    const event: NotificationEvent = {kind: 'budget.alert', alert: {scope: 'user', thresholdPercent: 80, limitUsd: 100, spentUsd: 80.5, stage: 'dev', userId: 'local:ana', sessionId: 's-abc'}}
    expect((await notifier.notify(event)).delivered).to.equal(true)
    const [request] = received
    const expected = `sha256=${createHmac('sha256', secret).update(request.body).digest('hex')}`
    expect(request.headers[SIGNATURE_HEADER]).to.equal(expected)
    const body = JSON.parse(request.body)
    expect(body).to.deep.equal({
      event: 'budget.alert',
      deliveryId: request.headers[DELIVERY_HEADER],
      sentAt: '2026-03-14T09:00:00.000Z',
      text: 'local:ana\'s monthly budget is 80% spent: $80.50 of $100.00.',
      details: ['stage dev · local:ana · session s-abc'],
      data: event,
    })
    expect(body.deliveryId).to.match(/^[0-9a-f-]{36}$/)
    // A receiver with the wrong secret would not match.
    expect(request.headers[SIGNATURE_HEADER]).not.to.equal(`sha256=${createHmac('sha256', 'other').update(request.body).digest('hex')}`)
  })

  it('a 500 is logged and returned, not thrown', async () => {
    answer = (res) => res.writeHead(500).end('boom')
    const logs: string[] = []
    const notifier = new WebhookNotifier({url: `${base}/secret-path-token`, format: 'slack', log: (line) => logs.push(line)})
    const result = await notifier.notify({...session, kind: 'session.failed', error: {code: 'TASK_FAILED', message: 'The task stopped: exit 137.'}})
    expect(result).to.deep.equal({delivered: false, status: 500, error: 'HTTP 500'})
    expect(received).to.have.length(1)
    expect(logs).to.have.length(1)
    expect(logs[0]).to.match(/^devflow: the session\.failed notification \(delivery [0-9a-f-]{36}\) to 127\.0\.0\.1:\d+ failed: HTTP 500$/)
    expect(logs[0], 'the URL may be a credential').not.to.contain('secret-path-token')
  })

  it('a receiver that never answers times out, logged and returned, not thrown', async () => {
    answer = () => undefined // holds the request open
    const logs: string[] = []
    const notifier = new WebhookNotifier({url: `${base}/slow`, format: 'json', timeoutMs: 300, log: (line) => logs.push(line)})
    const started = Date.now()
    const result = await notifier.notify({...session, kind: 'session.reaped', reason: 'IDLE'})
    expect(Date.now() - started).to.be.lessThan(3000)
    expect(result).to.deep.equal({delivered: false, error: 'no answer within 300 ms'})
    expect(logs[0]).to.contain('session.reaped notification').and.to.contain('no answer within 300 ms')
  })

  it('no receiver at all (connection refused) is logged and returned, not thrown', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const logs: string[] = []
    const result = await new WebhookNotifier({url: `http://127.0.0.1:${port}/`, format: 'slack', log: (line) => logs.push(line)}).notify({kind: 'test', stage: 'dev', requestedBy: 'local:ana'})
    expect(result).to.deep.equal({delivered: false, error: 'ECONNREFUSED'})
    expect(logs).to.have.length(1)
  })

  it('accepts https URLs, and plain http only to this machine', async () => {
    expect(parseWebhookUrl('https://hooks.slack.com/services/T/B/x')).to.equal('https://hooks.slack.com/services/T/B/x')
    expect(parseWebhookUrl('http://localhost:9999/h')).to.equal('http://localhost:9999/h')
    for (const bad of ['http://hooks.example.com/secret-token', 'ftp://x/secret-token', 'not a url secret-token']) {
      const error = await rejection((async () => new WebhookNotifier({url: bad, format: 'slack'}))())
      expect(error.code, bad).to.equal('INVALID_WEBHOOK_URL')
      expect(error.message, 'the URL may be a credential').not.to.contain('secret-token')
    }
  })

  it('has one message for each event: prompt outcomes, failed and reaped sessions, budget alerts', () => {
    expect(describeNotification({...promptEnded, outcome: 'FAILED', summary: undefined, prUrl: undefined, error: {code: 'AGENT_API_ERROR', message: 'The Messages API answered 500.'}})).to.deep.equal({
      headline: 'Prompt p-1 on acme/api failed.',
      details: ['AGENT_API_ERROR: The Messages API answered 500.', 'Cost: $0.42', 'stage dev · local:ana · session s-abc'],
    })
    const budget = describeNotification({...promptEnded, outcome: 'BUDGET', prUrl: undefined, branch: 'devflow/s-abc'})
    expect(budget.headline).to.equal('Prompt p-1 on acme/api stopped at its budget.')
    expect(budget.details).to.include('Branch: devflow/s-abc')
    expect(budget.details).to.include('The session is paused; add to its budget with `devflow session budget s-abc --add 5`.')
    expect(describeNotification({...session, kind: 'session.reaped', reason: 'BUDGET'}).headline).to.equal('Session s-abc on acme/api was stopped: its compute cost passed its budget.')
    expect(describeNotification({kind: 'budget.alert', alert: {scope: 'session', thresholdPercent: 100, limitUsd: 5, spentUsd: 5.01, stage: 'dev', userId: 'u', sessionId: 's-abc'}}).headline).to.equal(
      'Session s-abc\'s budget is spent: $5.01 of $5.00.',
    )
    expect(describeNotification({kind: 'budget.alert', alert: {scope: 'stage', thresholdPercent: 80, limitUsd: 1000, spentUsd: 800, stage: 'prod', userId: 'u', sessionId: 's'}}).headline).to.equal(
      'Stage prod\'s monthly budget is 80% spent: $800.00 of $1000.00.',
    )
  })
})
