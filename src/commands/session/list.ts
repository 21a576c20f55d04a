import {Flags} from '@oclif/core'

import {SESSION_STATUSES, type Session} from '../../core/models.js'
import {listSessions} from '../../cli/session-actions.js'
import {SessionCommand} from '../../cli/session-command.js'
import {sessionsTable} from '../../cli/session-format.js'

export default class SessionList extends SessionCommand<typeof SessionList> {
  static summary = 'List your sessions, newest first'
  static description = 'Reads every page unless --limit caps it; `nextToken` in the JSON says more were left.'
  static examples = ['<%= config.bin %> session list', '<%= config.bin %> session list --status RUNNING --json', '<%= config.bin %> session list --all']
  static flags = {
    status: Flags.string({char: 's', description: 'only sessions in this state', options: [...SESSION_STATUSES]}),
    limit: Flags.integer({char: 'n', description: 'at most this many sessions', min: 1}),
    all: Flags.boolean({description: 'every user\'s sessions (for the stage\'s admins: --admin, the operator role, or locally you)'}),
  }

  async run(): Promise<{items: Session[]; nextToken?: string}> {
    const client = await this.sessionClient()
    const page = await listSessions(client, {status: this.flags.status as Session['status'] | undefined, limit: this.flags.limit, all: this.flags.all})
    this.terminal.print(sessionsTable(page.items))
    if (page.nextToken) this.terminal.note(`More sessions exist; raise --limit to see them.`)
    return page
  }
}
