import {Flags} from '@oclif/core'

import {USAGE_GROUPINGS, type UsageReport} from '../core/session-api.js'
import {parseDuration} from '../core/validation.js'
import {SessionCommand} from '../cli/session-command.js'
import {usageTable} from '../cli/session-format.js'

export default class Usage extends SessionCommand<typeof Usage> {
  static summary = 'Sessions, hours, prompts and cost over a period'
  static description =
    'Read from the session and prompt tables. Admin mode (--admin) sees every user\'s sessions; API mode the caller\'s own. Compute is counted from the recorded task times, agent cost from what Claude Code reported.'
  static examples = ['<%= config.bin %> usage', '<%= config.bin %> usage --since 7d --by repo', '<%= config.bin %> usage --admin --by user --json']
  static flags = {
    since: Flags.string({description: 'how far back, e.g. 7d or 12h [default: 30d]'}),
    by: Flags.string({description: 'one row per user, repository or day [default: user]', options: [...USAGE_GROUPINGS]}),
  }

  async run(): Promise<UsageReport> {
    if (this.flags.since !== undefined) parseDuration(this.flags.since, 'usage period')
    const client = await this.sessionClient()
    const report = await client.api.usage(client.caller, {
      ...(this.flags.since === undefined ? {} : {since: this.flags.since}),
      ...(this.flags.by === undefined ? {} : {by: this.flags.by as UsageReport['by']}),
    })
    this.terminal.print(usageTable(report))
    return report
  }
}
