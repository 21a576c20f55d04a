import {expect} from 'chai'

import {regionFromApiUrl, signRequest, verifySigV4} from '../../../../src/adapters/http/sigv4.js'
import {rejection} from '../../../helpers/assertions.js'

const credentials = {accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-key'}
const secrets: Record<string, string> = {AKIDTEST: 'secret-key'}

async function signed(url: string, init: {method?: string; body?: string; token?: string; date?: Date} = {}) {
  const target = new URL(url)
  const headers = await signRequest(
    {method: init.method ?? 'GET', url: target, headers: {'content-type': 'application/json'}, body: init.body},
    {...credentials, ...(init.token ? {sessionToken: init.token} : {})},
    'us-east-1',
    init.date,
  )
  return {method: init.method ?? 'GET', url: `${target.pathname}${target.search}`, headers, body: init.body ?? ''}
}


describe('SigV4 signing and verification', () => {
  it('verifies the AWS SigV4 test suite vector get-vanilla (independent of our signer)', async () => {
    const caller = await verifySigV4(
      {
        method: 'GET',
        url: '/',
        headers: {
          host: 'example.amazonaws.com',
          'x-amz-date': '20150830T123600Z',
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
        },
        body: '',
      },
      () => 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      {now: new Date('2015-08-30T12:36:00Z'), service: 'service'},
    )
    expect(caller.accessKeyId).to.equal('AKIDEXAMPLE')
  })

  it('accepts what the client signed: method, path, query, body and session token', async () => {
    const request = await signed('http://127.0.0.1:4000/prod/sessions?limit=5&status=RUNNING', {method: 'POST', body: '{"repo":"o/r"}', token: 'tok'})
    expect(request.headers).to.include.keys('authorization', 'x-amz-date', 'x-amz-security-token', 'host')
    const caller = await verifySigV4(request, (key) => secrets[key])
    expect(caller).to.deep.equal({accessKeyId: 'AKIDTEST', sessionToken: 'tok'})
  })

  it('refuses a changed body, path, query or method', async () => {
    const request = await signed('http://127.0.0.1:4000/prod/sessions?limit=5', {method: 'POST', body: '{"repo":"o/r"}'})
    for (const tampered of [
      {...request, body: '{"repo":"o/x"}'},
      {...request, url: '/prod/sessions/other?limit=5'},
      {...request, url: '/prod/sessions?limit=6'},
      {...request, method: 'DELETE'},
    ]) {
      expect((await rejection(verifySigV4(tampered, (key) => secrets[key]))).code).to.equal('INVALID_SIGNATURE')
    }
  })

  it('refuses a signature made with another secret, an unknown key, no header, or an old date', async () => {
    const request = await signed('http://127.0.0.1:4000/prod/health')
    expect((await rejection(verifySigV4(request, () => 'another-secret'))).code).to.equal('INVALID_SIGNATURE')
    expect((await rejection(verifySigV4(request, () => undefined))).code).to.equal('UNKNOWN_ACCESS_KEY')
    const {authorization: _dropped, ...unsigned} = request.headers
    expect((await rejection(verifySigV4({...request, headers: unsigned}, (key) => secrets[key]))).code).to.equal('MISSING_AUTHENTICATION')
    const old = await signed('http://127.0.0.1:4000/prod/health', {date: new Date(Date.now() - 10 * 60_000)})
    const expired = await rejection(verifySigV4(old, (key) => secrets[key]))
    expect(expired.code).to.equal('SIGNATURE_EXPIRED')
    expect(expired.exitCode).to.equal(4)
  })

  it('reads the signing region from an API Gateway URL', () => {
    expect(regionFromApiUrl(new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/prod/'))).to.equal('eu-west-1')
    expect(regionFromApiUrl(new URL('http://127.0.0.1:8787/'))).to.equal(undefined)
  })
})
