import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {type SettingWrite, setSetting} from '../../cli/config-commands.js'
import {SETTING_KEYS} from '../../cli/config.js'

export default class ConfigSet extends BaseCommand<typeof ConfigSet> {
  static summary = 'Set a setting in the config file'
  static description = `Keys: ${SETTING_KEYS.join(', ')}. With --stage the value applies to that stage only.`
  static examples = ['<%= config.bin %> config set region eu-west-1', '<%= config.bin %> config set profile prod-admin --stage prod']
  static args = {
    key: Args.string({description: 'setting name', required: true}),
    value: Args.string({description: 'new value', required: true}),
  }

  async run(): Promise<SettingWrite> {
    const written = await setSetting(await this.configFile(), this.args.key, this.args.value, this.flags.stage)
    this.terminal.note(`Set ${written.key} = ${written.value} (${written.scope}) in ${written.file}`)
    return written
  }
}
