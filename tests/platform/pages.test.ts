import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymous, post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeUser } from '../support/factories.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp();
});
afterAll(() => t.close());

describe('health, errors and the wire', () => {
  it('when the database answers, then /healthz says ok', async () => {
    const res = await request(t.app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('when a page does not exist, then a translated 404 page answers without any stack trace', async () => {
    const res = await request(t.app).get('/no/such/page').set('Accept-Language', 'fr');
    expect(res.status).toBe(404);
    expect(res.text).toContain('<html lang="fr"');
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('when a form body is larger than allowed, then a 413 page answers', async () => {
    const agent = await anonymous(t.app);
    const res = await post(agent, '/login', { login: 'x', password: 'y'.repeat(300 * 1024) });
    expect(res.status).toBe(413);
    expect(res.text).toContain('What you sent is too large');
  });

  it('when a page is asked for with brotli or gzip, then it comes compressed, with an ETag that answers 304', async () => {
    const br = await request(t.app).get('/login').set('Accept-Encoding', 'br, gzip');
    expect(br.headers['content-encoding']).toBe('br');
    const css = /href="(\/assets\/dars\.[0-9a-f]+\.css)"/.exec(br.text)![1]!;
    const first = await request(t.app).get(css).set('Accept-Encoding', 'gzip');
    expect(first.headers['content-encoding']).toBe('gzip');
    expect(first.headers['cache-control']).toContain('immutable');
    const again = await request(t.app).get(css).set('If-None-Match', first.headers.etag!);
    expect(again.status).toBe(304);
  });

  it('when any page is served, then it carries the security headers and a CSP with no inline script', async () => {
    const res = await request(t.app).get('/login');
    const csp = res.headers['content-security-policy']!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("object-src 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.text).not.toMatch(/\sstyle="/);
  });

  it('when served behind TLS, then cookies are Secure and HSTS is sent', async () => {
    const tls = await bootApp({ TRUST_TLS: 'true', TRUST_PROXY: '1' });
    try {
      const res = await request(tls.app).get('/login').set('X-Forwarded-Proto', 'https');
      expect(res.headers['strict-transport-security']).toContain('max-age=');
      expect(res.headers['set-cookie']?.[0]).toContain('Secure');
    } finally {
      await tls.close();
    }
  });

  it('when a learner goes to a signed-in page, then it is never stored by the browser', async () => {
    const learner = await makeUser(t.em(), 'learner');
    const agent = await signIn(t.app, learner.username);
    for (const url of ['/', '/profile', '/join']) expect((await agent.get(url)).headers['cache-control'], url).toBe('no-store');
  });
});
