import {BaseCommand} from '../../cli/base-command.js'
import {localStatus, type StatusResult} from '../../operations/local-platform.js'
import {dataDirFlag, resolveDataDir} from '../../cli/local-flags.js'

export default class LocalStatus extends BaseCommand<typeof LocalStatus> {
  static summary = 'Show whether the local DevFlow platform runs, where, and how many sessions it has'
  static examples = ['<%= config.bin %> local status', '<%= config.bin %> local status --json']

  static flags = {
    'data-dir': dataDirFlag,
  }

  async run(): Promise<StatusResult> {
    const status = await localStatus(resolveDataDir(this.flags['data-dir'], await this.configFile()))
    if (!status.running) {
      this.terminal.print(`The local platform is not running (data in ${status.dataDir}). Start it with \`devflow local up\`.`)
    } else {
      this.terminal.print(`Running at ${status.url ?? '(starting)'} (pid ${status.pid})${status.startedAt ? ` since ${status.startedAt}` : ''}`)
      this.terminal.print(`Health:   ${status.health ?? 'unknown'}`)
      if (status.runtime) this.terminal.print(`Runtime:  ${status.runtime === 'docker' ? `Docker (${status.image})` : 'host processes'}`)
      if (status.sessions) this.terminal.print(`Sessions: ${status.sessions.active} active, ${status.sessions.total} in total`)
      this.terminal.print(`Data:     ${status.dataDir}`)
    }
    return status
  }
}
