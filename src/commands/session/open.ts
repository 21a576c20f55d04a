import {Args, Flags} from '@oclif/core'

import {conflict, remoteFailure} from '../../core/errors.js'
import {EDITOR_PORT} from '../../core/deployment.js'
import {parseSessionId} from '../../core/validation.js'
import {findSessionManagerPlugin, runSessionManagerPlugin, startPortForwardSession} from '../../adapters/aws/port-forward.js'
import {openBrowser, waitForPort} from '../../cli/browser.js'
import {paint} from '../../cli/output.js'
import {SessionCommand} from '../../cli/session-command.js'
import type {EditorAccess} from '../../cli/session-schemas.js'


export default class SessionOpen extends SessionCommand<typeof SessionOpen> {
  static summary = 'Open the session\'s editor (code-server) in the browser'
  static description = `Forwards a local port to the workspace's code-server through an SSM session (ECS Exec), which needs AWS's session-manager-plugin, then opens the browser and prints the editor's password once. The forward lasts until you press Ctrl-C.
In local mode the editor's own URL is opened directly.`
  static examples = ['<%= config.bin %> session open s-abcdefghijklmnopqrst', '<%= config.bin %> session open s-abcdefghijklmnopqrst --port 9000 --no-browser']
  static args = {
    id: Args.string({description: 'session id', required: true}),
  }
  static flags = {
    port: Flags.integer({char: 'p', description: 'local port to forward', default: EDITOR_PORT, min: 1, max: 65_535}),
    browser: Flags.boolean({description: 'open the browser (--no-browser only prints the URL)', default: true, allowNo: true}),
  }

  async run(): Promise<EditorAccess> {
    const sessionId = parseSessionId(this.args.id)
    const client = await this.sessionClient()
    const editor = await client.api.editor(client.caller, sessionId)
    if (editor.unavailableReason) {
      throw conflict(
        'EDITOR_UNAVAILABLE',
        editor.unavailableReason,
        editor.unavailableHint ?? `Wait for the session with \`devflow session status ${sessionId} --watch\`, then run this again.`,
      )
    }
    if (editor.url) {
      const access: EditorAccess = {sessionId, url: editor.url, via: 'direct', ...(editor.password ? {password: editor.password} : {})}
      this.announce(access)
      if (this.flags.browser) openBrowser(access.url)
      return access
    }
    if (!editor.cluster || !editor.taskArn || !editor.taskId || !editor.container) {
      throw remoteFailure('EDITOR_INFO_INCOMPLETE', `The API did not say which task runs session ${sessionId}'s editor.`, `Check the session with \`devflow session status ${sessionId}\`; if it is RUNNING, report this.`)
    }
    const plugin = await findSessionManagerPlugin()
    const localPort = this.flags.port
    const forward = await startPortForwardSession(
      await this.awsEnvironment(),
      {cluster: editor.cluster, taskArn: editor.taskArn, taskId: editor.taskId, container: editor.container},
      editor.port,
      localPort,
    )
    const access: EditorAccess = {
      sessionId,
      url: `http://localhost:${localPort}/`,
      via: 'ssm-port-forward',
      localPort,
      ssmSessionId: forward.sessionId,
      ...(editor.password ? {password: editor.password} : {}),
    }
    this.announce(access)
    const pluginEnded = new AbortController()
    if (this.flags.browser) {
      void waitForPort(localPort, 30_000, pluginEnded.signal).then((up) => up && openBrowser(access.url))
    }
    const exitCode = await runSessionManagerPlugin(plugin, forward.pluginArgs).finally(() => pluginEnded.abort())
    if (exitCode !== 0) {
      throw remoteFailure('PORT_FORWARD_FAILED', `session-manager-plugin ended with exit code ${exitCode}.`, 'Check that ECS Exec is enabled on the workspace task and that your credentials allow ssm:StartSession, then try again.')
    }
    return access
  }

  private announce(access: EditorAccess): void {
    this.terminal.print(`Editor:   ${paint(access.url, 'cyan')}`)
    if (access.password) this.terminal.print(`Password: ${access.password}  ${paint('(shown once; keep it private)', 'dim')}`)
    if (access.via === 'ssm-port-forward') this.terminal.note('Forwarding through SSM; press Ctrl-C to stop.')
  }
}
