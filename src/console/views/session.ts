import {useState} from 'preact/hooks'

import type {ApiError, ConsoleApi, EditorInfo, Prompt, PromptEvent, Session} from '../api.js'
import {ENDED_PROMPT, ENDED_SESSION, eventText, expiry, relative, size, usd} from '../format.js'
import {ErrorBanner, html, StatusBadge, usePoll, type View} from '../html.js'

const SESSION_REFRESH_MS = 2000
const EVENTS_REFRESH_MS = 1000
const STARTING = ['PENDING', 'PROVISIONING', 'RUNNING']

export interface SessionPageProps {
  readonly api: ConsoleApi
  readonly id: string
  /** local: the editor link; cognito: the `devflow session open` command. */
  readonly mode: 'local' | 'cognito'
}

export function SessionPage({api, id, mode}: SessionPageProps): View {
  const [session, setSession] = useState<Session | undefined>(undefined)
  const [prompts, setPrompts] = useState<Prompt[]>([])
  const [error, setError] = useState<ApiError | undefined>(undefined)
  const [stopping, setStopping] = useState(false)

  usePoll(
    async () => {
      try {
        const [current, list] = await Promise.all([api.getSession(id), api.listPrompts(id)])
        setSession(current)
        setPrompts(list.items)
      } catch (failure) {
        setError(failure as ApiError)
      }
    },
    SESSION_REFRESH_MS,
    [id],
  )

  const stop = async () => {
    setStopping(true)
    try {
      setSession(await api.stopSession(id))
      setError(undefined)
    } catch (failure) {
      setError(failure as ApiError)
    } finally {
      setStopping(false)
    }
  }

  if (!session) {
    return html`<section class="page" id="session-page"><${ErrorBanner} error=${error} />${error ? null : html`<p class="muted">Loading ${id}…</p>`}<a href="#/">Back to sessions</a></section>`
  }
  const ended = ENDED_SESSION.has(session.status)
  return html`<section class="page" id="session-page" data-session-id=${session.id}>
    <header class="bar">
      <h1>${session.id}</h1>
      <${StatusBadge} status=${session.status} />
      <button class="danger" id="stop-session" onClick=${stop} disabled=${ended || stopping || session.status === 'STOPPING'}>${stopping ? 'Stopping…' : 'Stop session'}</button>
      <a href="#/">Back to sessions</a>
    </header>
    <${ErrorBanner} error=${error} />
    <dl class="facts">
      <dt>Repository</dt><dd>${session.repo} @ ${session.branch}</dd>
      <dt>Size</dt><dd>${size(session)} (${session.capacity})</dd>
      <dt>Created</dt><dd>${relative(session.createdAt)}</dd>
      <dt>Expires</dt><dd>${expiry(session)}</dd>
      <dt>Idle timeout</dt><dd>${session.idleTimeout}</dd>
      ${session.cost?.totalUsd === undefined ? null : html`<dt>Cost</dt><dd>${usd(session.cost.totalUsd)}</dd>`}
    </dl>
    ${session.error ? html`<div class="error" role="alert" data-error-code=${session.error.code}><strong>${session.error.message}</strong><code class="code">${session.error.code}</code></div>` : null}
    ${ended ? null : html`<${StartProgress} status=${session.status} />`}
    ${session.status === 'RUNNING' ? html`<${EditorPanel} api=${api} id=${session.id} mode=${mode} />` : null}
    ${session.status === 'RUNNING' ? html`<${PromptForm} api=${api} id=${session.id} onSent=${(p: Prompt) => setPrompts([...prompts.filter((q) => q.id !== p.id), p])} />` : null}
    <h2>Prompts</h2>
    ${prompts.length === 0 ? html`<p class="muted" id="no-prompts">No prompts yet.</p>` : prompts.map((p) => html`<${PromptCard} key=${p.id} api=${api} sessionId=${session.id} repo=${session.repo} prompt=${p} />`)}
  </section>`
}

function StartProgress({status}: {status: string}): View {
  const reached = STARTING.indexOf(status)
  return html`<ol class="progress" id="start-progress">
    ${STARTING.map((step, i) => html`<li class=${i < reached ? 'done' : i === reached ? 'current' : ''}>${step}</li>`)}
  </ol>`
}

function EditorPanel({api, id, mode}: {api: ConsoleApi; id: string; mode: 'local' | 'cognito'}): View {
  const [info, setInfo] = useState<EditorInfo | undefined>(undefined)
  const [error, setError] = useState<ApiError | undefined>(undefined)
  usePoll(
    async () => {
      try {
        setInfo(await api.editor(id))
        setError(undefined)
      } catch (failure) {
        setError(failure as ApiError)
      }
    },
    10_000,
    [id],
  )
  const command = `devflow session open ${id}`
  return html`<div class="panel" id="editor">
    <h2>Editor</h2>
    <${ErrorBanner} error=${error} />
    ${mode === 'cognito'
      ? html`<p>The editor is reached through an SSM port forward from your machine:</p>
          <p><code id="open-command">${command}</code> <button onClick=${() => void navigator.clipboard?.writeText(command)}>Copy</button></p>`
      : info?.url
        ? html`<p><a id="editor-link" href=${info.url} target="_blank" rel="noopener noreferrer">Open the editor</a>${info.password ? html` (password <code>${info.password}</code>)` : null}</p>`
        : info?.unavailableReason
          ? html`<p class="muted" id="editor-unavailable">${info.unavailableReason}${info.unavailableHint ? html`<br />Try this: ${info.unavailableHint}` : null}</p>`
          : html`<p class="muted">Looking for the editor…</p>`}
  </div>`
}

function PromptForm({api, id, onSent}: {api: ConsoleApi; id: string; onSent: (prompt: Prompt) => void}): View {
  const [text, setText] = useState('')
  const [pr, setPr] = useState('none')
  const [error, setError] = useState<ApiError | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const submit = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    try {
      onSent(await api.sendPrompt(id, text, pr))
      setText('')
      setError(undefined)
    } catch (failure) {
      setError(failure as ApiError)
    } finally {
      setBusy(false)
    }
  }
  return html`<form class="panel prompt-form" onSubmit=${submit}>
    <h2>Send a prompt</h2>
    <${ErrorBanner} error=${error} />
    <textarea id="prompt-text" rows="4" placeholder="What should the agent do?" value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}></textarea>
    <div class="row">
      <label>Pull request
        <select id="prompt-pr" value=${pr} onChange=${(e: Event) => setPr((e.target as HTMLSelectElement).value)}>
          <option value="none">none</option><option value="draft">draft</option><option value="ready">ready</option>
        </select>
      </label>
      <button class="primary" type="submit" id="send-prompt" disabled=${busy || text.trim() === ''}>${busy ? 'Sending…' : 'Send'}</button>
    </div>
  </form>`
}

function PromptCard({api, sessionId, repo, prompt}: {api: ConsoleApi; sessionId: string; repo: string; prompt: Prompt}): View {
  const [events, setEvents] = useState<PromptEvent[]>([])
  const ended = ENDED_PROMPT.has(prompt.status)
  usePoll(
    async () => {
      const after = events.length === 0 ? 0 : events[events.length - 1].seq
      try {
        const page = await api.promptEvents(sessionId, prompt.id, after)
        if (page.items.length > 0) setEvents((previous) => [...previous, ...page.items.filter((e) => e.seq > (previous.at(-1)?.seq ?? 0))])
      } catch {
        // The session poll shows API errors; a missed event page is fetched on the next tick.
      }
    },
    ended ? 60_000 : EVENTS_REFRESH_MS,
    [prompt.id, ended],
  )
  const result = prompt.result
  const github = githubUrl(repo)
  return html`<article class="prompt" data-prompt-id=${prompt.id} data-status=${prompt.status}>
    <header><strong>#${prompt.seq}</strong> <${StatusBadge} status=${prompt.status} /> <span class="muted">PR: ${prompt.pr}</span></header>
    <pre class="prompt-text">${prompt.text}</pre>
    <ol class="events">
      ${events.map((e) => html`<li class="event" data-type=${e.type}><span class="event-type">${e.type}</span> <span class="event-text">${eventText(e)}</span></li>`)}
    </ol>
    ${result
      ? html`<dl class="facts result">
          <dt>Summary</dt><dd class="result-summary">${result.summary}</dd>
          ${result.branch ? html`<dt>Branch</dt><dd class="result-branch">${github ? html`<a href=${`${github}/tree/${result.branch}`} target="_blank" rel="noopener noreferrer">${result.branch}</a>` : result.branch}</dd>` : null}
          ${result.commit ? html`<dt>Commit</dt><dd class="result-commit">${github ? html`<a href=${`${github}/commit/${result.commit}`} target="_blank" rel="noopener noreferrer"><code>${result.commit}</code></a>` : html`<code>${result.commit}</code>`}</dd>` : null}
          ${result.prUrl ? html`<dt>Pull request</dt><dd><a href=${result.prUrl} target="_blank" rel="noopener noreferrer">${result.prUrl}</a></dd>` : null}
          ${result.turns === undefined ? null : html`<dt>Turns</dt><dd>${result.turns}</dd>`}
          ${result.costUsd === undefined ? null : html`<dt>Cost</dt><dd>${usd(result.costUsd)}</dd>`}
        </dl>`
      : null}
    ${prompt.error ? html`<div class="error" data-error-code=${prompt.error.code}><strong>${prompt.error.message}</strong><code class="code">${prompt.error.code}</code></div>` : null}
  </article>`
}

/** GitHub repositories link to their branch and commit; local ones (`local/<name>`) have no web page. */
function githubUrl(repo: string): string | undefined {
  return /^[\w.-]+\/[\w.-]+$/.test(repo) && !repo.startsWith('local/') ? `https://github.com/${repo}` : undefined
}
