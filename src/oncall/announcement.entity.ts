import { defineEntity, p } from '@mikro-orm/core';
import { User } from '../accounts/index.ts';
import { Cohort } from '../programmes/index.ts';

/** A teacher's message to every learner of one cohort, shown on their home page. */
const AnnouncementSchema = defineEntity({
  name: 'Announcement',
  tableName: 'oncall_announcements',
  indexes: [{ properties: ['cohort', 'createdAt'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    cohort: () => p.manyToOne(Cohort).ref(),
    author: () => p.manyToOne(User).ref(),
    body: p.text(),
    createdAt: p.datetime(),
  },
});
export class Announcement extends AnnouncementSchema.class {}
AnnouncementSchema.setClass(Announcement);

export { AnnouncementSchema };
