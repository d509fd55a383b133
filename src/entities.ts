/** Every entity of every slice, handed to the ORM in one place. */
import { UserSchema } from './accounts/index.ts';
import { CohortSchema, EnrolmentSchema, ProgrammeSchema, SiteSchema } from './programmes/index.ts';

export const entities = [UserSchema, ProgrammeSchema, SiteSchema, CohortSchema, EnrolmentSchema];
