import {Args, Flags} from '@oclif/core'

import type {Session} from '../../core/models.js'
import {parseSessionId} from '../../core/validation.js'
import {SessionCommand} from '../../cli/session-command.js'
import {resumedNote, runningNote} from '../../cli/session-format.js'
import {waitUntilRunning} from '../../cli/session-actions.js'
import {resumeSession} from '../../operations/session-resume.js'

export default class SessionResume extends SessionCommand<typeof SessionResume> {
  static summary = 'Start a stopped session again, where it stopped'
  static description =
    'A new workspace for the same session id: its branch checked out at the checkpoint the last workspace pushed when it stopped, the Claude conversation restored (the next prompt continues it), the prompts kept. A RUNNING session, or a FAILED one whose workspace never started, is refused (exit 5). With --wait, shows progress on stderr until the workspace is RUNNING (exit 6 when --timeout passes first, 7 when it fails to start).'
  static examples = ['<%= config.bin %> session resume s-abcdefghijklmnopqrst --wait', '<%= config.bin %> session resume s-abcdefghijklmnopqrst --json']
  static args = {
    id: Args.string({description: 'session id', required: true}),
  }
  static flags = {
    wait: Flags.boolean({char: 'w', description: 'wait until the workspace is RUNNING'}),
    timeout: Flags.string({description: 'with --wait: give up after this long [default: 10m]', dependsOn: ['wait']}),
  }

  async run(): Promise<Session> {
    const id = parseSessionId(this.args.id)
    const timeoutMs = this.flags.wait ? this.durationMs(this.flags.timeout ?? '10m', 'timeout') : undefined
    const client = await this.sessionClient()
    const session = await resumeSession(client, id, {intervalMs: this.pollIntervalMs(), retryUntil: timeoutMs === undefined ? undefined : Date.now() + timeoutMs})
    this.terminal.print(session.id)
    this.terminal.note(resumedNote(session, this.flags.wait))
    if (!this.flags.wait) return session
    const running = await waitUntilRunning(client, session.id, this.terminal, {intervalMs: this.pollIntervalMs(), timeoutMs})
    this.terminal.note(runningNote(running))
    return running
  }
}
