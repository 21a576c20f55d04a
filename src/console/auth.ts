/**
 * How the console signs in.
 * - local: the local server set an HttpOnly session cookie when `devflow local open`'s one-time
 *   link was followed; state-changing requests carry the readable CSRF cookie back as a header
 *   (double submit), and the server also checks Origin.
 * - cognito: Amazon Cognito's hosted login, OAuth 2.0 authorization code with PKCE; the ID token
 *   goes to the API's Cognito authorizer in the Authorization header.
 */
import type {RequestAuth} from './api.js'

export interface LocalConfig {
  readonly mode: 'local'
  readonly apiUrl: string
  /** The readable cookie holding the CSRF token, and the header it goes back in. */
  readonly csrfCookie: string
  readonly csrfHeader: string
}

export interface CognitoConfig {
  readonly mode: 'cognito'
  readonly apiUrl: string
  readonly cognito: {readonly domain: string; readonly clientId: string; readonly redirectUri: string}
}

export type ConsoleConfig = LocalConfig | CognitoConfig

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export interface ConsoleAuth extends RequestAuth {
  /** Whether the sign-in screen is due (no token, or the API said 401). */
  readonly signInNeeded: () => boolean
  signIn(): void
  signOut(): void
}

function readCookie(name: string): string | undefined {
  const pair = document.cookie.split('; ').find((c) => c.startsWith(`${name}=`))
  return pair === undefined ? undefined : decodeURIComponent(pair.slice(name.length + 1))
}

export function localAuth(config: LocalConfig, onSignedOut: () => void): ConsoleAuth {
  let signedOut = false
  return {
    credentials: 'same-origin',
    async headers(method): Promise<Record<string, string>> {
      const token = readCookie(config.csrfCookie)
      return SAFE_METHODS.has(method) || !token ? {} : {[config.csrfHeader]: token}
    },
    unauthenticated() {
      signedOut = true
      onSignedOut()
    },
    signInNeeded: () => signedOut,
    signIn() {
      // Nothing to do in the page: the CLI hands out the one-time link.
    },
    signOut() {
      void fetch('/console/logout', {method: 'POST', credentials: 'same-origin', headers: {[config.csrfHeader]: readCookie(config.csrfCookie) ?? ''}}).finally(() => {
        signedOut = true
        onSignedOut()
      })
    },
  }
}

const TOKEN_KEY = 'devflow.idToken'
const PKCE_KEY = 'devflow.pkce'

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const array = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  let text = ''
  for (const byte of array) text += String.fromCharCode(byte)
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)))
}

interface StoredToken {
  readonly idToken: string
  readonly expiresAt: number
}

function storedToken(): StoredToken | undefined {
  try {
    const token = JSON.parse(sessionStorage.getItem(TOKEN_KEY) ?? 'null') as StoredToken | null
    return token && token.expiresAt > Date.now() + 30_000 ? token : undefined
  } catch {
    return undefined
  }
}

/** Finishes a redirect back from the hosted login (`?code=&state=`), if this is one. */
export async function completeCognitoSignIn(config: CognitoConfig): Promise<void> {
  const params = new URLSearchParams(location.search)
  const code = params.get('code')
  if (!code) return
  const pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? 'null') as {verifier: string; state: string} | null
  sessionStorage.removeItem(PKCE_KEY)
  history.replaceState(null, '', `${location.pathname}${location.hash}`)
  if (!pending || pending.state !== params.get('state')) return
  const response = await fetch(`${config.cognito.domain}/oauth2/token`, {
    method: 'POST',
    headers: {'content-type': 'application/x-www-form-urlencoded'},
    body: new URLSearchParams({grant_type: 'authorization_code', client_id: config.cognito.clientId, code, redirect_uri: config.cognito.redirectUri, code_verifier: pending.verifier}),
  })
  if (!response.ok) return
  const tokens = (await response.json()) as {id_token: string; expires_in: number}
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify({idToken: tokens.id_token, expiresAt: Date.now() + tokens.expires_in * 1000}))
}

export function cognitoAuth(config: CognitoConfig, onSignedOut: () => void): ConsoleAuth {
  return {
    credentials: 'omit',
    async headers(): Promise<Record<string, string>> {
      const token = storedToken()
      return token ? {authorization: token.idToken} : {}
    },
    unauthenticated() {
      sessionStorage.removeItem(TOKEN_KEY)
      onSignedOut()
    },
    signInNeeded: () => storedToken() === undefined,
    signIn() {
      const verifier = randomString()
      const state = randomString()
      sessionStorage.setItem(PKCE_KEY, JSON.stringify({verifier, state}))
      void crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)).then((digest) => {
        const query = new URLSearchParams({
          response_type: 'code',
          client_id: config.cognito.clientId,
          redirect_uri: config.cognito.redirectUri,
          scope: 'openid email profile',
          state,
          code_challenge_method: 'S256',
          code_challenge: base64url(digest),
        })
        location.assign(`${config.cognito.domain}/oauth2/authorize?${query}`)
      })
    },
    signOut() {
      sessionStorage.removeItem(TOKEN_KEY)
      location.assign(`${config.cognito.domain}/logout?${new URLSearchParams({client_id: config.cognito.clientId, logout_uri: config.cognito.redirectUri})}`)
    },
  }
}
