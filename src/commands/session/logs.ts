import {Args, Flags} from '@oclif/core'

import type {PromptEvent} from '../../core/models.js'
import {parsePromptId, parseSessionId} from '../../core/validation.js'
import {allPrompts, collectLogs, isSessionEnded, type PromptLog, type SessionLogs as SessionLogsDocument} from '../../cli/session-actions.js'
import {colorEnabled} from '../../cli/output.js'
import {SessionCommand} from '../../cli/session-command.js'
import {eventLine, promptHeader, promptResult} from '../../cli/session-format.js'
import {followPrompt, isPromptFinished} from '../../cli/session-wait.js'

export default class SessionLogs extends SessionCommand<typeof SessionLogs> {
  static summary = 'Show the agent\'s progress and results for a session\'s prompts'
  static description = 'With --follow, keeps printing new events (and new prompts) until the prompt, or the session, has ended.'
  static examples = [
    '<%= config.bin %> session logs s-abcdefghijklmnopqrst',
    '<%= config.bin %> session logs s-abcdefghijklmnopqrst --prompt p-abcdefghijklmnopqrst --follow',
  ]
  static args = {
    id: Args.string({description: 'session id', required: true}),
  }
  static flags = {
    prompt: Flags.string({char: 'p', description: 'only this prompt'}),
    follow: Flags.boolean({char: 'f', description: 'keep printing new events until the end'}),
  }

  async run(): Promise<SessionLogsDocument> {
    const sessionId = parseSessionId(this.args.id)
    const promptId = this.flags.prompt === undefined ? undefined : parsePromptId(this.flags.prompt)
    const client = await this.sessionClient()
    const logs = await collectLogs(client, sessionId, promptId)
    for (const prompt of logs.prompts) this.printPrompt(prompt)
    if (!this.flags.follow) {
      if (logs.prompts.length === 0) this.terminal.print('No prompts yet.')
      return logs
    }
    const followed = new Map(logs.prompts.map((p) => [p.id, p]))
    const follow = async (prompt: PromptLog) => {
      if (isPromptFinished(prompt)) return
      const events: PromptEvent[] = [...prompt.events]
      const done = await followPrompt(client.api, client.caller, sessionId, prompt.id, {
        intervalMs: this.pollIntervalMs(),
        after: prompt.events.at(-1)?.seq ?? 0,
        onEvent: (event) => {
          events.push(event)
          this.terminal.print(eventLine(event, colorEnabled()))
        },
      })
      this.terminal.print(promptResult(done))
      followed.set(done.id, {...done, events})
    }
    for (const prompt of logs.prompts) await follow(prompt)
    // The whole session: pick up prompts queued meanwhile until the session has ended.
    while (!promptId) {
      const fresh = (await allPrompts(client, sessionId)).filter((p) => !followed.has(p.id))
      for (const prompt of fresh) {
        const entry = {...prompt, events: []}
        followed.set(prompt.id, entry)
        this.terminal.print(promptHeader(prompt))
        await follow(entry)
      }
      if (fresh.length === 0) {
        if (isSessionEnded(await client.api.get(client.caller, sessionId))) break
        await new Promise((resolve) => setTimeout(resolve, this.pollIntervalMs()))
      }
    }
    return {sessionId, prompts: [...followed.values()].sort((a, b) => a.seq - b.seq)}
  }

  private printPrompt(prompt: PromptLog): void {
    this.terminal.print(promptHeader(prompt))
    for (const event of prompt.events) this.terminal.print(eventLine(event, colorEnabled()))
    if (isPromptFinished(prompt)) this.terminal.print(promptResult(prompt))
  }
}
