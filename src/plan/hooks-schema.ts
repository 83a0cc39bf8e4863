// The plan's hooks: exec or webhook, per rollout event.
import { z } from 'zod';
import { envName, httpUrl, timeLimit } from './schema-fields.js';

/** An exec hook's command is one argument to /bin/sh, which Linux limits to 128 KiB; a longer one belongs in a script. */
export const MAX_HOOK_COMMAND_LENGTH = 16_384;

export const hookSchema = z
  .strictObject({
    exec: z
      .string()
      .min(1)
      .max(
        MAX_HOOK_COMMAND_LENGTH,
        `must be at most ${MAX_HOOK_COMMAND_LENGTH.toLocaleString('en-US')} characters: it is passed to /bin/sh as one argument, which Linux limits to 128 KiB; put a longer command in a script`,
      )
      .optional()
      .meta({ description: 'Shell command, run in the plan folder' }),
    webhook: httpUrl.optional(),
    timeout: timeLimit.default(30_000),
    retries: z.number().int().min(0).max(10).default(2),
  })
  .refine((hook) => (hook.exec === undefined) !== (hook.webhook === undefined), 'needs exactly one of exec or webhook');

export const hooksSchema = z.strictObject({
  on_stage: hookSchema.optional(),
  on_rollback: hookSchema.optional(),
  on_promote: hookSchema.optional(),
  on_abort: hookSchema.optional(),
  pass_env: z.array(envName).optional().meta({ description: 'Key variables (api_key_env) exec hooks may see; by default hooks never get them' }),
});
