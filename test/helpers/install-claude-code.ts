/**
 * Installs the pinned Claude Code CLI into the test cache (see claude-code.ts) and prints where it
 * is, or why it was skipped. .ci/run calls it before the suite so the install shows in the log.
 */
import {claudeCodeCacheDir, ensureClaudeCode} from './claude-code.js'

const install = await ensureClaudeCode()
if ('skipped' in install) console.log(`Claude Code CLI: skipped, ${install.skipped}`)
else console.log(`Claude Code CLI ${install.version}: ${install.bin} (cache ${claudeCodeCacheDir(install.version)})`)
