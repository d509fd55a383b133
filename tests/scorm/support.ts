/**
 * The school and its SCORM content origin, booted together: the app as bootApp makes it, plus the
 * content origin app on the same database, with origins on two different host names as in a
 * real installation (the app on localhost, the content on 127.0.0.1).
 */
import { readdirSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Express } from 'express';
import * as scorm12 from 'scorm-again/scorm12';
import type Scorm12Class from 'scorm-again/scorm12';
import * as scorm2004 from 'scorm-again/scorm2004';
import type Scorm2004Class from 'scorm-again/scorm2004';
import request from 'supertest';
import { createContentApp } from '../../src/app.ts';
import { createI18n } from '../../src/platform/i18n.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { post, signIn, type Agent } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCourse, makeSchool, offerCourse } from '../support/factories.ts';
import { freePort } from '../../src/platform/embedded-postgres.ts';

// scorm-again's type declarations name a default export; its ES modules export the classes by name.
const { Scorm12API } = scorm12 as unknown as { Scorm12API: typeof Scorm12Class };
const { Scorm2004API } = scorm2004 as unknown as { Scorm2004API: typeof Scorm2004Class };
export type Scorm12API = Scorm12Class;
export type Scorm2004API = Scorm2004Class;


export interface ScormTestApp extends TestApp {
  content: Express;
  appPort: number;
  contentPort: number;
  appOrigin: string;
  contentOrigin: string;
  /** Both servers listening on their ports (for browsers). */
  listenBoth: () => Promise<{ app: Server; content: Server }>;
}

export async function bootScorm(env: Record<string, string> = {}): Promise<ScormTestApp> {
  const appPort = await freePort();
  const contentPort = await freePort();
  const appOrigin = `http://localhost:${appPort}`;
  const contentOrigin = `http://127.0.0.1:${contentPort}`;
  const t = await bootApp({ APP_ORIGIN: appOrigin, CONTENT_ORIGIN: contentOrigin, CONTENT_PORT: String(contentPort), ...env });
  const content = createContentApp({ config: t.config, orm: t.orm, pool: t.pool, logger: createLogger('silent'), i18n: await createI18n('en'), meter: t.meter });
  const servers: Server[] = [];
  const close = t.close;
  return {
    ...t,
    content,
    appPort,
    contentPort,
    appOrigin,
    contentOrigin,
    listenBoth: async () => {
      const listen = (app: Express, port: number) => new Promise<Server>((resolve) => {
        const s = app.listen(port, '127.0.0.1', () => resolve(s));
        servers.push(s);
      });
      return { app: await listen(t.app, appPort), content: await listen(content, contentPort) };
    },
    close: async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
      await close();
    },
  };
}

/** A school with a course offered to class A, of which teacher A adds SCORM packages to its first unit. */
export async function scormSchool(t: TestApp) {
  const world = await makeSchool(t.em());
  const course = await makeCourse(t.em(), { title: 'Everyday maths', units: [{ lessons: ['text'] }, { lessons: ['text'] }] });
  await offerCourse(t.em(), world.cohortA, course);
  const [firstUnit] = (await t.em().execute('SELECT id FROM course_units WHERE course_id = ? ORDER BY position LIMIT 1', [course.id])) as { id: number }[];
  const teacher = await signIn(t.app, world.teacherA.username);
  return { ...world, course, place: `${course.id}:${firstUnit!.id}`, teacher };
}

/** Uploads a package as `agent`, the way the form does (token in the action URL). */
export function upload(agent: Agent, place: string, zip: Buffer, fields: Record<string, string> = {}) {
  let req = agent.post(`/scorm?_csrf=${agent.csrf}`).field('place', place);
  for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
  return req.attach('file', zip, { filename: 'package.zip', contentType: 'application/zip' });
}

/** Imports a package and returns its lesson id. */
export async function importOk(t: TestApp, agent: Agent, place: string, zip: Buffer, fields: Record<string, string> = {}) {
  const res = await upload(agent, place, zip, fields);
  if (res.status !== 303) throw new Error(`import failed with ${res.status}: ${/class="error"[^>]*>([^<]*)/.exec(res.text)?.[1] ?? res.text.slice(0, 300)}`);
  return Number(/\/scorm\/lessons\/(\d+)\/report/.exec(res.headers.location!)![1]);
}

/** What is stored for packages: the folders under DATA_DIR/scorm, without the empty upload folder. */
export function storedPackages(t: TestApp) {
  const root = path.join(t.config.dataDir, 'scorm');
  const entries = readdirSync(root);
  const incoming = readdirSync(path.join(root, '.incoming'));
  return [...entries.filter((e) => e !== '.incoming'), ...incoming.map((e) => `.incoming/${e}`)];
}

/** Opens a learner's lesson page and returns the player URL and the launch token in it. */
export async function launch(agent: Agent, lessonId: number, part?: number) {
  const res = await agent.get(`/scorm/lessons/${lessonId}${part ? `?part=${part}` : ''}`);
  if (res.status !== 200) throw new Error(`lesson page answered ${res.status}`);
  const m = /<iframe class="scorm-frame" src="([^"]+)"/.exec(res.text);
  if (!m) throw new Error('no player on the lesson page');
  const url = m[1]!.replace(/&amp;/g, '&');
  const token = /\/play\/([^?]+)/.exec(url)![1]!;
  return { page: res, url, token, path: new URL(url).pathname + new URL(url).search };
}

/** The launch settings the player page carries in its data-launch attribute. */
export function playerConfig(html: string) {
  const raw = /data-launch="([^"]+)"/.exec(html)![1]!;
  const text = raw.replace(/&(quot|amp|lt|gt|#x27|#x3D|#x60);/g, (_, e: string) => ({ quot: '"', amp: '&', lt: '<', gt: '>', '#x27': "'", '#x3D': '=', '#x60': '`' })[e]!);
  return JSON.parse(text) as { token: string; commitUrl: string; launchUrl: string; session: number; sessionSeq: number; lastSession: number; lastSeq: number; lms: Record<string, string>; data: Record<string, string>; version: string };
}

export { post };

/** One snapshot the runtime handed to the player's transport, numbered as the player numbers it. */
export interface Snapshot {
  session: number;
  seq: number;
  final: boolean;
  cmi: unknown;
  adl?: { nav: { request: string } };
}

/**
 * A sitting played in this process: the lesson page is opened as `learner`, the player page read
 * from the content origin, and scorm-again started with the launch data exactly as the player
 * starts it. Commits are kept as snapshots; `deliver` posts them to the school as the player does
 * (text/plain, from the content origin, with the launch token).
 */
export async function openRuntime(t: ScormTestApp, learner: Agent, lessonId: number, part?: number) {
  const { path: playerPath } = await launch(learner, lessonId, part);
  const page = await request(t.content).get(playerPath);
  if (page.status !== 200) throw new Error(`player answered ${page.status}`);
  const config = playerConfig(page.text);
  const snapshots: Snapshot[] = [];
  let seq = config.sessionSeq;
  let token = config.token;
  let api: Scorm12API | Scorm2004API;
  const transport = {
    processHttpRequest(_url: string, params: { cmi?: unknown }, immediate: boolean) {
      seq += 1;
      const snapshot: Snapshot = { session: config.session, seq, final: !!immediate, cmi: JSON.parse(JSON.stringify(params.cmi)) };
      const nav = config.version === '2004' ? (api as Scorm2004API).adl?.nav?.request : undefined;
      if (nav && nav !== '_none_') snapshot.adl = { nav: { request: nav } };
      snapshots.push(snapshot);
      return { result: true, errorCode: 0 };
    },
    updateSettings() {},
  };
  const settings = { lmsCommitUrl: config.commitUrl, dataCommitFormat: 'json', sendFullCommit: true, autocommit: false, logLevel: 5, httpService: transport } as never;
  api = config.version === '1.2' ? new Scorm12API(settings) : new Scorm2004API(settings);
  // Declared on scorm-again's BaseAPI, which its Scorm12API declaration does not surface.
  (api as unknown as { loadFromFlattenedJSON(data: Record<string, string>, prefix: string): void }).loadFromFlattenedJSON({ ...config.data, ...config.lms }, '');
  const send = async (snapshot: Snapshot, overrides: Record<string, unknown> = {}) => {
    const res = await request(t.app)
      .post('/scorm/commit')
      .set('Origin', t.contentOrigin)
      .set('Content-Type', 'text/plain;charset=UTF-8')
      .send(JSON.stringify({ token, ...snapshot, ...overrides }));
    if (res.body?.token) token = res.body.token as string;
    return res;
  };
  return {
    api,
    config,
    snapshots,
    send,
    /** Posts every snapshot not yet posted, in order, and returns the answers. */
    async deliver() {
      const answers = [];
      while (snapshots.length) answers.push(await send(snapshots.shift()!));
      return answers;
    },
  };
}
