/** One file of a repository on this machine at a branch, read with git (no checkout). */
import {execa} from 'execa'

/** The file's text at `ref`, or undefined when the repository, the ref or the file is not there. */
export async function readRepositoryFile(repository: string, ref: string, path: string): Promise<string | undefined> {
  const result = await execa('git', ['-C', repository, 'show', `${ref}:${path}`], {reject: false, timeout: 10_000, stripFinalNewline: false})
  return result.exitCode === 0 ? String(result.stdout) : undefined
}
