/**
 * SCORM packages built the way authoring tools lay them out: a manifest at the top with the
 * schema files beside it, the content in folders, a "driver" script that finds the LMS API in a
 * parent window, and a small quiz that saves its place (location, suspend data) and answers
 * (interactions) — and the hostile packages the importer must refuse.
 */
import { zip, type ZipEntry } from './zip-writer.ts';

/** The quiz every test SCO plays: the page sets window.QUESTIONS, this script does the rest. */
export const DRIVER = `(function () {
  'use strict';
  function find(win) {
    for (var i = 0; win && i < 12; i++) {
      if (win.API_1484_11) return { v: '2004', api: win.API_1484_11 };
      if (win.API) return { v: '1.2', api: win.API };
      if (win.parent === win) break;
      win = win.parent;
    }
    return null;
  }
  var box = document.getElementById('quiz');
  var found = find(window) || (window.opener && find(window.opener));
  if (!found) { box.textContent = 'No LMS found'; return; }
  var api = found.api, is12 = found.v === '1.2';
  function call(a, b, args) { return api[is12 ? a : b].apply(api, args); }
  function get(k) { return call('LMSGetValue', 'GetValue', [k]); }
  function set(k, v) { return call('LMSSetValue', 'SetValue', [k, String(v)]); }
  var E = is12
    ? { loc: 'cmi.core.lesson_location', entry: 'cmi.core.entry', exit: 'cmi.core.exit', raw: 'cmi.core.score.raw', time: 'cmi.core.session_time', response: 'student_response', wrong: 'wrong' }
    : { loc: 'cmi.location', entry: 'cmi.entry', exit: 'cmi.exit', raw: 'cmi.score.raw', time: 'cmi.session_time', response: 'learner_response', wrong: 'incorrect' };
  call('LMSInitialize', 'Initialize', ['']);
  var QUESTIONS = window.QUESTIONS, started = Date.now(), left = false, at = 0, answers = [];
  if (get(E.entry) === 'resume') {
    at = Number(get(E.loc)) || 0;
    try { answers = JSON.parse(get('cmi.suspend_data') || '[]'); } catch (e) { answers = []; }
  }
  function right() { return answers.filter(function (a) { return a.ok; }).length; }
  function render() {
    box.textContent = '';
    var h = document.createElement('h1');
    h.id = 'question';
    if (at >= QUESTIONS.length) { h.textContent = 'Finished: ' + right() + '/' + QUESTIONS.length; box.appendChild(h); return; }
    var q = QUESTIONS[at];
    h.textContent = q.text;
    box.appendChild(h);
    q.options.forEach(function (o) {
      var b = document.createElement('button');
      b.textContent = o;
      b.onclick = function () { answer(q, o); };
      box.appendChild(b);
    });
  }
  function answer(q, o) {
    var n = Number(get('cmi.interactions._count')) || 0, p = 'cmi.interactions.' + n + '.';
    set(p + 'id', q.id);
    set(p + 'type', 'choice');
    if (!is12) set(p + 'description', q.text);
    set(p + E.response, o);
    set(p + 'correct_responses.0.pattern', q.right);
    set(p + 'result', o === q.right ? 'correct' : E.wrong);
    answers.push({ id: q.id, ok: o === q.right });
    at += 1;
    set(E.loc, at);
    set('cmi.suspend_data', JSON.stringify(answers));
    if (at >= QUESTIONS.length) {
      var score = Math.round((100 * right()) / QUESTIONS.length);
      set(E.raw, score);
      if (is12) { set('cmi.core.score.min', 0); set('cmi.core.score.max', 100); set('cmi.core.lesson_status', score >= 50 ? 'passed' : 'failed'); }
      else { set('cmi.score.min', 0); set('cmi.score.max', 100); set('cmi.score.scaled', score / 100); set('cmi.completion_status', 'completed'); set('cmi.success_status', score >= 50 ? 'passed' : 'failed'); }
    } else if (is12) set('cmi.core.lesson_status', 'incomplete');
    else set('cmi.completion_status', 'incomplete');
    call('LMSCommit', 'Commit', ['']);
    render();
  }
  function timespan(ms) {
    var s = Math.round(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    return is12 ? ('000' + h).slice(-4) + ':' + ('0' + m).slice(-2) + ':' + ('0' + s).slice(-2) : 'PT' + h + 'H' + m + 'M' + s + 'S';
  }
  function leave() {
    if (left) return;
    left = true;
    set(E.exit, at >= QUESTIONS.length ? (is12 ? '' : 'normal') : 'suspend');
    set(E.time, timespan(Date.now() - started));
    call('LMSFinish', 'Terminate', ['']);
  }
  window.addEventListener('pagehide', leave);
  window.addEventListener('beforeunload', leave);
  render();
})();
`;

export const QUESTIONS = [
  { id: 'q1', text: 'How much is 2 + 2?', options: ['3', '4', '5'], right: '4' },
  { id: 'q2', text: 'How much is 3 + 3?', options: ['6', '7'], right: '6' },
  { id: 'q3', text: 'How much is 5 + 1?', options: ['5', '6'], right: '6' },
];

export function scoPage(title: string, driverPath = 'scormdriver.js', questions = QUESTIONS) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title>
<link rel="stylesheet" href="style.css"></head>
<body><div id="quiz">Loading…</div>
<script>window.QUESTIONS = ${JSON.stringify(questions)};</script>
<script src="${driverPath}"></script></body></html>`;
}

/** The schema files the specifications ship and exporters copy beside every manifest. */
const SCHEMAS_12 = ['adlcp_rootv1p2.xsd', 'ims_xml.xsd', 'imscp_rootv1p1p2.xsd', 'imsmd_rootv1p2p1.xsd'];
const SCHEMAS_2004 = ['adlcp_v1p3.xsd', 'adlseq_v1p3.xsd', 'adlnav_v1p3.xsd', 'imscp_v1p1.xsd', 'imsss_v1p0.xsd', 'ims_xml.xsd', 'XMLSchema.dtd', 'datatypes.dtd'];
const schemaFiles = (names: string[]): ZipEntry[] => names.map((n) => ({ name: n, data: n.endsWith('.dtd') ? '<!-- DTD for XML Schemas -->' : '<?xml version="1.0"?><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>' }));

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** SCORM 1.2, one SCO, as Storyline-like exporters write it. */
export function scorm12Single(opts: { title?: string; masteryScore?: number; extra?: ZipEntry[]; manifest?: string } = {}): Buffer {
  const title = opts.title ?? 'Numbers & counting';
  const manifest =
    opts.manifest ??
    `<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.numbers.12" version="1.0"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd http://www.imsglobal.org/xsd/imsmd_rootv1p2p1 imsmd_rootv1p2p1.xsd http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="ORG-1">
    <organization identifier="ORG-1">
      <title>${xmlText(title)}</title>
      <item identifier="ITEM-1" identifierref="RES-1" isvisible="true">
        <title>${xmlText(title)}</title>
        ${opts.masteryScore !== undefined ? `<adlcp:masteryscore>${opts.masteryScore}</adlcp:masteryscore>` : ''}
        <adlcp:datafromlms>level=1</adlcp:datafromlms>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="RES-1" type="webcontent" adlcp:scormtype="sco" href="index_lms.html">
      <file href="index_lms.html"/><file href="scormdriver.js"/><file href="style.css"/>
    </resource>
  </resources>
</manifest>`;
  return zip([
    { name: 'imsmanifest.xml', data: manifest },
    ...schemaFiles(SCHEMAS_12),
    { name: 'index_lms.html', data: scoPage(title) },
    { name: 'scormdriver.js', data: DRIVER },
    { name: 'style.css', data: 'body{font-family:sans-serif}button{margin:.5rem;padding:.75rem 1.25rem}' },
    { name: 'story_content/', method: 'store' },
    { name: 'story_content/picture.png', data: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), method: 'store' },
    ...(opts.extra ?? []),
  ]);
}

/**
 * SCORM 2004 (3rd or 4th edition), two SCOs and an asset, with sequencing data the LMS must read:
 * a completion threshold and a primary objective satisfied by measure.
 */
export function scorm2004Multi(edition: '3rd' | '4th' = '4th'): Buffer {
  const threshold = edition === '4th' ? '<adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.75"/>' : '<adlcp:completionThreshold>0.75</adlcp:completionThreshold>';
  const manifest = `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<manifest identifier="com.example.greetings.2004" version="1"
  xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
  xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3"
  xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3"
  xmlns:imsss="http://www.imsglobal.org/xsd/imsss"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 ${edition} Edition</schemaversion></metadata>
  <organizations default="ORG">
    <organization identifier="ORG" adlseq:objectivesGlobalToSystem="false">
      <title>Greetings — أهلاً</title>
      <item identifier="MODULE-1">
        <title>Module 1: Saying hello</title>
        <item identifier="SCO-1" identifierref="RES-SCO-1">
          <title>Hello &amp; goodbye</title>
          ${threshold}
          <imsss:sequencing>
            <imsss:limitConditions attemptAbsoluteDurationLimit="PT1H30M"/>
            <imsss:objectives>
              <imsss:primaryObjective objectiveID="PRIMARY-1" satisfiedByMeasure="true"><imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure></imsss:primaryObjective>
              <imsss:objective objectiveID="obj-greet"/>
            </imsss:objectives>
          </imsss:sequencing>
        </item>
        <item identifier="SCO-2" identifierref="RES-SCO-2" parameters="?part=2">
          <title>Numbers</title>
          <adlcp:timeLimitAction>continue,no message</adlcp:timeLimitAction>
          <adlcp:dataFromLMS>start=numbers</adlcp:dataFromLMS>
        </item>
      </item>
      <item identifier="GLOSSARY" identifierref="RES-ASSET">
        <title>Glossary</title>
      </item>
      <item identifier="HIDDEN" identifierref="RES-SCO-2" isvisible="false"><title>Hidden copy</title></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="RES-SCO-1" type="webcontent" adlcp:scormType="sco" href="sco1/index.html">
      <file href="sco1/index.html"/><dependency identifierref="RES-SHARED"/>
    </resource>
    <resource identifier="RES-SCO-2" type="webcontent" adlcp:scormType="sco" xml:base="sco2/" href="index.html">
      <file href="index.html"/><dependency identifierref="RES-SHARED"/>
    </resource>
    <resource identifier="RES-ASSET" type="webcontent" adlcp:scormType="asset" href="glossary/glossary.html">
      <file href="glossary/glossary.html"/>
    </resource>
    <resource identifier="RES-SHARED" type="webcontent" adlcp:scormType="asset">
      <file href="shared/scormdriver.js"/><file href="shared/style.css"/>
    </resource>
  </resources>
</manifest>`;
  return zip([
    { name: 'imsmanifest.xml', data: manifest },
    ...schemaFiles(SCHEMAS_2004),
    { name: 'sco1/index.html', data: scoPage('Hello & goodbye', '../shared/scormdriver.js') },
    { name: 'sco2/index.html', data: scoPage('Numbers', '../shared/scormdriver.js') },
    { name: 'glossary/glossary.html', data: '<!doctype html><title>Glossary</title><p>hello — γεια — مرحبا</p>' },
    { name: 'shared/scormdriver.js', data: DRIVER },
    { name: 'shared/style.css', data: 'body{font-family:sans-serif}' },
  ]);
}

/** The launch file deep in a folder, with a query string in the href and item parameters to add. */
export function subfolderWithQuery(): Buffer {
  const manifest = `<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="deep" version="1" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2" xml:base="content/">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>Deep launch</title>
    <item identifier="i" identifierref="r" parameters="?mode=lesson&amp;from=dars"><title>Deep launch</title></item>
  </organization></organizations>
  <resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="player/start%20here.html?lang=en&amp;start=1"><file href="player/start here.html"/></resource></resources>
</manifest>`;
  return zip([
    { name: 'imsmanifest.xml', data: manifest },
    { name: 'content/player/start here.html', data: scoPage('Deep launch', '../lib/scormdriver.js') },
    { name: 'content/lib/scormdriver.js', data: DRIVER },
  ]);
}

const manifest12 = (href = 'index.html', extraDecl = '', title = 'Hostile') => `<?xml version="1.0" encoding="UTF-8"?>${extraDecl}
<manifest identifier="m" version="1" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>${title}</title><item identifier="i" identifierref="r"><title>${title}</title></item></organization></organizations>
  <resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="${href}"><file href="index.html"/></resource></resources>
</manifest>`;

const page = { name: 'index.html', data: '<!doctype html><title>x</title>' };

/** Hostile and broken packages, each with the words its refusal must contain. */
export const HOSTILE: { name: string; build: () => Buffer; message: RegExp }[] = [
  { name: 'zip slip (../)', build: () => zip([{ name: 'imsmanifest.xml', data: manifest12() }, page, { name: '../../evil.html', data: 'pwned' }]), message: /points outside the package \(it contains “\.\.”\)/ },
  { name: 'absolute path', build: () => zip([{ name: 'imsmanifest.xml', data: manifest12() }, page, { name: '/etc/cron.d/evil.html', data: 'pwned' }]), message: /The path “\/etc\/cron.d\/evil.html” is absolute/ },
  { name: 'symbolic link', build: () => zip([{ name: 'imsmanifest.xml', data: manifest12() }, page, { name: 'passwd.html', data: '/etc/passwd', mode: 0o120777, method: 'store' }]), message: /“passwd.html” is a link to another file/ },
  {
    name: 'zip bomb (compression ratio)',
    build: () => zip([{ name: 'imsmanifest.xml', data: manifest12() }, page, { name: 'data.js', data: Buffer.alloc(20 * 1024 * 1024) }]),
    message: /The file “data.js” would expand \d+ times/,
  },
  {
    name: '10,000 tiny entries',
    build: () => zip([{ name: 'imsmanifest.xml', data: manifest12() }, page, ...Array.from({ length: 10_000 }, (_, i) => ({ name: `f/${i}.js`, data: 'x', method: 'store' as const }))]),
    message: /The package holds 10002 files; Dars accepts at most 8000/,
  },
  { name: 'no manifest', build: () => zip([page]), message: /The package has no imsmanifest.xml at its top/ },
  { name: 'manifest in a subfolder', build: () => zip([{ name: 'My Course/imsmanifest.xml', data: manifest12() }, { name: 'My Course/index.html', data: 'x' }]), message: /imsmanifest.xml is inside the folder “My Course”/ },
  {
    name: 'XXE manifest',
    build: () => zip([{ name: 'imsmanifest.xml', data: manifest12('index.html', '<!DOCTYPE manifest [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', '&xxe;') }, page]),
    message: /declares a DTD or entities/,
  },
  { name: 'launch href missing', build: () => zip([{ name: 'imsmanifest.xml', data: manifest12('lesson/missing.html') }, page]), message: /The launch file “lesson\/missing.html” of “Hostile” is not in the package/ },
  { name: 'launch href absolute URL', build: () => zip([{ name: 'imsmanifest.xml', data: manifest12('https://evil.example/sco.html') }, page]), message: /The launch address “https:\/\/evil.example\/sco.html” of “Hostile” points outside the package/ },
  { name: 'launch href escaping the package', build: () => zip([{ name: 'imsmanifest.xml', data: manifest12('../index.html') }, page]), message: /The launch address “..\/index.html” of “Hostile” points outside the package/ },
  { name: 'backslashes', build: () => zip([{ name: 'imsmanifest.xml', data: manifest12() }, page, { name: 'scripts\\app.js', data: 'x' }]), message: /uses backslashes/ },
  { name: 'encrypted entry', build: () => zip([{ name: 'imsmanifest.xml', data: manifest12() }, page, { name: 'secret.js', data: 'x', encrypted: true, method: 'store' }]), message: /“secret.js” is protected with a password/ },
  { name: 'duplicate names', build: () => zip([{ name: 'imsmanifest.xml', data: manifest12() }, page, { name: 'Index.HTML', data: 'again' }]), message: /The name “Index.HTML” appears more than once/ },
  { name: 'forbidden kind of file', build: () => zip([{ name: 'imsmanifest.xml', data: manifest12() }, page, { name: 'cgi/run.php', data: '<?php system($_GET[1]);' }]), message: /“cgi\/run.php” is a kind of file a SCORM package may not contain \(.php\)/ },
  { name: 'not a zip at all', build: () => Buffer.from('89504e470d0a1a0a0000000d4948445200000001', 'hex'), message: /This file is not a ZIP archive/ },
  {
    name: 'sizes that lie',
    build: () => zip([{ name: 'imsmanifest.xml', data: manifest12() }, page, { name: 'app.js', data: Buffer.alloc(300_000, 'a'), declaredSize: 1000 }]),
    message: /The file “app.js” is not what the archive's index says/,
  },
  { name: 'manifest that is not XML', build: () => zip([{ name: 'imsmanifest.xml', data: '<manifest><organizations>' }, page]), message: /imsmanifest.xml is not well-formed XML/ },
];
