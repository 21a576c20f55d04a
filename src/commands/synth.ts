import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {contextFlag, progressSink} from '../cli/platform-flags.js'
import {parseContextArgs, Platform} from '../adapters/cdk/toolkit.js'

export default class Synth extends BaseCommand<typeof Synth> {
  static summary = 'Write the stage\'s CloudFormation template and assets to a directory'
  static examples = ['<%= config.bin %> synth --out cdk.out', '<%= config.bin %> synth --stage prod --out /tmp/devflow-prod --json']
  static flags = {
    out: Flags.string({char: 'o', description: 'output directory', default: 'cdk.out'}),
    context: contextFlag,
  }

  async run(): Promise<{outDir: string; stacks: string[]}> {
    const platform = new Platform({stage: await this.stage(), aws: await this.awsEnvironment(), context: parseContextArgs(this.flags.context), progress: progressSink(this.terminal)})
    await this.terminal.startProgress(`Synthesizing ${platform.stackName}`)
    const result = await platform.synth(this.flags.out)
    this.terminal.stopProgress()
    this.terminal.print(`Wrote ${result.stacks.join(', ')} to ${result.outDir}`)
    return result
  }
}
