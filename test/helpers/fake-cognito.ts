/**
 * A stand-in for Amazon Cognito's hosted login (the OAuth 2.0 endpoints of a user-pool domain) and
 * for what API Gateway's Cognito user-pool authorizer passes a proxy integration, for the console's
 * browser test in its AWS mode. Shapes follow Cognito's documentation:
 * - `GET /oauth2/authorize?response_type=code&client_id&redirect_uri&state&scope&code_challenge
 *   &code_challenge_method=S256` signs in the user the test chose and redirects to
 *   `redirect_uri?code=...&state=...` (an unknown client or redirect URI is an error page);
 * - `POST /oauth2/token` (form: grant_type=authorization_code, client_id, code, redirect_uri,
 *   code_verifier) checks S256(code_verifier) against the challenge, uses the code once, and
 *   answers `{id_token, access_token, expires_in, token_type}` or `{"error": "invalid_grant"}`;
 * - `GET /logout?client_id&logout_uri` redirects to logout_uri.
 * Tokens are JWT-shaped (header.payload.signature) with the claims Cognito puts in an ID token; the
 * signature is not a real one: in the deployed stack API Gateway verifies it, here `claimsOf` only
 * looks the token up among those this fake issued.
 */
import {createHash, randomBytes, randomUUID} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface FakeCognitoOptions {
  readonly clientId: string
  readonly callbackUrls: readonly string[]
}

interface PendingCode {
  readonly sub: string
  readonly challenge: string
  readonly redirectUri: string
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url')
}

export class FakeCognito {
  /** Who the next /oauth2/authorize signs in (the hosted login's form, skipped). */
  signedInAs = 'alice'
  /** Cognito subjects by user name. */
  readonly subjects = new Map<string, string>()
  /** Group memberships by user name: the ID token's `cognito:groups`, comma-separated as a REST API's authorizer passes it. */
  readonly groups = new Map<string, string[]>()
  private readonly codes = new Map<string, PendingCode>()
  private readonly tokens = new Map<string, Record<string, string>>()

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: FakeCognitoOptions,
  ) {}

  static async start(options: FakeCognitoOptions): Promise<FakeCognito> {
    const holder: {fake?: FakeCognito} = {}
    const server = createServer((req, res) => void holder.fake?.handle(req, res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    holder.fake = new FakeCognito(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, options)
    return holder.fake
  }

  subjectOf(user: string): string {
    if (!this.subjects.has(user)) this.subjects.set(user, randomUUID())
    return this.subjects.get(user) as string
  }

  /** The claims API Gateway's authorizer would pass for this Authorization header, if it is an ID token this pool issued. */
  claimsOf(authorization: string | undefined): Record<string, string> | undefined {
    return authorization === undefined ? undefined : this.tokens.get(authorization.trim())
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url)
    if (req.method === 'OPTIONS') return this.send(res, 204, '', {'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type', 'access-control-allow-methods': 'POST'})
    if (req.method === 'GET' && url.pathname === '/oauth2/authorize') return this.authorize(url, res)
    if (req.method === 'POST' && url.pathname === '/oauth2/token') return this.token(new URLSearchParams(await body(req)), res)
    if (req.method === 'GET' && url.pathname === '/logout') {
      const target = url.searchParams.get('logout_uri') ?? ''
      if (url.searchParams.get('client_id') !== this.options.clientId || !this.options.callbackUrls.includes(target)) return this.send(res, 400, 'invalid logout request')
      return this.send(res, 302, '', {location: target})
    }
    return this.send(res, 404, 'not found')
  }

  private authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams
    const redirectUri = q.get('redirect_uri') ?? ''
    if (q.get('client_id') !== this.options.clientId) return this.send(res, 400, 'error=invalid_client')
    if (!this.options.callbackUrls.includes(redirectUri)) return this.send(res, 400, 'error=redirect_mismatch')
    if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) return this.send(res, 400, 'error=invalid_request')
    if (!(q.get('scope') ?? '').split(' ').includes('openid')) return this.send(res, 400, 'error=invalid_scope')
    const code = randomUUID()
    this.codes.set(code, {sub: this.subjectOf(this.signedInAs), challenge: q.get('code_challenge') as string, redirectUri})
    const target = new URL(redirectUri)
    target.searchParams.set('code', code)
    if (q.get('state')) target.searchParams.set('state', q.get('state') as string)
    this.send(res, 302, '', {location: target.toString()})
  }

  private token(form: URLSearchParams, res: ServerResponse): void {
    const cors = {'access-control-allow-origin': '*'}
    const pending = this.codes.get(form.get('code') ?? '')
    this.codes.delete(form.get('code') ?? '')
    const verifier = form.get('code_verifier') ?? ''
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    if (form.get('grant_type') !== 'authorization_code' || form.get('client_id') !== this.options.clientId) return this.json(res, 400, {error: 'invalid_client'}, cors)
    if (!pending || pending.redirectUri !== form.get('redirect_uri') || pending.challenge !== challenge) return this.json(res, 400, {error: 'invalid_grant'}, cors)
    const now = Math.floor(Date.now() / 1000)
    const user = [...this.subjects].find(([, sub]) => sub === pending.sub)?.[0] ?? 'user'
    const claims = {sub: pending.sub, aud: this.options.clientId, token_use: 'id', 'cognito:username': user, email: `${user}@example.com`, email_verified: 'true', iss: this.url, auth_time: String(now), iat: String(now), exp: String(now + 3600), ...(this.groups.get(user)?.length ? {'cognito:groups': (this.groups.get(user) as string[]).join(',')} : {})}
    const idToken = [base64url(JSON.stringify({kid: 'fake', alg: 'RS256'})), base64url(JSON.stringify(claims)), base64url(randomBytes(32))].join('.')
    this.tokens.set(idToken, claims)
    this.json(res, 200, {id_token: idToken, access_token: base64url(randomBytes(32)), expires_in: 3600, token_type: 'Bearer'}, cors)
  }

  private json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
    this.send(res, status, JSON.stringify(value), {'content-type': 'application/json', ...headers})
  }

  private send(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, {'content-type': 'text/plain', ...headers})
    res.end(text)
  }
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
