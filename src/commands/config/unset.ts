import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {unsetSetting} from '../../cli/config-commands.js'

export default class ConfigUnset extends BaseCommand<typeof ConfigUnset> {
  static summary = 'Remove a setting from the config file'
  static examples = ['<%= config.bin %> config unset region', '<%= config.bin %> config unset profile --stage prod']
  static args = {
    key: Args.string({description: 'setting name', required: true}),
  }

  async run(): Promise<{key: string; scope: string; removed: boolean}> {
    const result = await unsetSetting(await this.configFile(), this.args.key, this.flags.stage)
    this.terminal.note(result.removed ? `Removed ${result.key} (${result.scope})` : `${result.key} was not set (${result.scope})`)
    return {key: result.key, scope: result.scope, removed: result.removed}
  }
}
