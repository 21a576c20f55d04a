import htm from 'htm'
import {h} from 'preact'
import {useEffect, useRef} from 'preact/hooks'

import type {ApiError} from './api.js'

export const html = htm.bind(h)
export type View = ReturnType<typeof html>

/** Runs `task` now and every `intervalMs` until the component goes or `deps` change. */
export function usePoll(task: () => Promise<void>, intervalMs: number, deps: unknown[]): void {
  const latest = useRef(task)
  latest.current = task
  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const tick = async () => {
      try {
        await latest.current()
      } finally {
        if (!stopped) timer = setTimeout(tick, intervalMs)
      }
    }
    void tick()
    return () => {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
    }
  }, deps)
}

export function ErrorBanner({error}: {error?: ApiError}): View | null {
  if (!error) return null
  return html`<div class="error" role="alert" data-error-code=${error.code}>
    <strong>${error.message}</strong>
    ${error.hint ? html`<p class="hint">Try this: ${error.hint}</p>` : null}
    <code class="code">${error.code}</code>
  </div>`
}

export function StatusBadge({status}: {status: string}): View {
  return html`<span class=${`badge status-${status.toLowerCase()}`} data-status=${status}>${status}</span>`
}

export function navigate(hash: string): void {
  location.hash = hash
}
