/**
 * The teacher's grading queue on its own: CPU per request (server and PostgreSQL) and latency of
 * GET /assignments for helios-teacher-1 against the seeded school in data/bench (`npm run bench`
 * seeds it). `npm run bench:grading`; REQUESTS sets the sequential count, DURATION the seconds of
 * the 10-connection run.
 */
import os from 'node:os';
import autocannon from 'autocannon';
import { cpuSeconds, getPage, postgresCpuSeconds, signIn, startSchool } from './support.ts';

const dataDir = process.env.DATA_DIR ?? 'data/bench';
const requests = Number(process.env.REQUESTS ?? 50);
const duration = Number(process.env.DURATION ?? 10);

const school = await startSchool({ dataDir });
try {
  const teacher = await signIn(school.url, process.env.TEACHER ?? 'helios-teacher-1');
  for (let i = 0; i < 5; i++) await getPage(school.url, teacher, '/assignments');
  const cpu = () => [cpuSeconds(school.pid) ?? 0, postgresCpuSeconds(dataDir) ?? 0];
  const c0 = cpu();
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const start = performance.now();
    const page = await getPage(school.url, teacher, '/assignments');
    if (page.status !== 200) throw new Error(`GET /assignments answered ${page.status}`);
    times.push(performance.now() - start);
  }
  const c1 = cpu();
  times.sort((a, b) => a - b);
  const ms = (s: number) => ((s * 1000) / requests).toFixed(1);
  console.log(
    `sequential ×${requests}: p50 ${times[Math.floor(requests / 2)]!.toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms; CPU per request node ${ms(c1[0]! - c0[0]!)} ms, postgres ${ms(c1[1]! - c0[1]!)} ms`,
  );
  const r = await autocannon({ url: school.url, connections: 10, duration, timeout: 60, requests: [{ method: 'GET', path: '/assignments', headers: { cookie: teacher.cookie } }] });
  console.log(`autocannon c=10 ${duration}s: ${r.requests.average} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`);
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ${os.cpus().length} cores`);
} finally {
  await school.stop();
}
