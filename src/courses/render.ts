/**
 * Lesson Markdown to HTML, once, at import: raw HTML in the Markdown is dropped, the result is
 * sanitised again, images point at their WebP variants with `srcset` and `loading=lazy`. A second
 * rendering folds each image behind a tap for learners who save data.
 */
import { Marked, type Tokens } from 'marked';
import sanitizeHtml from 'sanitize-html';
import type { ImageVariants } from './course.entity.ts';

/** Images fill the text column: the whole screen on a phone, 40 rem on a wide one. */
export const IMAGE_SIZES = '(min-width:42rem) 40rem, 100vw';

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function imageTag(v: ImageVariants, alt: string) {
  return `<img src="${v.url}" srcset="${v.srcset}" sizes="${IMAGE_SIZES}" width="${v.width}" height="${v.height}" alt="${escape(alt)}" loading="lazy" decoding="async">`;
}

/**
 * An image behind a tap. The summary carries only the size; its words are put in when the page
 * is rendered, in the learner's language (see `withTapLabels`).
 */
export function tapToShow(inner: string, bytes: number, kind: 'image' | 'video') {
  return `<details class="tap"><summary data-${kind}="${bytes}"></summary>${inner}</details>`;
}

function renderer(images: Map<string, ImageVariants>, dataSaver: boolean) {
  const img = (href: string, alt: string) => {
    const v = images.get(href);
    if (!v) return '';
    return dataSaver ? tapToShow(imageTag(v, alt), v.bytes, 'image') : imageTag(v, alt);
  };
  const marked = new Marked({ gfm: true, breaks: false });
  marked.use({
    renderer: {
      html: () => '',
      image: ({ href, text }: Tokens.Image) => img(href, text),
      // An image on its own line stands alone, not inside a <p> (a <details> may not sit in one).
      paragraph(this: { parser: { parseInline: (t: Tokens.Generic[]) => string } }, { tokens }: Tokens.Paragraph) {
        const inline = this.parser.parseInline(tokens);
        const onlyImages = tokens.every((t) => t.type === 'image' || (t.type === 'text' && !t.raw.trim()));
        return onlyImages ? `${inline}\n` : `<p>${inline}</p>\n`;
      },
    },
  });
  return marked;
}

const blocks = ['p', 'ul', 'ol', 'li', 'blockquote', 'td', 'th', 'h2', 'h3', 'h4'];

function sanitise(html: string) {
  return sanitizeHtml(html, {
    allowedTags: ['p', 'h2', 'h3', 'h4', 'strong', 'em', 'del', 'sup', 'sub', 'a', 'ul', 'ol', 'li', 'blockquote', 'code', 'pre', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'hr', 'br', 'img', 'details', 'summary'],
    allowedAttributes: {
      a: ['href'],
      img: ['src', 'srcset', 'sizes', 'width', 'height', 'alt', 'loading', 'decoding'],
      details: ['class'],
      summary: ['data-image', 'data-video'],
      '*': ['dir'],
    },
    allowedSchemes: ['http', 'https', 'mailto', 'tel'],
    allowedSchemesByTag: { img: [] },
    allowProtocolRelative: false,
    // Mixed-language lessons (English with Arabic glosses): each block finds its own direction, a
    // list too, so its markers sit on the side its items start from, not off the edge of the phone.
    transformTags: {
      h1: 'h2',
      ...Object.fromEntries(blocks.map((tag) => [tag, (name: string, attribs: Record<string, string>) => ({ tagName: name, attribs: { ...attribs, dir: 'auto' } })])),
    },
  });
}

export function renderMarkdown(markdown: string, images: Map<string, ImageVariants>) {
  return {
    html: sanitise(renderer(images, false).parse(markdown, { async: false })),
    dataSaverHtml: sanitise(renderer(images, true).parse(markdown, { async: false })),
  };
}

/** Fills the tap labels ("Image · 24 kB — tap to show") into server-made HTML, escaped. */
export function withTapLabels(html: string, label: (kind: 'image' | 'video', bytes: number) => string) {
  return html.replace(/<summary data-(image|video)="(\d+)"><\/summary>/g, (_m, kind: 'image' | 'video', bytes: string) => `<summary>${escape(label(kind, Number(bytes)))}</summary>`);
}
