import {type ConsoleApi} from '../api.js'
import {expiry, ownerLabel, relative, size, usd} from '../format.js'
import {ErrorBanner, html, StatusBadge, type View} from '../html.js'
import {NoSessions, StatusFilter, usePolledSessions} from './session-list.js'

const REFRESH_MS = 5000

/**
 * The operators' view: every user's sessions (`GET /admin/sessions`). Anyone but a stage admin
 * gets the API's 403 with its hint, shown as it came. Read-only: opening or stopping another
 * user's session stays the CLI's `--admin` mode.
 */
export function AllSessionsPage({api}: {api: ConsoleApi}): View {
  const {status, setStatus, sessions, error} = usePolledSessions((status) => api.listAllSessions(status), REFRESH_MS, {clearOnError: true})

  return html`<section class="page" id="all-sessions-page">
    <header class="bar">
      <h1>All sessions</h1>
      <span class="muted">every user's, for operators</span>
      <${StatusFilter} id="all-status-filter" status=${status} onChange=${setStatus} />
      <a href="#/">Your sessions</a>
    </header>
    <${ErrorBanner} error=${error} />
    ${error ? null : sessions === undefined ? html`<p class="muted">Loading…</p>` : sessions.length === 0 ? html`<${NoSessions} status=${status} />` : html`<table class="sessions">
      <thead><tr><th>Session</th><th>Owner</th><th>Repository</th><th>Branch</th><th>Status</th><th>Size</th><th>Age</th><th>Expires</th><th>Cost</th></tr></thead>
      <tbody>
        ${sessions.map(
          (s) => html`<tr data-session-id=${s.id} data-owner=${s.userId}>
            <td>${s.id}</td>
            <td title=${s.userId}>${ownerLabel(s.userId)}</td>
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
