import {useState} from 'preact/hooks'

import {type ApiError, type ConsoleApi, type Session} from '../api.js'
import {expiry, relative, SESSION_STATUSES, size, usd} from '../format.js'
import {ErrorBanner, html, StatusBadge, usePoll, type View} from '../html.js'

const REFRESH_MS = 3000

export function SessionsPage({api}: {api: ConsoleApi}): View {
  const [status, setStatus] = useState('')
  const [sessions, setSessions] = useState<Session[] | undefined>(undefined)
  const [error, setError] = useState<ApiError | undefined>(undefined)

  usePoll(
    async () => {
      try {
        setSessions((await api.listSessions(status || undefined)).items)
        setError(undefined)
      } catch (failure) {
        setError(failure as ApiError)
      }
    },
    REFRESH_MS,
    [status],
  )

  return html`<section class="page" id="sessions-page">
    <header class="bar">
      <h1>Sessions</h1>
      <label>Status
        <select id="status-filter" value=${status} onChange=${(e: Event) => setStatus((e.target as HTMLSelectElement).value)}>
          <option value="">all</option>
          ${SESSION_STATUSES.map((s) => html`<option value=${s}>${s.toLowerCase()}</option>`)}
        </select>
      </label>
      <a class="button primary" href="#/new" id="new-session">New session</a>
    </header>
    <${ErrorBanner} error=${error} />
    ${sessions === undefined ? html`<p class="muted">Loading…</p>` : sessions.length === 0 ? html`<p class="muted" id="no-sessions">No sessions${status ? ` with status ${status}` : ''}.</p>` : html`<table class="sessions">
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
