import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {getSetting} from '../../cli/config-commands.js'

export default class ConfigGet extends BaseCommand<typeof ConfigGet> {
  static summary = 'Print the value a setting resolves to (flag > environment > config file > default)'
  static examples = ['<%= config.bin %> config get region', '<%= config.bin %> config get region --json']
  static args = {
    key: Args.string({description: 'setting name', required: true}),
  }

  async run(): Promise<Record<string, string>> {
    const setting = getSetting(await this.settings(), this.args.key)
    this.terminal.print(setting.value)
    return {[setting.key]: setting.value}
  }
}
