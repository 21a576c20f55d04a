/** What the three `devflow local` commands share: where the data dir is, and the flag for it. */
import {Flags} from '@oclif/core'

import type {ConfigFile} from './config.js'
import {defaultDataDir, LOCAL_STAGE} from '../adapters/local/paths.js'

export const dataDirFlag = Flags.string({
  description: 'where the local platform keeps its database, token, logs and workspaces [default: ~/.local/share/devflow/local]',
})

/** The flag, else the data dir the last `local up` used (saved in the config), else the default. */
export function resolveDataDir(flag: string | undefined, config: ConfigFile): string {
  return flag ?? config.getStageData(LOCAL_STAGE, 'local')?.dataDir ?? defaultDataDir()
}
