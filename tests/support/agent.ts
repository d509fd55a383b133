/** Signed-in supertest agents that post forms the way a browser does: with the page's CSRF token. */
import type { Express } from 'express';
import request from 'supertest';
import { PASSWORD } from './factories.ts';

export type Agent = ReturnType<typeof request.agent> & { csrf: string };

export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html) ?? /_csrf=([0-9a-f]+)/.exec(html);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1]!;
}

export async function anonymous(app: Express): Promise<Agent> {
  const agent = request.agent(app) as Agent;
  const page = await agent.get('/login');
  agent.csrf = csrfFrom(page.text);
  return agent;
}

export async function signIn(app: Express, username: string, password = PASSWORD): Promise<Agent> {
  const agent = await anonymous(app);
  const res = await agent.post('/login').type('form').send({ _csrf: agent.csrf, login: username, password });
  if (res.status !== 303) throw new Error(`sign-in of ${username} failed with ${res.status}`);
  const home = await agent.get('/profile');
  agent.csrf = csrfFrom(home.text);
  return agent;
}

/** POSTs a form with the agent's CSRF token. */
export function post(agent: Agent, url: string, fields: Record<string, string | number | boolean | string[]> = {}) {
  return agent.post(url).type('form').send({ _csrf: agent.csrf, ...fields });
}
