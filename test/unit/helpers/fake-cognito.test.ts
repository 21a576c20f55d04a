import {createHash} from 'node:crypto'

import {expect} from 'chai'

import {FakeCognito} from '../../helpers/fake-cognito.js'

describe('test helper: the fake Cognito hosted login', function () {
  let cognito: FakeCognito
  const callback = 'http://127.0.0.1:9/'
  const verifier = 'a-verifier-of-enough-length-for-pkce-0123456789'
  const challenge = createHash('sha256').update(verifier).digest('base64url')

  beforeEach(async () => {
    cognito = await FakeCognito.start({clientId: 'client-1', callbackUrls: [callback]})
  })
  afterEach(() => cognito.close())

  const authorize = (params: Record<string, string>) =>
    fetch(`${cognito.url}/oauth2/authorize?${new URLSearchParams({response_type: 'code', client_id: 'client-1', redirect_uri: callback, scope: 'openid email', state: 's1', code_challenge_method: 'S256', code_challenge: challenge, ...params})}`, {redirect: 'manual'})
  const token = (code: string, extra: Record<string, string> = {}) =>
    fetch(`${cognito.url}/oauth2/token`, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams({grant_type: 'authorization_code', client_id: 'client-1', code, redirect_uri: callback, code_verifier: verifier, ...extra})})

  it('redirects with a code and the state, and trades the code once for an ID token of the signed-in subject', async () => {
    cognito.signedInAs = 'bob'
    const redirect = await authorize({})
    expect(redirect.status).to.equal(302)
    const location = new URL(redirect.headers.get('location') as string)
    expect(`${location.origin}${location.pathname}`).to.equal(callback)
    expect(location.searchParams.get('state')).to.equal('s1')
    const code = location.searchParams.get('code') as string
    const tokens = (await (await token(code)).json()) as {id_token: string; expires_in: number}
    expect(tokens.expires_in).to.equal(3600)
    expect(tokens.id_token.split('.')).to.have.length(3)
    expect(cognito.claimsOf(tokens.id_token)).to.include({sub: cognito.subjectOf('bob'), token_use: 'id', 'cognito:username': 'bob', aud: 'client-1'})
    expect((await token(code)).status).to.equal(400)
    expect(cognito.claimsOf('forged.token.value')).to.equal(undefined)
    expect(cognito.claimsOf(tokens.id_token)).not.to.have.property('cognito:groups')
  })

  it('puts a member\'s groups in the ID token as a REST API authorizer passes them', async () => {
    cognito.signedInAs = 'carol'
    cognito.groups.set('carol', ['readers', 'devflow-admins'])
    const code = new URL((await authorize({})).headers.get('location') as string).searchParams.get('code') as string
    const tokens = (await (await token(code)).json()) as {id_token: string}
    expect(cognito.claimsOf(tokens.id_token)).to.include({sub: cognito.subjectOf('carol'), 'cognito:groups': 'readers,devflow-admins'})
  })

  it('refuses a wrong PKCE verifier, an unregistered redirect URI, another client and a plain challenge', async () => {
    const code = new URL((await authorize({})).headers.get('location') as string).searchParams.get('code') as string
    const wrong = await token(code, {code_verifier: 'another-verifier-entirely-0123456789abcdef'})
    expect(wrong.status).to.equal(400)
    expect(await wrong.json()).to.deep.equal({error: 'invalid_grant'})
    expect((await authorize({redirect_uri: 'https://evil.example/'})).status).to.equal(400)
    expect((await authorize({client_id: 'other'})).status).to.equal(400)
    expect((await authorize({code_challenge_method: 'plain'})).status).to.equal(400)
  })
})
