/**
 * The master's JSON that the CLI reads and has no exported type in
 * src/master/api/schemas.ts (the authority), derived from its zod schemas.
 */
import type { z } from 'zod';
import type { ChangeBuildJson as ChangeBuildSchema, ChangeListJson as ChangeListSchema, SchedulerJson, TryResultJson } from '../master/api/schemas.js';

/** A build of a change, as `GET /changes` lists it next to the change. */
export type ChangeBuildJson = z.infer<typeof ChangeBuildSchema>;

/** `GET /changes`: a page of changes, newest first, each with its builds. */
export type ChangeListJson = z.infer<typeof ChangeListSchema>;

/** What `POST /try` answers: the stored patch and one request per builder. */
export type TryAnswerJson = z.infer<typeof TryResultJson>;

/** A typed parameter of a force scheduler. */
export type SchedulerParamJson = NonNullable<SchedulerJson['params']>[string];
