import {useState} from 'preact/hooks'

import {type ApiError, type Session} from '../api.js'
import {SESSION_STATUSES} from '../format.js'
import {html, usePoll, type View} from '../html.js'

/**
 * What both session lists share: the status filter and a list polled while the page is open.
 * `clearOnError`: drop the last list when a poll fails (the admins' page, where a refusal must
 * not leave an earlier answer on screen); otherwise it stays beside the error.
 */
export function usePolledSessions(list: (status?: string) => Promise<{items: Session[]}>, refreshMs: number, {clearOnError}: {clearOnError: boolean}) {
  const [status, setStatus] = useState('')
  const [sessions, setSessions] = useState<Session[] | undefined>(undefined)
  const [error, setError] = useState<ApiError | undefined>(undefined)
  usePoll(
    async () => {
      try {
        setSessions((await list(status || undefined)).items)
        setError(undefined)
      } catch (failure) {
        if (clearOnError) setSessions(undefined)
        setError(failure as ApiError)
      }
    },
    refreshMs,
    [status],
  )
  return {status, setStatus, sessions, error}
}

export function StatusFilter({id, status, onChange}: {id: string; status: string; onChange: (status: string) => void}): View {
  return html`<label>Status
    <select id=${id} value=${status} onChange=${(e: Event) => onChange((e.target as HTMLSelectElement).value)}>
      <option value="">all</option>
      ${SESSION_STATUSES.map((s) => html`<option value=${s}>${s.toLowerCase()}</option>`)}
    </select>
  </label>`
}

export function NoSessions({status}: {status: string}): View {
  return html`<p class="muted" id="no-sessions">No sessions${status ? ` with status ${status}` : ''}.</p>`
}
