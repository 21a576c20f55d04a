import {Flags} from '@oclif/core'

import type {Session} from '../../core/models.js'
import {SessionCommand} from '../../cli/session-command.js'
import {runningNote, startedNote} from '../../cli/session-format.js'
import {startRequestFromFlags, waitUntilRunning} from '../../cli/session-actions.js'

export default class SessionStart extends SessionCommand<typeof SessionStart> {
  static summary = 'Start a cloud workspace for a GitHub repository'
  static description =
    'Prints the new session id on stdout. With --wait, shows progress on stderr until the workspace is RUNNING (exit 6 when --timeout passes first, 7 when it fails to start).'
  static examples = [
    '<%= config.bin %> session start --repo octocat/hello-world',
    '<%= config.bin %> session start --repo octocat/hello-world --branch develop --cpu 2 --memory 8GB --ttl 8h --wait',
    'id=$(<%= config.bin %> session start --repo octocat/hello-world --idempotency-key ci-$RUN_ID)',
  ]
  static flags = {
    repo: Flags.string({char: 'r', description: 'GitHub repository, owner/name', required: true}),
    branch: Flags.string({char: 'b', description: 'branch to check out [default: main]'}),
    cpu: Flags.string({description: 'vCPUs (0.25, 0.5, 1, 2, 4, 8, 16) or CPU units [default: 1]'}),
    memory: Flags.string({description: 'memory, MiB or GB (4096, 8GB) [default: 4GB]'}),
    ttl: Flags.string({description: 'how long the session may live, e.g. 4h [default: 4h]'}),
    'idle-timeout': Flags.string({description: 'stop after this long without activity, e.g. 30m [default: 30m]'}),
    'idempotency-key': Flags.string({description: 'repeat-safe key: the same key returns the same session'}),
    wait: Flags.boolean({char: 'w', description: 'wait until the workspace is RUNNING'}),
    timeout: Flags.string({description: 'with --wait: give up after this long [default: 10m]', dependsOn: ['wait']}),
  }

  async run(): Promise<Session> {
    const request = startRequestFromFlags(this.flags, await this.sessionMode())
    const timeoutMs = this.flags.wait ? this.durationMs(this.flags.timeout ?? '10m', 'timeout') : undefined
    const client = await this.sessionClient()
    const {session, created} = await client.api.start(client.caller, request)
    this.terminal.print(session.id)
    this.terminal.note(startedNote(session, created, this.flags.wait))
    if (!this.flags.wait) return session
    const running = await waitUntilRunning(client, session.id, this.terminal, {intervalMs: this.pollIntervalMs(), timeoutMs})
    this.terminal.note(runningNote(running))
    return running
  }
}
