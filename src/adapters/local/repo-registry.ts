/**
 * Local repositories for `devflow local`: a path or file:// URL on this machine, registered under a
 * repository name of the owner `local` (for example `local/sample-repo`), because sessions, tokens
 * and pull requests all speak `owner/name`. The workspace then clones REPO_URL (the path) instead
 * of https://github.com/<repo>.git. GitHub repositories are not registered and pass through.
 *
 * A path that is not itself a repository (a plain project directory, or a folder inside another
 * repository such as examples/sample-repo) is imported once as a snapshot: a bare repository in the
 * data dir whose `main` holds the directory's files. The agent's branches land there. The checks
 * (too broad, too large) answer at once; the copy itself runs in the background, and the session
 * waits for it (import-gated-runtime.ts) instead of the request.
 */
import {execFile, execFileSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, realpathSync, rmSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {basename, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import type Database from 'better-sqlite3'

import {invalidInput, isDevflowError} from '../../core/errors.js'
import type {RepositoryResolver} from '../../core/ports.js'
import {parseRepoRef, type RepoRef} from '../../core/validation.js'

export const LOCAL_REPO_OWNER = 'local'

/** Whether the user meant a repository on this machine rather than a GitHub `owner/name`. */
export function looksLikeLocalPath(input: string): boolean {
  return /^(file:\/\/|\/|\.{1,2}(\/|$)|~(\/|$))/.test(input.trim())
}

/** How large a plain directory may be to be imported as a snapshot (a git repository is cloned in place, unbounded). */
export interface ImportLimits {
  readonly maxFiles: number
  readonly maxBytes: number
}

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {maxFiles: 20_000, maxBytes: 500 * 1024 * 1024}

export class LocalRepoRegistry implements RepositoryResolver {
  /** Snapshots still being copied, by `local/<name>`. */
  private readonly imports = new Map<string, Promise<void>>()

  constructor(
    private readonly db: Database.Database,
    /** Where snapshots of plain directories are kept. */
    private readonly snapshotDir: string,
    private readonly limits: ImportLimits = DEFAULT_IMPORT_LIMITS,
  ) {
    db.exec('CREATE TABLE IF NOT EXISTS local_repos (name TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE, clone_url TEXT NOT NULL)')
  }

  /** A path or file:// URL becomes a registered `local/<name>` repository; anything else is a GitHub reference. */
  resolve(input: string): RepoRef {
    if (!looksLikeLocalPath(input)) return parseRepoRef(input)
    if (/^\.{1,2}(\/|$)/.test(input.trim())) {
      throw invalidInput('REPO_PATH_RELATIVE', `"${input}" is a relative path, and the local server does not know your working directory.`, `Pass an absolute path, for example --repo "$PWD/${input.trim().replace(/^\.\//, '')}".`)
    }
    return parseRepoRef(this.register(input, '/'))
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
    refuseTooBroad(path)
    const known = this.db.prepare('SELECT name FROM local_repos WHERE path = ?').get(path) as {name: string} | undefined
    if (known) return `${LOCAL_REPO_OWNER}/${known.name}`
    const stem = basename(path).replace(/\.git$/, '').replace(/[^\w.-]/g, '-').replace(/^\.+/, '').slice(0, 90) || 'repo'
    for (let n = 1; ; n++) {
      const name = n === 1 ? stem : `${stem}-${n}`
      const taken = this.db.prepare('SELECT 1 FROM local_repos WHERE name = ?').get(name)
      if (!taken) {
        const ref = `${LOCAL_REPO_OWNER}/${name}`
        let cloneUrl = path
        if (!isRepositoryRoot(path)) {
          cloneUrl = join(this.snapshotDir, `${name}.git`)
          const copying = copySnapshot(path, cloneUrl, prepareSnapshot(path, cloneUrl, this.limits))
          this.imports.set(ref, this.settle(ref, name, copying))
        }
        this.db.prepare('INSERT INTO local_repos (name, path, clone_url) VALUES (?, ?, ?)').run(name, path, cloneUrl)
        return ref
      }
    }
  }

  /** The import `repo` still waits for, rejecting with why it failed; undefined once done (or for any other repository). */
  pendingImport(repo: string): Promise<void> | undefined {
    return this.imports.get(repo)
  }

  /** Forgets the import once it ended; a failed one unregisters the name, so the next start imports again. */
  private settle(ref: string, name: string, copying: Promise<void>): Promise<void> {
    const settled = copying.then(
      () => {
        this.imports.delete(ref)
      },
      (error: unknown) => {
        this.imports.delete(ref)
        this.db.prepare('DELETE FROM local_repos WHERE name = ?').run(name)
        throw error
      },
    )
    // Whoever starts a session on it waits for it and reports the failure; nobody else must.
    settled.catch(() => undefined)
    return settled
  }

  /** What the workspace clones for a `local/<name>` reference; undefined for anything else. */
  cloneUrlOf(repo: string): string | undefined {
    const [owner, name] = repo.split('/')
    if (owner !== LOCAL_REPO_OWNER || !name) return undefined
    const row = this.db.prepare('SELECT clone_url FROM local_repos WHERE name = ?').get(name) as {clone_url: string} | undefined
    return row?.clone_url
  }
}

function git(args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync('git', args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env}).trim()
}

/** A bare repository, or the top of a work tree (not a folder somewhere inside one). */
function isRepositoryRoot(path: string): boolean {
  try {
    if (git(['-C', path, 'rev-parse', '--is-bare-repository']) === 'true') return true
    return realpathSync(git(['-C', path, 'rev-parse', '--show-toplevel'])) === realpathSync(path)
  } catch {
    // Not inside any repository.
    return false
  }
}

/** `/`, the home directory and the directories above it are never a repository to work on. */
function refuseTooBroad(path: string): void {
  const real = realpathSync(path)
  const home = realpathSync(homedir())
  if (real === '/' || real === home || home.startsWith(`${real}/`)) {
    throw invalidInput(
      'REPO_PATH_TOO_BROAD',
      `${path} is ${real === '/' ? 'the root directory' : real === home ? 'your home directory' : 'a directory above your home directory'}; it cannot be a session's repository.`,
      'Pass the directory of one project, for example --repo "$HOME/src/my-app".',
    )
  }
}

/** The files a snapshot would take (what .gitignore keeps out excluded); refuses more than the limits. */
function checkImportSize(path: string, env: NodeJS.ProcessEnv, limits: ImportLimits): void {
  let listing: string
  try {
    listing = execFileSync('git', ['ls-files', '-z', '--others', '--exclude-standard'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env, maxBuffer: 256 * 1024 * 1024})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOBUFS') throw error
    listing = '\0'.repeat(limits.maxFiles + 1)
  }
  const files = listing.split('\0').filter(Boolean)
  const tooLarge = (what: string) =>
    invalidInput(
      'REPO_IMPORT_TOO_LARGE',
      `${path} is not a git repository, and importing it as a snapshot would copy ${what}.`,
      `Make it a git repository (\`git init && git add -A && git commit -m init\`: it is then cloned in place, at any size), list build output and dependencies in its .gitignore, or pass a smaller directory.`,
    )
  if (files.length > limits.maxFiles) throw tooLarge(`more than ${limits.maxFiles} files`)
  let bytes = 0
  for (const file of files) {
    try {
      bytes += lstatSync(join(path, file)).size
    } catch {
      // Gone since the listing: git add will not take it either.
    }
    if (bytes > limits.maxBytes) throw tooLarge(`more than ${Math.round(limits.maxBytes / 1024 / 1024)} MB`)
  }
}

/** The environment that makes git snapshot `path` into the bare repository `bare`. */
type SnapshotEnv = NodeJS.ProcessEnv

/** Creates the bare repository and checks the directory's size (at once: a refusal answers the start). */
function prepareSnapshot(path: string, bare: string, limits: ImportLimits): SnapshotEnv {
  const env = {
    ...process.env,
    GIT_DIR: bare,
    GIT_WORK_TREE: path,
    GIT_INDEX_FILE: join(bare, 'snapshot-index'),
    GIT_AUTHOR_NAME: 'DevFlow',
    GIT_AUTHOR_EMAIL: 'devflow@users.noreply.devflow.local',
    GIT_COMMITTER_NAME: 'DevFlow',
    GIT_COMMITTER_EMAIL: 'devflow@users.noreply.devflow.local',
  }
  try {
    mkdirSync(bare, {recursive: true})
    git(['init', '--quiet', '--bare', '--initial-branch=main', bare])
    checkImportSize(path, env, limits)
    return env
  } catch (error) {
    rmSync(bare, {recursive: true, force: true})
    throw isDevflowError(error) ? error : snapshotFailed(path, error)
  }
}

/** Copies the directory's files (minus what its .gitignore excludes) into `main` of the bare repository, in the background. */
async function copySnapshot(path: string, bare: string, env: SnapshotEnv): Promise<void> {
  const run = promisify(execFile)
  try {
    await run('git', ['add', '--all', '.'], {env, maxBuffer: 64 * 1024 * 1024})
    await run('git', ['commit', '--quiet', '--allow-empty', '-m', `Snapshot of ${path}`], {env, maxBuffer: 64 * 1024 * 1024})
  } catch (error) {
    rmSync(bare, {recursive: true, force: true})
    throw snapshotFailed(path, error)
  }
}

function snapshotFailed(path: string, error: unknown) {
  return invalidInput('REPO_SNAPSHOT_FAILED', `Could not import ${path} as a repository: ${(error as {stderr?: string}).stderr?.trim() || (error as Error).message}`, 'Make it a git repository (`git init && git add -A && git commit -m init`) and pass its path again.', {
    cause: error,
  })
}

function toAbsolutePath(input: string, cwd: string): string {
  if (input.startsWith('file://')) return fileURLToPath(input)
  if (input === '~' || input.startsWith('~/')) return resolve(homedir(), input.slice(2))
  return resolve(cwd, input)
}
