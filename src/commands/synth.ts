import {Flags} from '@oclif/core'

import {contextFlag, PlatformCommand} from '../cli/platform-command.js'

export default class Synth extends PlatformCommand<typeof Synth> {
  static summary = 'Write the stage\'s CloudFormation template and assets to a directory'
  static examples = ['<%= config.bin %> synth --out cdk.out', '<%= config.bin %> synth --stage prod --out /tmp/devflow-prod --json']
  static flags = {
    out: Flags.string({char: 'o', description: 'output directory', default: 'cdk.out'}),
    context: contextFlag,
  }

  async run(): Promise<{outDir: string; stacks: string[]}> {
    const result = await (await this.platformStack()).synth(await this.stage(), this.flags.context, this.flags.out)
    this.terminal.print(`Wrote ${result.stacks.join(', ')} to ${result.outDir}`)
    return result
  }
}
