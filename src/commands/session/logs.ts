import {Flags} from '@oclif/core'

import {parsePromptId, parseSessionId} from '../../core/validation.js'
import {colorEnabled} from '../../cli/output.js'
import {SessionCommand} from '../../cli/session-command.js'
import {sessionIdArg} from '../../cli/session-flags.js'
import {eventLine, promptHeader, promptLog, promptResult} from '../../cli/session-format.js'
import {collectLogs, followLogs, type SessionLogs as SessionLogsDocument} from '../../operations/session-logs.js'

export default class SessionLogs extends SessionCommand<typeof SessionLogs> {
  static summary = 'Show the agent\'s progress and results for a session\'s prompts'
  static description = 'With --follow, keeps printing new events (and new prompts) until the prompt, or the session, has ended.'
  static examples = ['<%= config.bin %> session logs s-abcdefghijklmnopqrst', '<%= config.bin %> session logs s-abcdefghijklmnopqrst --prompt p-abcdefghijklmnopqrst --follow']
  static args = {id: sessionIdArg}
  static flags = {
    prompt: Flags.string({char: 'p', description: 'only this prompt'}),
    follow: Flags.boolean({char: 'f', description: 'keep printing new events until the end'}),
  }

  async run(): Promise<SessionLogsDocument> {
    const sessionId = parseSessionId(this.args.id)
    const promptId = this.flags.prompt === undefined ? undefined : parsePromptId(this.flags.prompt)
    const client = await this.sessionClient()
    const logs = await collectLogs(client, sessionId, promptId)
    for (const prompt of logs.prompts) this.terminal.print(promptLog(prompt))
    if (!this.flags.follow) {
      if (logs.prompts.length === 0) this.terminal.print('No prompts yet.')
      return logs
    }
    return followLogs(client, logs, {
      promptId,
      intervalMs: this.pollIntervalMs(),
      listener: {
        newPrompt: (prompt) => this.terminal.print(promptHeader(prompt)),
        event: (event) => this.terminal.print(eventLine(event, colorEnabled())),
        finished: (prompt) => this.terminal.print(promptResult(prompt)),
      },
    })
  }
}
