import {createHmac} from 'node:crypto'

import {expect} from 'chai'

import {GithubWebhookVerifier, verifyWebhook} from '../../../../src/adapters/github/webhook.js'
import type {WebhookRequest} from '../../../../src/core/github/ports.js'
import {rejection} from '../../../helpers/assertions.js'
import {webhookExample} from '../../../helpers/webhook-examples.js'

const SECRET = 'webhook-secret-for-tests'
const DELIVERY = '72d3162e-cc78-11e3-81ab-4c9367dc0958'

/** X-Hub-Signature-256 as GitHub computes it (HMAC-SHA256 of the raw body, hex), independent of the library. */
function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

function delivery(body: string, headers: Record<string, string | undefined> = {}): WebhookRequest {
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      'X-GitHub-Delivery': DELIVERY,
      'X-GitHub-Event': 'issues',
      'X-Hub-Signature-256': signature(SECRET, body),
      ...headers,
    },
  }
}

describe('adapters/github/webhook', function () {
  // The example of GitHub's "Validating webhook deliveries" page.
  it("accepts GitHub's documented test vector", async function () {
    const request = delivery('Hello, World!', {'X-Hub-Signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'})
    const error = await rejection(verifyWebhook("It's a Secret to Everybody", request))
    // The signature matched: what fails is the body, which is no JSON payload.
    expect(error.code).to.equal('WEBHOOK_PAYLOAD_INVALID')
  })

  it('reads a signed delivery: id, event, action, repository and payload', async function () {
    const body = JSON.stringify(webhookExample('issues', 'labeled'))
    const verified = await verifyWebhook(SECRET, delivery(body))
    expect(verified).to.deep.include({deliveryId: DELIVERY, event: 'issues', action: 'labeled', repo: 'Codertocat/Hello-World'})
    expect(verified.payload).to.deep.equal(JSON.parse(body))
  })

  it('takes header names in any case (API Gateway lowercases some, Node all)', async function () {
    const body = JSON.stringify(webhookExample('ping'))
    const lower = Object.fromEntries(Object.entries(delivery(body, {'X-GitHub-Event': 'ping'}).headers).map(([k, v]) => [k.toLowerCase(), v]))
    expect((await verifyWebhook(SECRET, {body, headers: lower})).event).to.equal('ping')
  })

  it('refuses a missing signature with 401 WEBHOOK_SIGNATURE_MISSING', async function () {
    const error = await rejection(verifyWebhook(SECRET, delivery('{}', {'X-Hub-Signature-256': undefined})))
    expect(error.code).to.equal('WEBHOOK_SIGNATURE_MISSING')
    expect(error.httpStatus).to.equal(401)
  })

  it('refuses a wrong secret, a changed body, a sha1 signature and a malformed one with 401', async function () {
    const body = JSON.stringify(webhookExample('issues', 'labeled'))
    const cases: Record<string, WebhookRequest> = {
      'wrong secret': delivery(body, {'X-Hub-Signature-256': signature('another-secret', body)}),
      'changed body': {...delivery(body), body: body.replace('Codertocat', 'Mallory')},
      sha1: delivery(body, {'X-Hub-Signature-256': `sha1=${createHmac('sha1', SECRET).update(body).digest('hex')}`}),
      malformed: delivery(body, {'X-Hub-Signature-256': 'sha256=zz'}),
      'upper-case hex': delivery(body, {'X-Hub-Signature-256': signature(SECRET, body).toUpperCase().replace('SHA256=', 'sha256=')}),
      'empty body': delivery('', {'X-Hub-Signature-256': signature(SECRET, '')}),
    }
    for (const [name, request] of Object.entries(cases)) {
      const error = await rejection(verifyWebhook(SECRET, request))
      expect(error.code, name).to.equal('WEBHOOK_SIGNATURE_INVALID')
      expect(error.httpStatus, name).to.equal(401)
    }
  })

  it('checks the signature before the headers: an unsigned request learns nothing', async function () {
    const error = await rejection(verifyWebhook(SECRET, delivery('not json', {'X-Hub-Signature-256': 'sha256=' + '0'.repeat(64), 'X-GitHub-Delivery': undefined})))
    expect(error.code).to.equal('WEBHOOK_SIGNATURE_INVALID')
  })

  it('refuses a signed request without a valid delivery id or event with 400', async function () {
    const body = JSON.stringify(webhookExample('ping'))
    expect((await rejection(verifyWebhook(SECRET, delivery(body, {'X-GitHub-Delivery': undefined})))).code).to.equal('WEBHOOK_DELIVERY_INVALID')
    expect((await rejection(verifyWebhook(SECRET, delivery(body, {'X-GitHub-Delivery': '../../etc'})))).httpStatus).to.equal(400)
    expect((await rejection(verifyWebhook(SECRET, delivery(body, {'X-GitHub-Event': 'Issues; drop'})))).code).to.equal('WEBHOOK_EVENT_INVALID')
  })

  it('reads a form-encoded delivery (payload=...), signed over the form body', async function () {
    const json = JSON.stringify(webhookExample('ping'))
    const body = new URLSearchParams({payload: json}).toString()
    const verified = await verifyWebhook(SECRET, delivery(body, {'Content-Type': 'application/x-www-form-urlencoded', 'X-GitHub-Event': 'ping'}))
    expect(verified.payload).to.deep.equal(JSON.parse(json))
  })

  describe('GithubWebhookVerifier', function () {
    const app = {appId: '4242', privateKey: '-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n'}

    it("verifies with the App secret's webhookSecret", async function () {
      const body = JSON.stringify(webhookExample('ping'))
      const verifier = new GithubWebhookVerifier(async () => ({...app, webhookSecret: SECRET}))
      expect((await verifier.verify(delivery(body, {'X-GitHub-Event': 'ping'}))).event).to.equal('ping')
    })

    it('answers 503 GITHUB_WEBHOOK_SECRET_NOT_SET when the App secret has none, whatever the request', async function () {
      const error = await rejection(new GithubWebhookVerifier(async () => app).verify(delivery('{}')))
      expect(error.code).to.equal('GITHUB_WEBHOOK_SECRET_NOT_SET')
      expect(error.httpStatus).to.equal(503)
      expect(error.hint).to.contain('devflow secrets set github-app --webhook-secret-file')
    })
  })
})
