/**
 * The image tag for a build: the git commit of the checkout holding the container directory
 * (short sha), with `-dirty` when the working tree has uncommitted changes, so every pushed tag
 * names the code it was built from.
 */
import {execa} from 'execa'

import {invalidInput} from '../../core/errors.js'

export async function gitImageTag(directory: string): Promise<string> {
  const head = await execa('git', ['-C', directory, 'rev-parse', '--short=12', 'HEAD'], {reject: false})
  if (head.exitCode !== 0) {
    throw invalidInput(
      'IMAGE_TAG_REQUIRED',
      `${directory} is not in a git checkout with a commit, so the image cannot be tagged with one.`,
      'Pass --tag <tag> (for example a release version).',
    )
  }
  const status = await execa('git', ['-C', directory, 'status', '--porcelain'], {reject: false})
  const dirty = status.exitCode !== 0 || String(status.stdout).trim() !== ''
  return `${String(head.stdout).trim()}${dirty ? '-dirty' : ''}`
}

/** Docker's tag grammar. */
export function parseImageTag(value: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(value)) {
    throw invalidInput('INVALID_IMAGE_TAG', `"${value}" is not a valid image tag.`, 'Use up to 128 letters, digits, underscores, periods and hyphens, not starting with a period or hyphen.')
  }
  return value
}
