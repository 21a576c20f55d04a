import type {PlatformDiff} from '../adapters/cdk/toolkit.js'
import {paint, table} from '../cli/output.js'
import {contextFlag, PlatformCommand} from '../cli/platform-command.js'

const STYLE = {add: 'green', remove: 'red', replace: 'yellow', update: 'cyan'} as const

export default class Diff extends PlatformCommand<typeof Diff> {
  static summary = 'Show what `devflow deploy` would change in the stage\'s stack'
  static examples = ['<%= config.bin %> diff --stage prod', '<%= config.bin %> diff --json']
  static flags = {context: contextFlag}

  async run(): Promise<PlatformDiff> {
    const diff = await (await this.platformStack()).diff(await this.stage(), this.flags.context)
    if (diff.changes.length === 0) {
      this.terminal.print(`${diff.stackName}: no changes.`)
    } else {
      this.terminal.print(table(['change', 'type', 'resource'], diff.changes.map((c) => [paint(c.change, STYLE[c.change]), c.resourceType, c.logicalId])))
      if (diff.securityChanges) this.terminal.print(paint('IAM or security group changes: review them before deploying.', 'yellow'))
    }
    return diff
  }
}
