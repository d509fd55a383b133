/** Course folders written into a temporary directory, one small valid course to bend per test. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

/** The first bytes of an Ogg Opus file: enough for the importer's magic-byte check. */
export const OPUS = Buffer.concat([Buffer.from('OggS'), Buffer.alloc(24), Buffer.from('OpusHead'), Buffer.alloc(200, 1)]);
/** The first bytes of an MP4 file. */
export const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(4), Buffer.from('isommp41'), Buffer.alloc(400, 2)]);

export const COURSE_YAML = `slug: fixture-course
title: "Fixture course"
language: el
instructionLanguages: [en, ar]
level: A1
subject: language
summary: A course made by the tests.
studyHours: 3
license: CC BY-SA 4.0
image: media/cover.png
units:
  - slug: first
    title: First unit
    lessons:
      - 01-intro.md
      - 02-listen.md
  - slug: second
    title: Second unit
    lessons:
      - 03-watch.md
      - 04-quiz.md
`;

export const LESSONS: Record<string, string> = {
  '01-intro.md': `---
slug: intro
title: Introduction
type: text
minutes: 5
---

Welcome. <script>alert(1)</script>

![A map of Athens](media/map.png)

> في هذا الدرس: مرحبا.
`,
  '02-listen.md': `---
slug: listen
title: Listen
type: audio
minutes: 6
media:
  - file: media/hello.opus
    kind: audio
    title: "Listen: hello"
    transcript: "Γεια σου."
---

Listen and repeat.
`,
  '03-watch.md': `---
slug: watch
title: Watch
type: video
minutes: 7
media:
  - file: media/meet-240p.mp4
    kind: video
    poster: media/meet-poster.png
---

Watch two people meet.
`,
  '04-quiz.md': `---
slug: quiz
title: Quiz
type: quiz
minutes: 8
quiz:
  passScore: 60
  questions:
    - id: q1
      type: single
      prompt: How do you say "hello"?
      options:
        - { id: a, text: "Γεια σου", correct: true }
        - { id: b, text: "Ευχαριστώ" }
      explanation: "Γεια σου is hello."
    - id: q2
      type: multiple
      prompt: Which are greetings?
      options:
        - { id: a, text: "Καλημέρα", correct: true }
        - { id: b, text: "Καλησπέρα", correct: true }
        - { id: c, text: "Νερό" }
      explanation: Both are greetings.
    - id: q3
      type: fill
      prompt: "Complete: Καλη___ (good morning)"
      answers: ["μέρα", "mera"]
      explanation: Καλημέρα.
---

Answer three questions.
`,
};

/** Writes a valid course into a fresh temporary folder; returns the folder holding it (the "courses" root) and the course folder. */
export async function writeCourse(over: { yaml?: string; lessons?: Record<string, string | null>; slugDir?: string } = {}) {
  const root = mkdtempSync(path.join(tmpdir(), 'dars-courses-'));
  const dir = path.join(root, over.slugDir ?? 'fixture-course');
  mkdirSync(path.join(dir, 'lessons'), { recursive: true });
  mkdirSync(path.join(dir, 'media'), { recursive: true });
  writeFileSync(path.join(dir, 'course.yaml'), over.yaml ?? COURSE_YAML);
  for (const [name, text] of Object.entries({ ...LESSONS, ...over.lessons })) if (text !== null) writeFileSync(path.join(dir, 'lessons', name), text);
  const png = (w: number, h: number, r: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r, g: 120, b: 200 } } }).png().toBuffer();
  writeFileSync(path.join(dir, 'media', 'cover.png'), await png(800, 400, 10));
  writeFileSync(path.join(dir, 'media', 'map.png'), await png(1200, 900, 40));
  writeFileSync(path.join(dir, 'media', 'meet-poster.png'), await png(426, 240, 90));
  writeFileSync(path.join(dir, 'media', 'hello.opus'), OPUS);
  writeFileSync(path.join(dir, 'media', 'meet-240p.mp4'), MP4);
  return { root, dir };
}
