import type { EntityManager } from '@mikro-orm/postgresql';
import type { MikroORM } from '@mikro-orm/postgresql';
import express from 'express';
import type { Actor } from '../platform/actor.ts';
import { actorOf } from '../platform/actor.ts';

/** One block of a home page: a partial under views/ and its view-model. */
export interface HomeSection {
  partial: string;
  model: Record<string, unknown>;
}

/** Each slice that has something for someone's home page supplies one of these (wired in app.ts). */
export type HomeSectionProvider = (em: EntityManager, actor: Actor) => Promise<HomeSection | null>;

export function homeRoutes({ orm, sections }: { orm: MikroORM; sections: HomeSectionProvider[] }) {
  const router = express.Router();
  router.get('/', async (req, res) => {
    const actor = actorOf(res);
    if (!actor) return res.redirect(303, '/login');
    const blocks: HomeSection[] = [];
    // One after another: they share the request's unit of work.
    for (const provide of sections) {
      const block = await provide(orm.em, actor);
      if (block) blocks.push(block);
    }
    res.render('home/home', { title: 'home:title', role: actor.role, sections: blocks });
  });
  return router;
}
