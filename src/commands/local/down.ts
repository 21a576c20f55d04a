import {BaseCommand} from '../../cli/base-command.js'
import {type DownResult, localDown} from '../../operations/local-platform.js'
import {dataDirFlag, resolveDataDir} from '../../cli/local-flags.js'

export default class LocalDown extends BaseCommand<typeof LocalDown> {
  static summary = 'Stop every local session, then the local DevFlow platform'
  static description = 'Sessions, prompts and their results stay in the data dir: `devflow local up` brings them back.'
  static examples = ['<%= config.bin %> local down']

  static flags = {
    'data-dir': dataDirFlag,
  }

  async run(): Promise<DownResult> {
    const dataDir = resolveDataDir(this.flags['data-dir'], await this.configFile())
    await this.terminal.startProgress('Stopping the local sessions and the platform')
    const result = await localDown(dataDir)
    this.terminal.stopProgress()
    if (!result.wasRunning) {
      const orphans = result.stoppedSessions
      this.terminal.print(`The local platform was not running.${orphans.length > 0 ? ` Stopped ${orphans.length} workspace(s) it had left running: ${orphans.join(', ')}.` : ''}`)
    } else {
      const sessions = result.stoppedSessions.length
      this.terminal.print(`Stopped the local platform${sessions > 0 ? ` and ${sessions} session(s): ${result.stoppedSessions.join(', ')}` : ''}. Your history stays in ${result.dataDir}.`)
    }
    return result
  }
}
