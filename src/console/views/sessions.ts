import {type ConsoleApi} from '../api.js'
import {expiry, relative, size, usd} from '../format.js'
import {ErrorBanner, html, StatusBadge, type View} from '../html.js'
import {NoSessions, StatusFilter, usePolledSessions} from './session-list.js'

const REFRESH_MS = 3000

export function SessionsPage({api}: {api: ConsoleApi}): View {
  const {status, setStatus, sessions, error} = usePolledSessions((status) => api.listSessions(status), REFRESH_MS, {clearOnError: false})

  return html`<section class="page" id="sessions-page">
    <header class="bar">
      <h1>Sessions</h1>
      <${StatusFilter} id="status-filter" status=${status} onChange=${setStatus} />
      <a class="button primary" href="#/new" id="new-session">New session</a>
    </header>
    <${ErrorBanner} error=${error} />
    ${sessions === undefined ? html`<p class="muted">Loading…</p>` : sessions.length === 0 ? html`<${NoSessions} status=${status} />` : html`<table class="sessions">
      <thead><tr><th>Session</th><th>Repository</th><th>Branch</th><th>Status</th><th>Size</th><th>Age</th><th>Expires</th><th>Cost</th></tr></thead>
      <tbody>
        ${sessions.map(
          (s) => html`<tr data-session-id=${s.id}>
            <td><a href=${`#/sessions/${s.id}`}>${s.id}</a></td>
            <td>${s.repo}</td>
            <td>${s.branch}</td>
            <td><${StatusBadge} status=${s.status} /></td>
            <td>${size(s)}</td>
            <td>${relative(s.createdAt)}</td>
            <td>${expiry(s)}</td>
            <td>${usd(s.cost?.totalUsd)}</td>
          </tr>`,
        )}
      </tbody>
    </table>`}
  </section>`
}
