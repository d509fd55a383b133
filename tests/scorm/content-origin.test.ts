import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContentApp } from '../../src/app.ts';
import { createI18n } from '../../src/platform/i18n.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { ScormItem } from '../../src/scorm/index.ts';
import { signIn, type Agent } from '../support/agent.ts';
import { DRIVER, scoPage } from './packages.ts';
import { bootScorm, importOk, launch, openRuntime, playerConfig, scormSchool, type Scorm12API, type ScormTestApp } from './support.ts';
import { zip } from './zip-writer.ts';

let t: ScormTestApp;
let s: Awaited<ReturnType<typeof scormSchool>>;
let learner: Agent;
let lessonId: number;
beforeAll(async () => {
  t = await bootScorm();
  s = await scormSchool(t);
  learner = await signIn(t.app, s.learnerA1.username);
  lessonId = await importOk(t, s.teacher, s.place, prerequisitesPackage());
});
afterAll(() => t.close());

/** SCORM 1.2, two SCOs: the second opens once the first is passed or completed (aicc_script prerequisites). */
function prerequisitesPackage() {
  const manifest = `<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="steps" version="1" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>Two steps</title>
    <item identifier="STEP-1" identifierref="r1"><title>Step one</title></item>
    <item identifier="STEP-2" identifierref="r2"><title>Step two</title><adlcp:prerequisites type="aicc_script">STEP-1</adlcp:prerequisites></item>
  </organization></organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="one.html"><file href="one.html"/></resource>
    <resource identifier="r2" type="webcontent" adlcp:scormtype="sco" href="two.html"><file href="two.html"/></resource>
  </resources>
</manifest>`;
  return zip([
    { name: 'imsmanifest.xml', data: manifest },
    { name: 'one.html', data: scoPage('Step one') },
    { name: 'two.html', data: scoPage('Step two') },
    { name: 'scormdriver.js', data: DRIVER },
    { name: 'style.css', data: 'body{margin:0}' },
  ]);
}

describe('the content origin', () => {
  it('when package files are served, then they carry their own type, nosniff, and may be framed only by the school', async () => {
    const { path: playerPath } = await launch(learner, lessonId);
    const player = await request(t.content).get(playerPath);
    expect(player.headers['content-security-policy']).toContain(`frame-ancestors ${t.appOrigin}`);
    expect(player.headers['content-security-policy']).toContain(`connect-src ${t.appOrigin}`);
    expect(player.headers['x-content-type-options']).toBe('nosniff');
    expect(player.headers['cache-control']).toBe('no-store');
    const { launchUrl } = playerConfig(player.text);
    const base = launchUrl.slice(0, launchUrl.lastIndexOf('/') + 1);
    for (const [file, type] of [
      ['one.html', /^text\/html/],
      ['scormdriver.js', /^text\/javascript/],
      ['style.css', /^text\/css/],
      ['imsmanifest.xml', /^application\/xml/],
    ] as const) {
      const res = await request(t.content).get(base + file);
      expect(res.status, file).toBe(200);
      expect(res.headers['content-type'], file).toMatch(type);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toBe(`frame-ancestors 'self' ${t.appOrigin}`);
    }
  });

  it('when a file key is forged, for another package, or a path tries to leave the package, then nothing is served', async () => {
    const { path: playerPath } = await launch(learner, lessonId);
    const { launchUrl } = playerConfig((await request(t.content).get(playerPath)).text);
    const [, , packageId, key] = launchUrl.split('/');
    expect((await request(t.content).get(`/p/${packageId}/${key!.slice(0, -3)}AAA/one.html`)).status).toBe(403);
    expect((await request(t.content).get(`/p/${Number(packageId) + 1}/${key}/one.html`)).status).toBe(403);
    for (const sneaky of ['%2e%2e/%2e%2e/package.json', '..%2f..%2fpackage.json', 'one.html%00.js', '.incoming/x.zip', 'one.php']) {
      expect((await request(t.content).get(`/p/${packageId}/${key}/${sneaky}`)).status, sneaky).toBeGreaterThanOrEqual(400);
    }
  });

  it('when the player is opened with a forged or unknown token, then it says so in the learner language and starts nothing', async () => {
    const res = await request(t.content).get('/play/AAAA.BBBB?lng=fr');
    expect(res.status).toBe(401);
    expect(res.text).toContain('lang="fr"');
    expect(res.text).not.toContain('data-launch');
  });

  it('when the app and the content share a host name, then the content origin refuses to start', async () => {
    const config = { ...t.config, CONTENT_ORIGIN: t.appOrigin.replace(/:\d+$/, ':1') };
    const i18n = await createI18n('en');
    expect(() => createContentApp({ config, orm: t.orm, pool: t.pool, logger: createLogger('silent'), i18n })).toThrow(/different host name/);
  });

  it('when the lesson page is served, then it may frame the content origin and nothing else', async () => {
    const page = await learner.get(`/scorm/lessons/${lessonId}`);
    expect(page.headers['content-security-policy']).toMatch(new RegExp(`frame-src [^;]*${t.contentOrigin.replace(/[.:/]/g, '\\$&')}`));
  });
});

describe('SCORM 1.2 prerequisites', () => {
  it('when a part requires another, then it is locked until that part is completed', async () => {
    const [one, two] = await t.em().find(ScormItem, { package: { lesson: lessonId } }, { orderBy: { position: 'asc' } });
    const page = await learner.get(`/scorm/lessons/${lessonId}`);
    expect(page.text).toContain('Step two · ');
    expect(page.text).not.toContain(`?part&#x3D;${two!.id}"`);
    expect((await learner.get(`/scorm/lessons/${lessonId}?part=${two!.id}`)).status).toBe(403);

    const r = await openRuntime(t, learner, lessonId, one!.id);
    const api = r.api as Scorm12API;
    api.LMSInitialize('');
    api.LMSSetValue('cmi.core.lesson_status', 'completed');
    api.LMSFinish('');
    await r.deliver();
    expect((await learner.get(`/scorm/lessons/${lessonId}?part=${two!.id}`)).status).toBe(200);
  });
});
