/**
 * `session open`: reaches a session's editor the way the session service says (EditorAccess): the
 * runtime's own URL, or an SSM port forward into the ECS task that lasts until the plugin ends.
 */
import {conflict, remoteFailure} from '../core/errors.js'
import type {Caller, EditorAccess, EditorInfo, SessionApi} from '../core/session-api.js'
import type {EditorAccess as EditorAccessDocument} from '../cli/session-schemas.js'

/** What `session open` prints under --json (schemas/ holds its JSON schema). */
export type OpenedEditor = EditorAccessDocument

export interface TaskPortForwarder {
  /** Starts the forward; `run` carries the traffic until it ends and gives the plugin's exit code. */
  forward(target: {cluster: string; taskArn: string; taskId: string; container: string}, remotePort: number, localPort: number): Promise<{ssmSessionId: string; run(): Promise<number>}>
}

export interface EditorAccessDeps {
  readonly api: SessionApi
  readonly caller: Caller
  /** Loaded only for an SSM forward, so local mode never loads the AWS SDK. */
  readonly forwarder: () => Promise<TaskPortForwarder>
  readonly browser: {open(url: string): void; whenListening(port: number, timeoutMs: number, signal: AbortSignal): Promise<boolean>}
}

export interface OpenEditorRequest {
  readonly sessionId: string
  readonly localPort: number
  readonly openBrowser: boolean
  /** Called once the editor can be reached (before a forward blocks). */
  readonly announce: (editor: OpenedEditor) => void
}

/** The EditorInfo of the API, read back as the service's EditorAccess. */
export function editorAccessOf(info: EditorInfo): EditorAccess {
  if (info.unavailableReason) {
    return {kind: 'unavailable', reason: info.unavailableReason, hint: info.unavailableHint ?? `Wait for the session with \`devflow session status ${info.sessionId} --watch\`, then run this again.`}
  }
  if (info.url) return {kind: 'url', url: info.url, port: info.port}
  if (!info.cluster || !info.taskArn || !info.taskId || !info.container) {
    throw remoteFailure('EDITOR_INFO_INCOMPLETE', `The API did not say which task runs session ${info.sessionId}'s editor.`, `Check the session with \`devflow session status ${info.sessionId}\`; if it is RUNNING, report this.`)
  }
  return {kind: 'ssm', cluster: info.cluster, taskArn: info.taskArn, taskId: info.taskId, container: info.container, port: info.port}
}

export async function openEditor(deps: EditorAccessDeps, request: OpenEditorRequest): Promise<OpenedEditor> {
  const {sessionId, localPort} = request
  const info = await deps.api.editor(deps.caller, sessionId)
  const password = info.password ? {password: info.password} : {}
  const access = editorAccessOf(info)
  switch (access.kind) {
    case 'unavailable':
      throw conflict('EDITOR_UNAVAILABLE', access.reason, access.hint)
    case 'url': {
      const opened: OpenedEditor = {sessionId, url: access.url, via: 'direct', ...password}
      request.announce(opened)
      if (request.openBrowser) deps.browser.open(opened.url)
      return opened
    }
    case 'ssm': {
      const forward = await (await deps.forwarder()).forward(access, access.port, localPort)
      const opened: OpenedEditor = {sessionId, url: `http://localhost:${localPort}/`, via: 'ssm-port-forward', localPort, ssmSessionId: forward.ssmSessionId, ...password}
      request.announce(opened)
      const pluginEnded = new AbortController()
      if (request.openBrowser) {
        void deps.browser.whenListening(localPort, 30_000, pluginEnded.signal).then((up) => up && deps.browser.open(opened.url))
      }
      const exitCode = await forward.run().finally(() => pluginEnded.abort())
      if (exitCode !== 0) {
        throw remoteFailure('PORT_FORWARD_FAILED', `session-manager-plugin ended with exit code ${exitCode}.`, 'Check that ECS Exec is enabled on the workspace task and that your credentials allow ssm:StartSession, then try again.')
      }
      return opened
    }
  }
}
