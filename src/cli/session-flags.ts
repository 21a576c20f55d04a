/** Arguments and flags several `devflow session` commands share, defined once. */
import {Args} from '@oclif/core'

/** The session the command acts on (`session status|logs|prompt|open <id>`). */
export const sessionIdArg = Args.string({description: 'session id', required: true})
