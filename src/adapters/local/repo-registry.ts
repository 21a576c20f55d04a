/**
 * Local repositories for `devflow local`: a path or file:// URL on this machine, registered under a
 * repository name of the owner `local` (for example `local/sample-repo`), because sessions, tokens
 * and pull requests all speak `owner/name`. The workspace then clones REPO_URL (the path) instead
 * of https://github.com/<repo>.git. GitHub repositories are not registered and pass through.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {basename, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import type Database from 'better-sqlite3'

import {invalidInput} from '../../core/errors.js'

export const LOCAL_REPO_OWNER = 'local'

/** Whether the user meant a repository on this machine rather than a GitHub `owner/name`. */
export function looksLikeLocalPath(input: string): boolean {
  return /^(file:\/\/|\/|\.{1,2}(\/|$)|~(\/|$))/.test(input.trim())
}

export class LocalRepoRegistry {
  constructor(private readonly db: Database.Database) {
    db.exec('CREATE TABLE IF NOT EXISTS local_repos (name TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE)')
  }

  /**
   * The `local/<name>` reference of a repository on this machine, registering it on first use.
   * `cwd` resolves a relative path (the CLI's working directory, not the server's).
   */
  register(input: string, cwd: string): string {
    const path = toAbsolutePath(input.trim(), cwd)
    if (!existsSync(path) || !statSync(path).isDirectory()) {
      throw invalidInput('REPO_PATH_NOT_FOUND', `${path} does not exist or is not a directory.`, 'Pass the path of a git repository on this machine, or a GitHub owner/name.')
    }
    try {
      execFileSync('git', ['-C', path, 'rev-parse', '--git-dir'], {stdio: 'ignore'})
    } catch (error) {
      throw invalidInput('REPO_NOT_GIT', `${path} is not a git repository.`, `Run \`git init\` and commit in it first, or pass another path.`, {cause: error})
    }
    const known = this.db.prepare('SELECT name FROM local_repos WHERE path = ?').get(path) as {name: string} | undefined
    if (known) return `${LOCAL_REPO_OWNER}/${known.name}`
    const stem = basename(path).replace(/\.git$/, '').replace(/[^\w.-]/g, '-').replace(/^\.+/, '').slice(0, 90) || 'repo'
    for (let n = 1; ; n++) {
      const name = n === 1 ? stem : `${stem}-${n}`
      const taken = this.db.prepare('SELECT 1 FROM local_repos WHERE name = ?').get(name)
      if (!taken) {
        this.db.prepare('INSERT INTO local_repos (name, path) VALUES (?, ?)').run(name, path)
        return `${LOCAL_REPO_OWNER}/${name}`
      }
    }
  }

  /** The path behind a `local/<name>` reference, undefined for anything else. */
  pathOf(repo: string): string | undefined {
    const [owner, name] = repo.split('/')
    if (owner !== LOCAL_REPO_OWNER || !name) return undefined
    const row = this.db.prepare('SELECT path FROM local_repos WHERE name = ?').get(name) as {path: string} | undefined
    return row?.path
  }
}

function toAbsolutePath(input: string, cwd: string): string {
  if (input.startsWith('file://')) return fileURLToPath(input)
  if (input === '~' || input.startsWith('~/')) return resolve(homedir(), input.slice(2))
  return resolve(cwd, input)
}
