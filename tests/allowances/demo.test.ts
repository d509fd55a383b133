import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, seedDemo } from '../../src/demo/seed.ts';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { keyOf, text } from './helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp();
  await seedDemo(t.em());
});
afterAll(() => t.close());

describe('the demo school', () => {
  it("when the demo coordinator opens the data allowances, then HELIOS has a scheme whose current period can be issued to both demo learners", async () => {
    const agent = await signIn(t.app, 'coordinator1', DEMO_PASSWORD);
    const list = await agent.get('/allowances');
    expect(text(list.text)).toContain('Monthly mobile data');
    const schemeUrl = /href="(\/allowances\/schemes\/\d+)"/.exec(list.text)![1]!;
    const current = /href="(\/allowances\/schemes\/\d+\/periods\/[\d-]+)">[^<]+<\/a> <strong>now/.exec((await agent.get(schemeUrl)).text)![1]!;
    const preview = await agent.get(current);
    expect(text(preview.text)).toContain('Issue to 2 learners');
    const issued = await post(agent, `${current}/issue`, { key: keyOf(preview.text)! });
    expect(text((await agent.get(issued.headers.location!)).text)).toContain('2 allowances were issued.');
  });
});
