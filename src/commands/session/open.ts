import {Flags} from '@oclif/core'

import {EDITOR_PORT} from '../../core/deployment.js'
import {parseSessionId} from '../../core/validation.js'
import {openBrowser, waitForPort} from '../../cli/browser.js'
import {paint} from '../../cli/output.js'
import {SessionCommand} from '../../cli/session-command.js'
import {sessionIdArg} from '../../cli/session-flags.js'
import {type OpenedEditor, openEditor} from '../../operations/editor-access.js'

export default class SessionOpen extends SessionCommand<typeof SessionOpen> {
  static summary = 'Open the session\'s editor (code-server) in the browser'
  static description = `Forwards a local port to the workspace's code-server through an SSM session (ECS Exec), which needs AWS's session-manager-plugin, then opens the browser and prints the editor's password once. The forward lasts until you press Ctrl-C.
In local mode the editor's own URL is opened directly.`
  static examples = ['<%= config.bin %> session open s-abcdefghijklmnopqrst', '<%= config.bin %> session open s-abcdefghijklmnopqrst --port 9000 --no-browser']
  static args = {id: sessionIdArg}
  static flags = {
    port: Flags.integer({char: 'p', description: 'local port to forward', default: EDITOR_PORT, min: 1, max: 65_535}),
    browser: Flags.boolean({description: 'open the browser (--no-browser only prints the URL)', default: true, allowNo: true}),
  }

  async run(): Promise<OpenedEditor> {
    const sessionId = parseSessionId(this.args.id)
    const {api, caller} = await this.sessionClient()
    const forwarder = async () => {
      const [{forwardTaskPort}, aws] = await Promise.all([import('../../adapters/aws/port-forward.js'), this.awsEnvironment()])
      return {forward: (target: Parameters<typeof forwardTaskPort>[1], remote: number, local: number) => forwardTaskPort(aws, target, remote, local)}
    }
    return openEditor(
      {api, caller, forwarder, browser: {open: openBrowser, whenListening: waitForPort}},
      {sessionId, localPort: this.flags.port, openBrowser: this.flags.browser, announce: (editor) => this.announce(editor)},
    )
  }

  private announce(editor: OpenedEditor): void {
    this.terminal.print(`Editor:   ${paint(editor.url, 'cyan')}`)
    if (editor.password) this.terminal.print(`Password: ${editor.password}  ${paint('(shown once; keep it private)', 'dim')}`)
    if (editor.via === 'ssm-port-forward') this.terminal.note('Forwarding through SSM; press Ctrl-C to stop.')
  }
}
