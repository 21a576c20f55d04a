import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {openBrowser} from '../../cli/browser.js'
import {dataDirFlag, resolveDataDir} from '../../cli/local-flags.js'
import {type ConsoleLink, consoleLoginLink} from '../../operations/console-link.js'

export default class LocalOpen extends BaseCommand<typeof LocalOpen> {
  static summary = 'Open the local DevFlow console in the browser, signed in'
  static description =
    'Asks the running local platform for a one-time sign-in link (valid for two minutes, usable once) and opens it: the browser gets an HttpOnly session cookie for the console at http://127.0.0.1:<port>/. With --no-browser (or --json) the link is only printed.'
  static examples = ['<%= config.bin %> local open', '<%= config.bin %> local open --no-browser']

  static flags = {
    'data-dir': dataDirFlag,
    browser: Flags.boolean({description: 'open the browser (--no-browser only prints the link)', default: true, allowNo: true}),
  }

  async run(): Promise<ConsoleLink & {opened: boolean}> {
    const link = await consoleLoginLink(resolveDataDir(this.flags['data-dir'], await this.configFile()))
    const opened = this.flags.browser && !this.jsonEnabled()
    if (opened) openBrowser(link.url)
    this.terminal.print(`${opened ? 'Opening' : 'Open'} the DevFlow console: ${link.url}`)
    this.terminal.note('The link signs one browser in and works once, until ' + link.expiresAt + '; run `devflow local open` again for another.')
    return {...link, opened}
  }
}
