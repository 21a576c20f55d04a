import {Flags} from '@oclif/core'

import {invalidInput} from '../../core/errors.js'
import type {Session} from '../../core/models.js'
import {parseSessionId} from '../../core/validation.js'
import {SessionCommand} from '../../cli/session-command.js'
import {sessionStatus} from '../../cli/session-format.js'
import {stopSessions} from '../../operations/session-stop.js'

export default class SessionStop extends SessionCommand<typeof SessionStop> {
  static summary = 'Stop one or more sessions'
  static description =
    'Stopping an ended session is a no-op. With several ids, every one is attempted; the command then fails with the first error. With --wait, returns once each is STOPPED or FAILED.'
  static examples = ['<%= config.bin %> session stop s-abcdefghijklmnopqrst', '<%= config.bin %> session stop s-abcdefghijklmnopqrst s-bcdefghijklmnopqrstu --wait --json']
  static strict = false
  static args = {}
  static flags = {
    wait: Flags.boolean({char: 'w', description: 'wait until each session has stopped'}),
    timeout: Flags.string({description: 'with --wait: give up after this long [default: 5m]', dependsOn: ['wait']}),
  }

  async run(): Promise<{items: Session[]}> {
    const {argv} = await this.parse(SessionStop)
    const ids = (argv as string[]).map((id) => parseSessionId(id))
    if (ids.length === 0) {
      throw invalidInput('SESSION_ID_MISSING', 'No session id was given.', 'Pass one or more ids: `devflow session stop <id...>` (see `devflow session list`).')
    }
    const wait = this.flags.wait ? {intervalMs: this.pollIntervalMs(), timeoutMs: this.durationMs(this.flags.timeout ?? '5m', 'timeout')} : undefined
    const stopped = await stopSessions(await this.sessionClient(), ids, {
      wait,
      onStopped: (session) => this.terminal.print(`${session.id}  ${sessionStatus(session.status)}`),
      onFailure: (id, message) => this.terminal.note(`${id}: ${message}`),
    })
    return {items: stopped}
  }
}
