import {Args, Flags} from '@oclif/core'

import type {Session} from '../../core/models.js'
import {parseSessionId, parseUsd} from '../../core/validation.js'
import {SessionCommand} from '../../cli/session-command.js'
import {sessionDetail} from '../../cli/session-format.js'

export default class SessionBudget extends SessionCommand<typeof SessionBudget> {
  static summary = 'Raise a session\'s budget; a paused session takes prompts again'
  static description =
    'A session without a budget of its own gets the stage default plus the amount. A session paused because a prompt stopped at its budget claims its waiting prompts again.'
  static examples = ['<%= config.bin %> session budget s-abcdefghijklmnopqrst --add 5']
  static args = {
    id: Args.string({description: 'session id', required: true}),
  }
  static flags = {
    add: Flags.string({description: 'USD to add to the session\'s budget', required: true}),
  }

  async run(): Promise<Session> {
    const id = parseSessionId(this.args.id)
    const addUsd = parseUsd(this.flags.add, 'budget increase')
    const client = await this.sessionClient()
    const session = await client.api.addBudget(client.caller, id, {addUsd})
    this.terminal.print(sessionDetail(session))
    return session
  }
}
