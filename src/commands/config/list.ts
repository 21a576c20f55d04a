import {BaseCommand} from '../../cli/base-command.js'
import {listSettings} from '../../cli/config-commands.js'
import type {ResolvedSetting} from '../../cli/config.js'
import {paint, table} from '../../cli/output.js'

interface ConfigListing {
  configFile: string
  stage: string
  settings: ResolvedSetting[]
  deployment?: Record<string, string>
}

export default class ConfigList extends BaseCommand<typeof ConfigList> {
  static summary = 'Show every setting, its value and where it comes from'
  static examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --stage prod --json']

  async run(): Promise<ConfigListing> {
    const config = await this.configFile()
    const stage = await this.stage()
    const settings = listSettings(await this.settings())
    const deployment = config.getStageData(stage, 'deployment')
    this.terminal.print(
      table(
        ['KEY', 'VALUE', 'SOURCE'],
        settings.map((s) => [s.key, s.value ?? paint('-', 'dim'), s.origin ? `${s.source}: ${s.origin}` : s.source]),
      ),
    )
    if (deployment) {
      this.terminal.print(`\nDeployment outputs (stage ${stage}):`)
      this.terminal.print(table(['OUTPUT', 'VALUE'], Object.entries(deployment)))
    }
    return {configFile: config.path, stage, settings, ...(deployment ? {deployment} : {})}
  }
}
