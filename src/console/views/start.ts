import {useEffect, useState} from 'preact/hooks'

import type {ApiError, ConsoleApi, RepositoryChoices, StartRequest} from '../api.js'
import {repositoryPicker} from '../format.js'
import {ErrorBanner, html, navigate, type View} from '../html.js'

const CPUS = ['0.25', '0.5', '1', '2', '4', '8', '16']

export function StartPage({api}: {api: ConsoleApi}): View {
  const [error, setError] = useState<ApiError | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const [choices, setChoices] = useState<RepositoryChoices | undefined>(undefined)

  useEffect(() => {
    api.repositories().then(setChoices, (failure: unknown) => setError(failure as ApiError))
  }, [api])

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
      <${RepositoryField} choices=${choices} />
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

/**
 * The stage's allow-list as choices: a list of the allowed `owner/name`s, or a text field that
 * suggests them when the stage also allows whole owners or any repository.
 */
function RepositoryField({choices}: {choices?: RepositoryChoices}): View {
  if (!choices) return html`<label>Repository <input name="repo" required disabled placeholder="Loading the allowed repositories…" /></label>`
  const picker = repositoryPicker(choices)
  if (!picker.free) {
    return picker.names.length === 0
      ? html`<label>Repository <select name="repo" id="repo-select" required disabled><option value="">none allowed</option></select>
          <span class="muted" id="repo-hint">This stage allows no repository yet: ask the platform team to add one to its allow-list (devflow:repositories).</span></label>`
      : html`<label>Repository <select name="repo" id="repo-select" required>${picker.names.map((name) => html`<option value=${name}>${name}</option>`)}</select></label>`
  }
  const hint = choices.any ? 'Any repository is allowed' : `Also any repository of ${picker.owners.join(', ')}`
  return html`<label>Repository <input name="repo" required list="repo-choices" placeholder="owner/name, or a path on this machine" autocomplete="off" />
    <datalist id="repo-choices">${picker.names.map((name) => html`<option value=${name} />`)}</datalist>
    <span class="muted" id="repo-hint">${hint}${picker.names.length > 0 ? '; or pick one of the suggestions' : ''}.</span></label>`
}
