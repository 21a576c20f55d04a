import {Flags} from '@oclif/core'

import type {Session} from '../../core/models.js'
import {parseSessionId} from '../../core/validation.js'
import {SessionCommand} from '../../cli/session-command.js'
import {sessionIdArg} from '../../cli/session-flags.js'
import {sessionDetail, statusChanges} from '../../cli/session-format.js'
import {watchSession} from '../../operations/session-wait.js'

export default class SessionStatus extends SessionCommand<typeof SessionStatus> {
  static summary = 'Show a session\'s state, reconciled with its workspace task'
  static description = 'With --watch, prints each change of state until the session is STOPPED or FAILED (or --timeout passes: exit 6); --json then prints the last state.'
  static examples = ['<%= config.bin %> session status s-abcdefghijklmnopqrst', '<%= config.bin %> session status s-abcdefghijklmnopqrst --watch']
  static args = {id: sessionIdArg}
  static flags = {
    watch: Flags.boolean({char: 'w', description: 'keep watching until the session ends'}),
    timeout: Flags.string({description: 'with --watch: stop watching after this long', dependsOn: ['watch']}),
  }

  async run(): Promise<Session> {
    const id = parseSessionId(this.args.id)
    const timeoutMs = this.flags.timeout === undefined ? undefined : this.durationMs(this.flags.timeout, 'timeout')
    const client = await this.sessionClient()
    if (this.flags.watch) return watchSession(client, id, {intervalMs: this.pollIntervalMs(), timeoutMs, onChange: statusChanges((text) => this.terminal.print(text))})
    const session = await client.api.get(client.caller, id)
    this.terminal.print(sessionDetail(session))
    return session
  }
}
