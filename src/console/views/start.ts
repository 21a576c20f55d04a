import {useState} from 'preact/hooks'

import type {ApiError, ConsoleApi, StartRequest} from '../api.js'
import {ErrorBanner, html, navigate, type View} from '../html.js'

const CPUS = ['0.25', '0.5', '1', '2', '4', '8', '16']

export function StartPage({api}: {api: ConsoleApi}): View {
  const [error, setError] = useState<ApiError | undefined>(undefined)
  const [busy, setBusy] = useState(false)

  const submit = async (event: Event) => {
    event.preventDefault()
    const form = new FormData(event.target as HTMLFormElement)
    const value = (name: string) => {
      const text = String(form.get(name) ?? '').trim()
      return text === '' ? undefined : text
    }
    const request: StartRequest = {repo: value('repo') ?? '', branch: value('branch'), cpu: value('cpu'), memory: value('memory'), ttl: value('ttl'), idleTimeout: value('idleTimeout')}
    setBusy(true)
    try {
      const session = await api.startSession(request)
      navigate(`#/sessions/${session.id}`)
    } catch (failure) {
      setError(failure as ApiError)
      setBusy(false)
    }
  }

  return html`<section class="page" id="start-page">
    <header class="bar"><h1>New session</h1><a href="#/">Back to sessions</a></header>
    <${ErrorBanner} error=${error} />
    <form class="start" onSubmit=${submit}>
      <label>Repository <input name="repo" required placeholder="owner/name, or a path on this machine" autocomplete="off" /></label>
      <label>Branch <input name="branch" placeholder="the default branch" autocomplete="off" /></label>
      <div class="row">
        <label>vCPU <select name="cpu">${CPUS.map((c) => html`<option value=${c} selected=${c === '1'}>${c}</option>`)}</select></label>
        <label>Memory <input name="memory" value="4GB" /></label>
      </div>
      <div class="row">
        <label>Time to live <input name="ttl" value="4h" /></label>
        <label>Idle timeout <input name="idleTimeout" value="30m" /></label>
      </div>
      <button class="primary" type="submit" disabled=${busy} id="start-session">${busy ? 'Starting…' : 'Start session'}</button>
    </form>
  </section>`
}
