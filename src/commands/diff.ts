import {BaseCommand} from '../cli/base-command.js'
import {paint, table} from '../cli/output.js'
import {contextFlag, progressSink} from '../cli/platform-flags.js'
import {parseContextArgs, Platform, type PlatformDiff} from '../adapters/cdk/toolkit.js'

const STYLE = {add: 'green', remove: 'red', replace: 'yellow', update: 'cyan'} as const

export default class Diff extends BaseCommand<typeof Diff> {
  static summary = 'Show what `devflow deploy` would change in the stage\'s stack'
  static examples = ['<%= config.bin %> diff --stage prod', '<%= config.bin %> diff --json']
  static flags = {context: contextFlag}

  async run(): Promise<PlatformDiff> {
    const platform = new Platform({stage: await this.stage(), aws: await this.awsEnvironment(), context: parseContextArgs(this.flags.context), progress: progressSink(this.terminal)})
    await this.terminal.startProgress(`Comparing ${platform.stackName} with what is deployed`)
    const diff = await platform.diff()
    this.terminal.stopProgress()
    if (diff.changes.length === 0) {
      this.terminal.print(`${diff.stackName}: no changes.`)
    } else {
      this.terminal.print(table(['change', 'type', 'resource'], diff.changes.map((c) => [paint(c.change, STYLE[c.change]), c.resourceType, c.logicalId])))
      if (diff.securityChanges) this.terminal.print(paint('IAM or security group changes: review them before deploying.', 'yellow'))
    }
    return diff
  }
}
