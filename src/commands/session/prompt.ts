import {Args, Flags} from '@oclif/core'

import {PrMode, type Prompt} from '../../core/models.js'
import {parseSessionId} from '../../core/validation.js'
import {PromptOutput} from '../../cli/prompt-output.js'
import {readPromptText} from '../../cli/session-actions.js'
import {SessionCommand} from '../../cli/session-command.js'
import {sessionIdArg} from '../../cli/session-flags.js'
import {sendPrompt} from '../../operations/session-prompt.js'

export default class SessionPrompt extends SessionCommand<typeof SessionPrompt> {
  static summary = 'Send a prompt to the session\'s AI agent'
  static description = `The prompt comes from TEXT, --file, or standard input (exactly one). Without --wait it is queued and its id printed.
With --wait, the agent's progress streams to stderr and the result follows: exit 0 when the prompt succeeded, 7 when it failed, 6 when --timeout passed first.
--stream prints each progress event as a JSON line on stdout ({"event": ...}) and ends with {"prompt": ...}.`
  static examples = [
    '<%= config.bin %> session prompt s-abcdefghijklmnopqrst "add a /health endpoint with a test" --pr draft --wait',
    '<%= config.bin %> session prompt s-abcdefghijklmnopqrst --file task.md --wait --json',
    'git diff | <%= config.bin %> session prompt s-abcdefghijklmnopqrst --stream',
  ]
  static args = {id: sessionIdArg, text: Args.string({description: 'the prompt (or use --file, or standard input)'})}
  static flags = {
    file: Flags.string({char: 'f', description: 'read the prompt from this file'}),
    pr: Flags.string({description: 'open a pull request with the result', options: [...PrMode.options], default: 'none'}),
    wait: Flags.boolean({char: 'w', description: 'wait for the result, showing progress on stderr'}),
    stream: Flags.boolean({description: 'wait, printing progress events as JSON lines on stdout', exclusive: ['json']}),
    timeout: Flags.string({description: 'with --wait or --stream: give up after this long', default: '30m'}),
  }

  async run(): Promise<Prompt> {
    const sessionId = parseSessionId(this.args.id)
    const timeoutMs = this.durationMs(this.flags.timeout, 'timeout')
    const text = await readPromptText({text: this.args.text, file: this.flags.file, stdin: process.stdin})
    const output = new PromptOutput(this.terminal, this.flags.stream)
    const waiting = this.flags.wait || this.flags.stream
    const follow = waiting ? {intervalMs: this.pollIntervalMs(), timeoutMs, onQueued: output.queued, onEvent: output.event} : undefined
    const prompt = await sendPrompt(await this.sessionClient(), sessionId, {text, pr: PrMode.parse(this.flags.pr)}, follow)
    if (waiting) output.finished(prompt)
    else output.queuedOnly(prompt, sessionId)
    return prompt
  }
}
