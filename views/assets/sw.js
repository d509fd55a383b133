// Offline reading for learners. A progressive enhancement: every page and form works without it.
// Installed from a course page (views/assets/offline.js), for the whole site; it answers page
// navigations and the lesson forms, and leaves every other request to the browser.
//
// - A course page asks it to keep the next lessons (message {keep}); opened lessons are kept too.
// - A lesson opened without a connection is answered from the kept copy, with a notice; any other
//   page without a connection (the home page, a lesson not kept) lists the lessons kept.
// - "Mark as done" and quiz answers posted without a connection go to an outbox and are sent when
//   a learner's page asks (message {flush}: when it loads and when the phone comes back online). Each
//   carries the form's requestId, so the server records a resend as the same action, and the
//   form's CSRF token, so an answer saved in one session is never accepted in another.
// Signing out clears all of it (Clear-Site-Data on the sign-out response).
const PAGES = 'dars-lessons';
const OUTBOX = 'dars-outbox';
const TEXTS = '/offline/texts';
const KEEP_AT_MOST = 12;
const FRESH_MS = 24 * 60 * 60 * 1000;
const LESSON = /^\/lessons\/\d+$/;
const ACTION = /^\/lessons\/\d+\/(done|quiz)$/;

self.addEventListener('install', () => self.skipWaiting());
// Pages already open (the course page that installed it) are looked after at once.
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

// Every learner page that loads online says hello: its language, the lessons it suggests keeping,
// and that now is a good time to send what waits in the outbox.
self.addEventListener('message', (e) => {
  const d = e.data || {};
  e.waitUntil(
    caches
      .open(PAGES)
      .then((cache) => freshTexts(cache, d.lang).then(() => (Array.isArray(d.keep) && d.keep.length ? keep(cache, d.keep) : null)))
      .then(() => (d.flush ? flush() : null))
      .catch(() => null),
  );
});

self.addEventListener('fetch', (e) => {
  const req = e.request;
  const url = new URL(req.url);
  if (url.origin !== location.origin) return;
  if (req.method === 'GET' && req.mode === 'navigate') e.respondWith(LESSON.test(url.pathname) ? lessonPage(e, url) : otherPage(req));
  else if (req.method === 'POST' && ACTION.test(url.pathname)) e.respondWith(action(req, url));
});

// Network first: a learner online always gets the live page; its copy is kept for later.
async function lessonPage(e, url) {
  try {
    const res = await fetch(e.request);
    if (res.ok) {
      const copy = res.clone();
      e.waitUntil(caches.open(PAGES).then((c) => c.put(url.pathname, copy).then(() => trim(c))).catch(() => null));
    }
    return res;
  } catch (err) {
    return offlineCopy(url.pathname, url.searchParams.has('queued') ? 'queued' : 'copy');
  }
}

// Other pages are never kept (they change with every answer); without a connection the learner
// gets the way to the lessons that are.
async function otherPage(req) {
  try {
    return await fetch(req);
  } catch (err) {
    return keptLessons('page');
  }
}

async function offlineCopy(path, note) {
  const cache = await caches.open(PAGES);
  const [copy, texts] = await Promise.all([cache.match(path), textsFrom(cache)]);
  if (!copy) return keptLessons('missing');
  const html = (await copy.text()).replace('<main id="main">', (m) => m + notice(texts && texts[note]));
  // Only the headers that still hold: the body is no longer compressed and its length changed.
  const headers = { 'Content-Type': 'text/html; charset=utf-8' };
  const csp = copy.headers.get('Content-Security-Policy');
  if (csp) headers['Content-Security-Policy'] = csp;
  return new Response(html, { headers });
}

// A small page in the learner's language: why this page is not here, and the lessons that are, by
// the titles of their kept copies (already escaped there: the pattern takes no markup).
async function keptLessons(note) {
  const cache = await caches.open(PAGES);
  const t = await textsFrom(cache);
  if (!t) return Response.error();
  const items = [];
  for (const r of await cache.keys()) {
    const path = new URL(r.url).pathname;
    if (!LESSON.test(path)) continue;
    const title = /<h1[^>]*>([^<]*)<\/h1>/.exec(await (await cache.match(r)).text());
    items.push(`<li><a href="${path}">${title ? title[1] : path}</a></li>`);
  }
  const list = items.length ? `<h1>${esc(t.kept)}</h1><ul class="list">${items.join('')}</ul>` : `<p>${esc(t.none)}</p>`;
  const html = `<!doctype html><html lang="${esc(t.lang)}" dir="${esc(t.dir)}"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Dars</title><link rel="stylesheet" href="${esc(t.css)}"><main id="main">${notice(t[note])}${list}</main>`;
  return new Response(html, { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
}

function notice(text) {
  return text ? `<p class="notice" role="status" data-offline>${esc(text)}</p>` : '';
}

function esc(s) {
  return String(s || '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function textsFrom(cache) {
  const res = await cache.match(TEXTS);
  return res ? res.json() : null;
}

// The notices' texts, fetched once and again only when the learner's language changed.
async function freshTexts(cache, lang) {
  const t = await textsFrom(cache);
  if (!t || (lang && t.lang !== lang)) await save(cache, TEXTS, false);
}

// The answer goes to the server when it can; otherwise it waits in the outbox and the learner is
// sent back to the lesson's kept copy with a notice saying so.
async function action(req, url) {
  const body = await req.clone().text();
  try {
    return await fetch(req);
  } catch (err) {
    const id = new URLSearchParams(body).get('requestId') || String(Date.now()) + Math.random();
    const box = await caches.open(OUTBOX);
    // Keyed by requestId: tapping twice offline still leaves one answer to send.
    await box.put(`/outbox/${encodeURIComponent(id)}`, new Response(body, { headers: { 'X-Action': url.pathname } }));
    return Response.redirect(`${await afterwards(url.pathname)}?queued`, 303);
  }
}

// Where the learner goes next, as online: after "done", the next lesson when it is kept; else back.
async function afterwards(actionPath) {
  const lesson = actionPath.replace(/\/(done|quiz)$/, '');
  if (!actionPath.endsWith('/done')) return lesson;
  const cache = await caches.open(PAGES);
  const copy = await cache.match(lesson);
  const next = copy && /<a href="(\/lessons\/\d+)" rel="next"/.exec(await copy.text());
  return next && (await cache.match(next[1])) ? next[1] : lesson;
}

let flushing = null;
function flush() {
  if (!flushing) flushing = sendSoon().finally(() => (flushing = null));
  return flushing;
}

// A phone that just came back online often cannot reach the school for a few more seconds.
async function sendSoon() {
  for (let wait = 2000; wait <= 8000; wait *= 2) {
    if (await send()) return;
    await new Promise((r) => setTimeout(r, wait));
  }
}

// Sends the outbox in the order it was filled. False when the school could not be reached.
async function send() {
  const box = await caches.open(OUTBOX);
  let sent = 0;
  let refused = 0;
  let reached = true;
  for (const key of await box.keys()) {
    const item = await box.match(key);
    if (!item) continue;
    let res;
    try {
      res = await fetch(item.headers.get('X-Action'), {
        method: 'POST',
        body: await item.text(),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        credentials: 'same-origin',
        redirect: 'manual',
      });
    } catch (err) {
      reached = false; // no connection yet
      break;
    }
    if (res.status >= 500) break; // the school is having trouble: keep it for the next page
    await box.delete(key);
    // A form answered with a redirect was accepted; anything else (an ended session, a removed
    // lesson, an answer the quiz refuses) will never be, and the learner is told.
    if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)) sent++;
    else refused++;
  }
  if (sent || refused) {
    const texts = await textsFrom(await caches.open(PAGES));
    const text = texts && (refused ? texts.failed : texts.sent);
    for (const client of await self.clients.matchAll({ type: 'window', includeUncontrolled: true })) client.postMessage({ notice: text });
  }
  return reached;
}

// Keeps the lessons a course page suggests, fetching only those not kept in the last day: a
// learner's data is scarce.
async function keep(cache, urls) {
  for (const u of urls.slice(0, 5)) {
    const url = new URL(u, location.origin);
    if (url.origin !== location.origin || !LESSON.test(url.pathname)) continue;
    const old = await cache.match(url.pathname);
    if (old && Date.now() - Date.parse(old.headers.get('Date') || '') < FRESH_MS) continue;
    await save(cache, url.pathname, true);
  }
  await trim(cache);
}

async function save(cache, path, ahead) {
  // A fetch ahead is marked, so the server does not count it as the learner opening the lesson.
  const res = await fetch(path, { credentials: 'same-origin', redirect: 'manual', headers: ahead ? { 'X-Dars-Prefetch': '1' } : {} });
  if (res.ok) await cache.put(path, res);
}

// The oldest kept lessons go first (the Cache API keeps entries in the order they were put).
async function trim(cache) {
  const lessons = (await cache.keys()).filter((r) => LESSON.test(new URL(r.url).pathname));
  for (const r of lessons.slice(0, Math.max(0, lessons.length - KEEP_AT_MOST))) await cache.delete(r);
}
