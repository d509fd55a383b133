/**
 * Page weight: the bytes a learner's phone moves to open the home page, a course page and every
 * lesson of that course, on a first visit (nothing cached) and on a repeat visit (the fingerprinted
 * CSS and scripts cached, the offline worker installed). Headless Chromium at 360×640, signed in as
 * a learner. Counted as the compressed bytes on the wire (headers included): CDP
 * Network.loadingFinished encodedDataLength for the page's own requests, and the same figure for
 * the requests the offline worker (views/assets/sw.js) makes on the page's behalf. Media (images,
 * audio, video) is left out: it only loads when the learner asks for it.
 *
 * Budget (DESIGN.md): every lesson page ≤ 14 KB on a first visit (what fits in TCP's first round
 * trip) and ≤ 5 KB on a repeat visit.
 *
 * `npm run bench:page-weight` starts the real server (embedded PostgreSQL, demo school) in a
 * temporary DATA_DIR, prints a table, writes bench/results/page-weight.json and exits non-zero
 * above the budget. Other code (the benchmark suite, the CI test) calls measurePageWeight() against
 * a server it started itself.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';

export const BUDGET = { lessonFirst: 14 * 1024, lessonRepeat: 5 * 1024 };

export interface PageWeight {
  kind: 'home' | 'course' | 'lesson';
  title: string;
  path: string;
  /** A first visit: empty cache, no worker. */
  first: Visit;
  /** A second visit to the same page right after. */
  repeat: Visit;
  /** Bytes the offline worker fetched ahead during the first visit (the course page's next lessons); not part of the page. */
  keptForOffline: number;
  /** Lesson pages only: within the budget? */
  withinBudget: boolean | null;
}

export interface Visit {
  bytes: number;
  requests: number;
  /** Each response that moved bytes: who asked (the page or the offline worker), what, how much. */
  responses: { by: 'page' | 'worker'; url: string; status: number; bytes: number }[];
}

export interface PageWeightReport {
  measuredAt: string;
  browser: string;
  machine: { cores: number; cpu: string; node: string };
  viewport: { width: number; height: number };
  budget: typeof BUDGET;
  pages: PageWeight[];
  withinBudget: boolean;
}

export interface MeasureOptions {
  baseUrl: string;
  username: string;
  password: string;
  /** Which course to measure (matched against the catalogue's titles); the first one when unset. */
  courseTitle?: RegExp;
  executablePath?: string;
}

const PHONE = { viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'en-GB' };
const MEDIA = new Set(['Image', 'Media']);

export async function measurePageWeight(opts: MeasureOptions): Promise<PageWeightReport> {
  const browser = await chromium.launch({
    executablePath: opts.executablePath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const targets = await findPages(browser, opts);
    const pages: PageWeight[] = [];
    for (const target of targets) pages.push(await measureOne(browser, opts, target));
    const report: PageWeightReport = {
      measuredAt: new Date().toISOString(),
      browser: `Chromium ${browser.version()}`,
      machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version },
      viewport: PHONE.viewport,
      budget: BUDGET,
      pages,
      withinBudget: pages.every((p) => p.withinBudget !== false),
    };
    return report;
  } finally {
    await browser.close();
  }
}

async function signedInContext(browser: Browser, opts: MeasureOptions): Promise<BrowserContext> {
  const context = await browser.newContext({ ...PHONE, baseURL: opts.baseUrl });
  // Signed in through the real form, but by the context's own HTTP client: the browser's cache
  // stays empty for the first visit.
  const login = await context.request.get('/login');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())?.[1];
  if (!csrf) throw new Error('page-weight: no CSRF token on /login');
  const res = await context.request.post('/login', { form: { _csrf: csrf, login: opts.username, password: opts.password }, maxRedirects: 0 });
  if (res.status() !== 303 || res.headers().location?.startsWith('/login')) throw new Error(`page-weight: signing in as ${opts.username} failed (${res.status()})`);
  return context;
}

/** A page to weigh; `via` is a page opened just before in the same browser, not counted. */
type Target = Pick<PageWeight, 'kind' | 'title' | 'path'> & { via?: string };

/** The pages to weigh, found the way a learner would: home, the course in the catalogue, its lessons. */
async function findPages(browser: Browser, opts: MeasureOptions): Promise<Target[]> {
  const context = await signedInContext(browser, opts);
  try {
    const page = await context.newPage();
    await page.goto(opts.baseUrl + '/courses');
    const courses = await page.locator('main a[href^="/courses/"]').evaluateAll((as) => as.map((a) => ({ path: a.getAttribute('href')!, title: (a.textContent ?? '').trim() })));
    const course = courses.find((c) => /^\/courses\/\d+$/.test(c.path) && (!opts.courseTitle || opts.courseTitle.test(c.title)));
    if (!course) throw new Error(`page-weight: ${opts.username} has no course${opts.courseTitle ? ` matching ${opts.courseTitle}` : ''}`);
    await page.goto(opts.baseUrl + course.path);
    // The outline's list, not the "continue" button above it.
    const links = await page.locator('main li a[href^="/lessons/"]').evaluateAll((as) => as.map((a) => ({ path: a.getAttribute('href')!, title: (a.textContent ?? '').trim() })));
    const lessons = new Map<string, string>();
    for (const l of links) if (/^\/lessons\/\d+$/.test(l.path) && !lessons.has(l.path)) lessons.set(l.path, l.title);
    const [first] = lessons;
    if (!first) throw new Error(`page-weight: no lessons on ${course.path}`);
    return [
      { kind: 'home', title: 'Home', path: '/' },
      { kind: 'course', title: course.title, path: course.path },
      ...[...lessons].map(([href, title]) => ({ kind: 'lesson' as const, title, path: href })),
      // The usual way in: from the course page, with its stylesheet and script cached and the
      // offline worker installed and answering.
      { kind: 'lesson', title: `${first[1]} (from the course page)`, path: first[0], via: course.path },
    ];
  } finally {
    await context.close();
  }
}

async function measureOne(browser: Browser, opts: MeasureOptions, target: Target): Promise<PageWeight> {
  const context = await signedInContext(browser, opts);
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    // One visit's tally. The page's own requests come from CDP; the worker's from Playwright, which
    // reads the same CDP figure from the worker's target.
    let tally = { ahead: 0, responses: [] as Visit['responses'] };
    const seen = new Map<string, { type: string; url: string; status: number; byWorker: boolean }>();
    cdp.on('Network.requestWillBeSent', (e) => seen.set(e.requestId, { type: e.type ?? '', url: e.request.url, status: 0, byWorker: false }));
    cdp.on('Network.responseReceived', (e) => {
      const r = seen.get(e.requestId);
      if (r) Object.assign(r, { status: e.response.status, byWorker: !!e.response.fromServiceWorker });
    });
    cdp.on('Network.loadingFinished', (e) => {
      const r = seen.get(e.requestId);
      // An answer the worker gave is counted where it went over the network: as the worker's request.
      if (!r || r.byWorker || MEDIA.has(r.type) || e.encodedDataLength <= 0) return;
      tally.responses.push({ by: 'page', url: r.url.replace(opts.baseUrl, ''), status: r.status, bytes: e.encodedDataLength });
    });
    // The worker's own script is fetched by the browser while registering it; CDP reports only its
    // headers, so its size on the wire is taken from fetching it the same way (see wireBytes).
    const workerScript = await wireBytes(opts.baseUrl + WORKER_SCRIPT);
    const pending = new Set<Promise<void>>();
    const inFlight = trackInFlight(context);
    const onWorkerRequest = (request: Request) => {
      if (!request.serviceWorker() || MEDIA.has(request.resourceType())) return;
      const p = Promise.all([request.sizes(), request.response()]).then(([s, response]) => {
        const reported = Math.max(0, s.responseHeadersSize) + Math.max(0, s.responseBodySize);
        const bytes = new URL(request.url()).pathname === WORKER_SCRIPT && response?.status() === 200 ? Math.max(reported, workerScript) : reported;
        // A lesson the worker keeps for later is not part of the page in front of the learner.
        if (request.headers()['x-dars-prefetch']) tally.ahead += bytes;
        else if (bytes > 0) tally.responses.push({ by: 'worker', url: request.url().replace(opts.baseUrl, ''), status: response?.status() ?? 0, bytes });
      }, () => undefined);
      pending.add(p);
      p.finally(() => pending.delete(p));
    };
    context.on('requestfinished', onWorkerRequest);
    const visit = async () => {
      tally = { ahead: 0, responses: [] };
      const res = await page.goto(opts.baseUrl + target.path, { waitUntil: 'load' });
      if (!res || !res.ok()) throw new Error(`page-weight: ${target.path} answered ${res?.status()}`);
      await settle(page, inFlight, pending);
      const { responses, ahead } = tally;
      return { visit: { bytes: responses.reduce((n, r) => n + r.bytes, 0), requests: responses.length, responses }, ahead };
    };
    if (target.via) {
      await page.goto(opts.baseUrl + target.via, { waitUntil: 'load' });
      await settle(page, inFlight, pending);
    }
    const first = await visit();
    const repeat = await visit();
    return {
      kind: target.kind,
      title: target.title,
      path: target.path,
      first: first.visit,
      repeat: repeat.visit,
      keptForOffline: first.ahead,
      withinBudget: target.kind === 'lesson' ? first.visit.bytes <= BUDGET.lessonFirst && repeat.visit.bytes <= BUDGET.lessonRepeat : null,
    };
  } finally {
    await context.close();
  }
}

/** Requests of the page and of its worker not yet answered, and when the last one began or ended. */
function trackInFlight(context: BrowserContext) {
  const state = { count: 0, lastChange: Date.now() };
  const change = (d: number) => () => {
    state.count += d;
    state.lastChange = Date.now();
  };
  context.on('request', change(1));
  context.on('requestfinished', change(-1));
  context.on('requestfailed', change(-1));
  return state;
}

/**
 * Waits until nothing has moved for half a second: the worker installs and fetches lessons one after
 * another after the load event, and each must be counted with the visit that caused it.
 */
async function settle(page: Page, inFlight: { count: number; lastChange: number }, pending: Set<Promise<void>>) {
  await page.waitForLoadState('networkidle').catch(() => undefined);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && (inFlight.count > 0 || Date.now() - inFlight.lastChange < 500)) await page.waitForTimeout(100);
  await Promise.all([...pending]);
}

const WORKER_SCRIPT = '/sw.js';

/** Bytes a GET moves from server to client (status line, headers, compressed body), asked for as Chromium asks. */
function wireBytes(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { 'Accept-Encoding': 'gzip, deflate, br', Connection: 'close' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.socket.bytesRead));
    });
    req.on('error', reject);
  });
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

export function weightTable(report: PageWeightReport): string {
  const rows = report.pages.map((p) => [
    p.kind,
    p.title.length > 34 ? `${p.title.slice(0, 33)}…` : p.title,
    `${kb(p.first.bytes)} (${p.first.requests})`,
    `${kb(p.repeat.bytes)} (${p.repeat.requests})`,
    p.keptForOffline ? kb(p.keptForOffline) : '',
    p.withinBudget === null ? '' : p.withinBudget ? 'ok' : 'OVER',
  ]);
  const head = ['page', 'title', 'first visit (requests)', 'repeat visit (requests)', 'kept offline', 'budget'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [
    `Page weight — ${report.browser}, ${report.viewport.width}×${report.viewport.height}, compressed bytes on the wire, media excluded (${report.machine.cores} cores, Node ${report.machine.node})`,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    `Budget for every lesson page: first visit ≤ ${kb(report.budget.lessonFirst)}, repeat visit ≤ ${kb(report.budget.lessonRepeat)} — ${report.withinBudget ? 'met' : 'MISSED'}`,
  ].join('\n');
}

/** Starts the real server on a throw-away embedded database with the demo school, measures, stops. */
export async function pageWeightBench(): Promise<PageWeightReport> {
  const { start } = await import('../src/server.ts');
  const { DEMO_PASSWORD } = await import('../src/demo/seed.ts');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'dars-bench-page-weight-'));
  try {
    // The embedded server runs as the user postgres, who must be able to enter it.
    chmodSync(dataDir, 0o755);
    // Always its own embedded database: a bench never writes into a school's.
    const { DATABASE_URL: _external, ...env } = process.env;
    const running = await start({ ...env, DATA_DIR: dataDir, DEMO: 'true', PORT: '0', CONTENT_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
    try {
      return await measurePageWeight({ baseUrl: running.url.replace('localhost', '127.0.0.1'), username: 'learner1', password: DEMO_PASSWORD, courseTitle: /greek/i });
    } finally {
      await running.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const report = await pageWeightBench();
  console.log(weightTable(report));
  const out = path.join(import.meta.dirname, 'results', 'page-weight.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(`Written to ${path.relative(process.cwd(), out)}`);
  process.exit(report.withinBudget ? 0 : 1);
}
