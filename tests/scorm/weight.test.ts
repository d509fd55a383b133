import { get, type IncomingHttpHeaders } from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn } from '../support/agent.ts';
import { scorm12Single, scorm2004Multi } from './packages.ts';
import { bootScorm, importOk, launch, scormSchool, type ScormTestApp } from './support.ts';

let t: ScormTestApp;
let s: Awaited<ReturnType<typeof scormSchool>>;
beforeAll(async () => {
  t = await bootScorm();
  s = await scormSchool(t);
  await t.listenBoth();
});
afterAll(() => t.close());

/** A response's body bytes as they came over the socket (compressed: never decoded here). */
function wireBytes(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; bytes: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
    get(url, { headers: { 'Accept-Encoding': 'br, gzip', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, bytes: chunks.reduce((n, c) => n + c.length, 0), headers: res.headers }));
    }).on('error', reject);
  });
}

describe('what a SCORM lesson costs a learner in data', () => {
  it.each([
    ['1.2', scorm12Single, 'scorm12', 36_000],
    ['2004', scorm2004Multi, 'scorm2004', 110_000],
  ] as const)('when a SCORM %s lesson opens, then its page fits the first round trip and the player and runtime arrive compressed and are cached for a year', async (version, build, runtime, runtimeBudget) => {
    const lessonId = await importOk(t, s.teacher, s.place, build());
    const learner = await signIn(t.app, s.learnerA1.username);
    const { path: playerPath } = await launch(learner, lessonId);
    const jar = (learner as unknown as { jar: { getCookies(a: object): { toValueString(): string } } }).jar;
    const cookie = jar.getCookies({ domain: '127.0.0.1', path: '/', secure: false, script: false }).toValueString();
    const page = await wireBytes(`http://127.0.0.1:${t.appPort}/scorm/lessons/${lessonId}`, { Cookie: cookie });
    expect(page.status).toBe(200);
    expect(page.headers['content-encoding']).toMatch(/br|gzip/);
    expect(page.bytes).toBeLessThan(14 * 1024);

    const player = await wireBytes(`${t.contentOrigin}${playerPath}`);
    const html = (await request(t.content).get(playerPath)).text;
    const script = new RegExp(`src="(/player/${runtime}\\.min\\.[0-9a-f]{10}\\.js)"`).exec(html)![1]!;
    // The first answer may be gzip while brotli is made in the background; later ones are brotli.
    const first = await wireBytes(`${t.contentOrigin}${script}`);
    expect(first.headers['content-encoding']).toMatch(/^(br|gzip)$/);
    let code = first;
    for (let i = 0; code.headers['content-encoding'] !== 'br' && i < 300; i++) {
      await new Promise((r) => setTimeout(r, 100));
      code = await wireBytes(`${t.contentOrigin}${script}`);
    }
    expect(code.headers['content-encoding']).toBe('br');
    expect(code.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(code.bytes).toBeLessThan(runtimeBudget);
    const own = await wireBytes(`${t.contentOrigin}${/src="(\/player\/dars-player\.[0-9a-f]{10}\.js)"/.exec(html)![1]!}`);
    console.info(`SCORM ${version}: lesson page ${page.bytes} B, player page ${player.bytes} B, player script ${own.bytes} B, runtime ${code.bytes} B brotli (${first.bytes} B ${first.headers['content-encoding']} on the first request)`);
  });
});
