import { existsSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lesson } from '../../src/courses/index.ts';
import { ScormItem, ScormPackage } from '../../src/scorm/index.ts';
import { signIn } from '../support/agent.ts';
import { HOSTILE, scorm12Single, scorm2004Multi, subfolderWithQuery } from './packages.ts';
import { bootScorm, importOk, launch, playerConfig, scormSchool, storedPackages, upload, type ScormTestApp } from './support.ts';
import { zip } from './zip-writer.ts';

let t: ScormTestApp;
let s: Awaited<ReturnType<typeof scormSchool>>;
beforeAll(async () => {
  t = await bootScorm();
  s = await scormSchool(t);
});
afterAll(() => t.close());

async function nothingStored() {
  expect(await t.em().count(ScormPackage, {})).toBe(0);
  expect(await t.em().count(Lesson, { type: 'scorm' })).toBe(0);
  expect(storedPackages(t)).toEqual([]);
}

describe('refusing hostile and broken packages', () => {
  it.each(HOSTILE)('when a teacher uploads a package with $name, then it is refused with its own message and nothing is kept', async ({ build, message }) => {
    const res = await upload(s.teacher, s.place, build(), { title: 'My lesson' });
    expect(res.status).toBe(422);
    const shown = /<strong class="error" id="e-file">([^<]*)<\/strong>/.exec(res.text)?.[1]?.replace(/&#x27;/g, "'").replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
    expect(shown).toMatch(message);
    expect(res.text).toContain('value="My lesson"');
    await nothingStored();
  });

  it('when every hostile package is refused, then no two share the same message', async () => {
    const messages = new Set<string>();
    for (const h of HOSTILE) {
      const res = await upload(s.teacher, s.place, h.build());
      messages.add(/<strong class="error" id="e-file">([^<]*)<\/strong>/.exec(res.text)![1]!);
    }
    expect(messages.size).toBe(HOSTILE.length);
  });

  it('when the zip is larger than SCORM_MAX_MB, then it is refused while it arrives and no part of it stays on disk', async () => {
    const small = await bootScorm({ SCORM_MAX_MB: '1' });
    try {
      const w = await scormSchool(small);
      const big = scorm12Single({ extra: [{ name: 'video.mp4', data: Buffer.alloc(1_500_000, 7), method: 'store' }] });
      const res = await upload(w.teacher, w.place, big);
      expect(res.status).toBe(422);
      expect(res.text).toContain('The package is larger than 1 MB, the most Dars accepts.');
      expect(storedPackages(small)).toEqual([]);
      expect(await small.em().count(ScormPackage, {})).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('when no file is chosen, then the form asks for one', async () => {
    const res = await s.teacher.post(`/scorm?_csrf=${s.teacher.csrf}`).field('place', s.place);
    expect(res.status).toBe(422);
    expect(res.text).toContain('Please choose a SCORM package (.zip file).');
  });

  it('when a learner, or a teacher of another programme, uploads a package, then it is refused and nothing is kept', async () => {
    const learner = await signIn(t.app, s.learnerA1.username);
    expect((await upload(learner, s.place, scorm12Single())).status).toBe(403);
    const teacherB = await signIn(t.app, s.teacherB.username);
    expect((await upload(teacherB, s.place, scorm12Single())).status).toBe(404);
    await nothingStored();
  });
});

describe('importing packages as authoring tools make them', () => {
  it('when a SCORM 1.2 single-SCO package is uploaded, then it is stored by content id and becomes a lesson a learner can launch', async () => {
    const bytes = scorm12Single({ masteryScore: 80 });
    const lessonId = await importOk(t, s.teacher, s.place, bytes);
    const pkg = await t.em().findOneOrFail(ScormPackage, { lesson: lessonId }, { populate: ['lesson'] });
    expect(pkg.version).toBe('1.2');
    expect(pkg.title).toBe('Numbers & counting');
    expect(pkg.lesson.getEntity().type).toBe('scorm');
    expect(pkg.lesson.getEntity().title).toBe('Numbers & counting');
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(pkg.contentId).toBe(sha);
    const folder = path.join(t.config.dataDir, 'scorm', sha);
    expect(existsSync(path.join(folder, 'index_lms.html'))).toBe(true);
    expect(existsSync(path.join(folder, 'story_content', 'picture.png'))).toBe(true);
    expect(readdirSync(path.join(t.config.dataDir, 'scorm')).filter((n) => n.startsWith('.unpacking'))).toEqual([]);
    const [item] = await t.em().find(ScormItem, { package: pkg });
    expect(item).toMatchObject({ identifier: 'ITEM-1', resourceType: 'sco', launchUrl: 'index_lms.html', masteryScore: 80, dataFromLms: 'level=1' });

    const learner = await signIn(t.app, s.learnerA1.username);
    const { page, url } = await launch(learner, lessonId);
    expect(page.text).toContain('sandbox="allow-scripts allow-same-origin allow-forms allow-modals"');
    expect(url.startsWith(`${t.contentOrigin}/play/`)).toBe(true);
    const player = await request(t.content).get(new URL(url).pathname + new URL(url).search);
    expect(player.status).toBe(200);
    expect(player.text).toMatch(/<script src="\/player\/scorm12\.min\.[0-9a-f]{10}\.js"><\/script>/);
    const config = playerConfig(player.text);
    expect(config.lms['cmi.core.entry']).toBe('ab-initio');
    expect(config.lms['cmi.student_data.mastery_score']).toBe('80');
    expect(config.lms['cmi.launch_data']).toBe('level=1');
    const sco = await request(t.content).get(config.launchUrl);
    expect(sco.status).toBe(200);
    expect(sco.text).toContain('window.QUESTIONS');
  });

  it.each(['3rd', '4th'] as const)('when a SCORM 2004 %s edition multi-SCO package is uploaded, then its table of contents, sequencing limits and launch addresses are read', async (edition) => {
    const lessonId = await importOk(t, s.teacher, s.place, scorm2004Multi(edition), { title: `Greetings ${edition}` });
    const pkg = await t.em().findOneOrFail(ScormPackage, { lesson: lessonId });
    expect(pkg).toMatchObject({ version: '2004', schemaVersion: `2004 ${edition} Edition`, title: 'Greetings — أهلاً' });
    const items = await t.em().find(ScormItem, { package: pkg }, { orderBy: { position: 'asc' } });
    expect(items.map((i) => [i.identifier, i.depth, i.resourceType, i.launchUrl, i.visible])).toEqual([
      ['MODULE-1', 0, null, null, true],
      ['SCO-1', 1, 'sco', 'sco1/index.html', true],
      ['SCO-2', 1, 'sco', 'sco2/index.html?part=2', true],
      ['GLOSSARY', 0, 'asset', 'glossary/glossary.html', true],
      ['HIDDEN', 0, 'sco', 'sco2/index.html', false],
    ]);
    expect(items[1]).toMatchObject({ title: 'Hello & goodbye', completionThreshold: 0.75, scaledPassingScore: 0.6, maxTimeAllowed: 'PT1H30M' });
    expect(items[2]).toMatchObject({ timeLimitAction: 'continue,no message', dataFromLms: 'start=numbers' });

    const learner = await signIn(t.app, s.learnerA1.username);
    const { page } = await launch(learner, lessonId);
    expect(page.text).toContain('Module 1: Saying hello');
    expect(page.text).toContain('Hello &amp; goodbye');
    expect(page.text).toContain('Glossary');
    expect(page.text).not.toContain('Hidden copy');
    expect(page.text).toMatch(/<a href="\/scorm\/lessons\/\d+\?part&#x3D;\d+" rel="next">Numbers →<\/a>/);
    const second = await launch(learner, lessonId, items[2]!.id);
    const player = await request(t.content).get(second.path);
    expect(player.text).toMatch(/scorm2004\.min\.[0-9a-f]{10}\.js/);
    expect(playerConfig(player.text).launchUrl).toMatch(/\/sco2\/index\.html\?part=2$/);
  });

  it('when the launch file sits in a subfolder with a query string, then the href, xml:base and parameters make one address that opens', async () => {
    const lessonId = await importOk(t, s.teacher, s.place, subfolderWithQuery());
    const [item] = await t.em().find(ScormItem, { package: { lesson: lessonId } });
    expect(item!.launchUrl).toBe('content/player/start%20here.html?lang=en&start=1&mode=lesson&from=dars');
    const learner = await signIn(t.app, s.learnerA1.username);
    const { path: playerPath } = await launch(learner, lessonId);
    const player = await request(t.content).get(playerPath);
    const { launchUrl } = playerConfig(player.text);
    expect(launchUrl).toMatch(/\/content\/player\/start%20here\.html\?lang=en&start=1&mode=lesson&from=dars$/);
    const file = await request(t.content).get(launchUrl);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toMatch(/^text\/html/);
  });

  it('when a package was zipped by hand on a Mac or Windows and carries licences and handouts, then the folder notes and licence files do not stop it and are never served', async () => {
    const bytes = scorm12Single({
      title: 'Zipped by hand',
      extra: [
        { name: '.DS_Store', data: Buffer.from('0000000142756431', 'hex') },
        { name: 'story_content/Thumbs.db', data: 'x' },
        { name: '__MACOSX/._index_lms.html', data: Buffer.from('00051607', 'hex') },
        { name: 'lib/fonts/LICENSE', data: 'SIL Open Font License' },
        { name: 'lib/fonts/README.md', data: '# Fonts' },
        { name: 'story_content/external_files/Handout.docx', data: 'PK', method: 'store' },
      ],
    });
    const lessonId = await importOk(t, s.teacher, s.place, bytes);
    const learner = await signIn(t.app, s.learnerA1.username);
    const { path: playerPath } = await launch(learner, lessonId);
    const { launchUrl } = playerConfig((await request(t.content).get(playerPath)).text);
    expect((await request(t.content).get(launchUrl.replace('index_lms.html', '.DS_Store'))).status).toBe(404);
    expect((await request(t.content).get(launchUrl.replace('index_lms.html', 'story_content/Thumbs.db'))).status).toBe(404);
    expect((await request(t.content).get(launchUrl.replace('index_lms.html', 'lib/fonts/LICENSE'))).status).toBe(404);
    // A handout goes to the learner as what it is, never guessed at.
    const handout = await request(t.content).get(launchUrl.replace('index_lms.html', 'story_content/external_files/Handout.docx'));
    expect(handout.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
  });

  it('when the same package is uploaded twice, then its files are stored once and it serves two lessons', async () => {
    const bytes = scorm12Single({ title: 'Twice' });
    const first = await importOk(t, s.teacher, s.place, bytes);
    const second = await importOk(t, s.teacher, s.place, bytes);
    expect(first).not.toBe(second);
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(readdirSync(path.join(t.config.dataDir, 'scorm')).filter((n) => n === sha)).toHaveLength(1);
    expect(await t.em().count(ScormPackage, { contentId: sha })).toBe(2);
  });

  it('when manifest text holds markup, then every page shows it as text', async () => {
    const title = '<img src=x onerror=alert(1)> Fractions';
    const lessonId = await importOk(t, s.teacher, s.place, scorm12Single({ title }));
    const report = await s.teacher.get(`/scorm/lessons/${lessonId}/report`);
    expect(report.text).not.toContain('<img src=x');
    expect(report.text).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt; Fractions');
  });

  it('when an archive holds only folders and a manifest, then the manifest must still name a real launch file', async () => {
    const res = await upload(s.teacher, s.place, zip([{ name: 'a/', method: 'store' }, { name: 'imsmanifest.xml', data: '<?xml version="1.0"?><manifest identifier="m"><metadata><schemaversion>1.2</schemaversion></metadata><organizations default="o"><organization identifier="o"><title>T</title><item identifier="i" identifierref="r"><title>T</title></item></organization></organizations><resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="a/"/></resources></manifest>' }]));
    expect(res.status).toBe(422);
    expect(res.text).toContain('is not in the package');
  });
});
