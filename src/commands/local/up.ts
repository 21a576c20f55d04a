import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {isDevflowError} from '../../core/errors.js'
import {localUp, type RuntimeRequest, type UpResult} from '../../local/daemon.js'
import {dataDirFlag, resolveDataDir} from '../../local/command-support.js'
import {consoleLoginLink} from '../../local/console-link.js'
import {DEFAULT_LOCAL_PORT, LOCAL_STAGE} from '../../local/paths.js'
import {claudeApiKey} from '../../local/secrets.js'

export default class LocalUp extends BaseCommand<typeof LocalUp> {
  static summary = 'Start the whole DevFlow platform on this machine, in the background'
  static description =
    'Starts the DevFlow API on 127.0.0.1 (protected by a random token kept in the data dir), an embedded database and a runtime: each session is a container of the workspace image when Docker answers and the image exists, else host processes running the container\'s own scripts. Writes the `local` stage into the config, so `devflow session … --stage local` (or DEVFLOW_STAGE=local) uses it. Running it again while the platform runs changes nothing.'
  static examples = [
    '<%= config.bin %> local up',
    '<%= config.bin %> local up --port 9000 --data-dir ./devflow-data',
    '<%= config.bin %> local up && <%= config.bin %> session start --stage local --repo "$PWD/examples/sample-repo"',
  ]

  static flags = {
    port: Flags.integer({description: 'port of the local API on 127.0.0.1', default: DEFAULT_LOCAL_PORT, min: 1, max: 65_535}),
    'data-dir': dataDirFlag,
    runtime: Flags.string({
      description: 'how sessions run: containers of the workspace image, or host processes running the container scripts (auto: Docker when an engine answers and a devflow-workspace image exists)',
      options: ['auto', 'docker', 'process'],
      default: 'auto',
    }),
    image: Flags.string({description: 'with the Docker runtime: the workspace image [default: the newest devflow-workspace image]'}),
  }

  async run(): Promise<UpResult & {stage: string; consoleLoginUrl?: string}> {
    const config = await this.configFile()
    const dataDir = resolveDataDir(this.flags['data-dir'], config)
    await this.terminal.startProgress('Starting the local platform')
    const result = await localUp({dataDir, port: this.flags.port, env: process.env, runtime: this.flags.runtime as RuntimeRequest, image: this.flags.image})
    this.terminal.stopProgress()

    config.setStageData(LOCAL_STAGE, 'deployment', {apiUrl: result.url})
    config.setStageData(LOCAL_STAGE, 'local', {tokenFile: result.tokenFile, dataDir: result.dataDir})
    await config.save()

    if (result.started) {
      const runtime = result.runtime === 'docker' ? `sessions run as ${result.image} containers` : 'sessions run as host processes'
      this.terminal.print(`DevFlow is running locally at ${result.url} (pid ${result.pid}; ${runtime}); data in ${result.dataDir}.`)
    } else {
      this.terminal.print(`DevFlow is already running locally at ${result.url} (pid ${result.pid}); nothing was started.`)
      if (result.port !== this.flags.port && this.flags.port !== DEFAULT_LOCAL_PORT) {
        this.terminal.note(`It listens on port ${result.port}, not ${this.flags.port}: run \`devflow local down\` first to move it.`)
      }
    }
    this.terminal.print(`Start a session:  devflow session start --stage ${LOCAL_STAGE} --repo "$PWD/examples/sample-repo"`)
    // The console link is a convenience: a server that cannot give one (an older one) still runs.
    const link = await consoleLoginLink(result.dataDir).catch((error: unknown) => {
      if (!isDevflowError(error)) throw error
      this.terminal.note(`No console sign-in link: ${error.message} ${error.hint}`)
      return undefined
    })
    if (link) this.terminal.print(`Or in the browser: ${link.url}  (a one-time sign-in link; \`devflow local open\` makes another)`)
    if (!claudeApiKey(result.dataDir, process.env)) {
      this.terminal.note(
        'No Claude API key yet: prompts will be refused until you run `devflow secrets set claude-api-key --stage local` (or export ANTHROPIC_API_KEY before `devflow local up`).',
      )
    }
    return {...result, stage: LOCAL_STAGE, ...(link ? {consoleLoginUrl: link.url} : {})}
  }
}
