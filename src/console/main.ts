/**
 * The DevFlow console: loads config.json (written by the local server or by `devflow deploy`),
 * signs in, and routes on the location hash (#/, #/new, #/sessions/<id>, #/admin) so that any static host
 * serves it without rewrite rules.
 */
import {render} from 'preact'
import {useEffect, useMemo, useState} from 'preact/hooks'

import {ConsoleApi} from './api.js'
import {cognitoAuth, completeCognitoSignIn, type ConsoleAuth, type ConsoleConfig, localAuth} from './auth.js'
import {html, type View} from './html.js'
import {AllSessionsPage} from './views/all-sessions.js'
import {SessionPage} from './views/session.js'
import {SessionsPage} from './views/sessions.js'
import {StartPage} from './views/start.js'

function useHash(): string {
  const [hash, setHash] = useState(location.hash)
  useEffect(() => {
    const changed = () => setHash(location.hash)
    addEventListener('hashchange', changed)
    return () => removeEventListener('hashchange', changed)
  }, [])
  return hash
}

function SignIn({config, auth}: {config: ConsoleConfig; auth: ConsoleAuth}): View {
  return html`<section class="page" id="sign-in">
    <h1>Sign in to DevFlow</h1>
    ${config.mode === 'local'
      ? html`<p>This browser is not signed in to the local platform. In a terminal, run</p>
          <p><code>devflow local open</code></p>
          <p class="muted">It opens a one-time link that signs this browser in.</p>`
      : html`<p><button class="primary" id="sign-in-button" onClick=${() => auth.signIn()}>Sign in</button></p>`}
  </section>`
}

function App({config}: {config: ConsoleConfig}): View {
  const [signedOut, setSignedOut] = useState(false)
  const auth = useMemo(() => (config.mode === 'cognito' ? cognitoAuth(config, () => setSignedOut(true)) : localAuth(config, () => setSignedOut(true))), [config])
  const api = useMemo(() => new ConsoleApi(config.apiUrl.replace(/\/$/, ''), auth), [auth, config])
  const hash = useHash()
  const needsSignIn = signedOut || auth.signInNeeded()
  const sessionId = /^#\/sessions\/([^/]+)$/.exec(hash)?.[1]
  const page = needsSignIn
    ? html`<${SignIn} config=${config} auth=${auth} />`
    : sessionId
      ? html`<${SessionPage} key=${sessionId} api=${api} id=${decodeURIComponent(sessionId)} mode=${config.mode} />`
      : hash === '#/new'
        ? html`<${StartPage} api=${api} />`
        : hash === '#/admin'
          ? html`<${AllSessionsPage} api=${api} />`
          : html`<${SessionsPage} api=${api} />`
  return html`<header class="top">
      <a class="brand" href="#/">DevFlow</a>
      <span class="muted">${config.mode === 'local' ? 'local platform' : 'console'}</span>
      ${needsSignIn ? null : html`<a class="nav" id="all-sessions" href="#/admin">All sessions</a>`}
      ${needsSignIn ? null : html`<button class="link" id="sign-out" onClick=${() => auth.signOut()}>Sign out</button>`}
    </header>
    <main>${page}</main>`
}

async function boot(): Promise<void> {
  const root = document.getElementById('app') as HTMLElement
  let config: ConsoleConfig
  try {
    const response = await fetch('config.json', {credentials: 'same-origin'})
    if (!response.ok) throw new Error(String(response.status))
    config = (await response.json()) as ConsoleConfig
  } catch {
    root.textContent = 'The console could not load its configuration (config.json). Reload the page; if it persists, redeploy with `devflow deploy` or restart `devflow local up`.'
    return
  }
  if (config.mode === 'cognito') await completeCognitoSignIn(config)
  root.textContent = ''
  render(html`<${App} config=${config} />`, root)
}

void boot()
