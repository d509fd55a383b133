/**
 * Reading imsmanifest.xml (IMS Content Packaging as SCORM 1.2 and 2004 use it). The manifest is
 * untrusted text: it is read with DTDs refused and entity expansion off, every string it gives is
 * length-checked and later only ever shown escaped, and every launch address must be a relative
 * path to a file that really is in the package.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { isTimespan, TIME_LIMIT_ACTIONS, type ScormVersion } from './data-model.ts';
import { PackageProblem } from './package-archive.ts';
import { identifiersIn, parsePrerequisites } from './prerequisites.ts';

export interface ManifestItem {
  identifier: string;
  title: string;
  /** 0 for the organisation's own items, 1 for their children… */
  depth: number;
  visible: boolean;
  /** null for an item that only groups others. */
  resourceType: 'sco' | 'asset' | null;
  /** Relative URL inside the package, with the item's parameters. */
  launchUrl: string | null;
  /** SCORM 1.2 mastery score, 0–100. */
  masteryScore: number | null;
  /** In the version's own timespan format. */
  maxTimeAllowed: string | null;
  timeLimitAction: string | null;
  dataFromLms: string | null;
  /** SCORM 2004: progress measure at which the SCO counts as completed. */
  completionThreshold: number | null;
  /** SCORM 2004: scaled score at which the SCO counts as passed. */
  scaledPassingScore: number | null;
  /** SCORM 1.2 aicc_script expression. */
  prerequisites: string | null;
}

export interface PackageManifest {
  version: ScormVersion;
  /** As the manifest says it ("1.2", "2004 4th Edition"…); empty when it says nothing. */
  schemaVersion: string;
  title: string;
  items: ManifestItem[];
}

export const TITLE_MAX = 200;
const IDENTIFIER_MAX = 255;
const MAX_ITEMS = 1000;
const MAX_DEPTH = 20;

const ARRAYS = new Set(['organization', 'item', 'resource', 'file', 'dependency', 'objective']);

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
/** Only XML's five predefined entities and character references: entity expansion is off in the parser. */
function decodeEntities(value: string) {
  return value.replace(/&(lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});/g, (whole, name: string) => {
    if (name[0] !== '#') return XML_ENTITIES[name]!;
    const code = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
  });
}

function decodeText(bytes: Buffer): string {
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  const declared = /^(?:\uFEFF|\xEF\xBB\xBF)?<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(bytes.subarray(0, 200).toString('latin1'))?.[1];
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(declared ?? 'utf-8', { fatal: true });
  } catch {
    throw new PackageProblem('manifestEncoding');
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw new PackageProblem('manifestEncoding');
  }
}

type Node = Record<string, unknown>;

/** A child element or attribute, matched without regard to case ("scormtype" and "scormType" both occur). */
function get(node: unknown, name: string): unknown {
  if (!node || typeof node !== 'object') return undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(node)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function list(node: unknown, name: string): Node[] {
  const v = get(node, name);
  if (v === undefined || v === '') return [];
  return (Array.isArray(v) ? v : [v]).map((x) => (typeof x === 'object' && x !== null ? (x as Node) : { '#text': x }));
}

/** Text content of a simple element or attribute; null when absent, undefined when it is not plain text. */
function text(node: unknown, name: string): string | null | undefined {
  const v = get(node, name);
  if (v === undefined) return null;
  if (typeof v === 'string') return decodeEntities(v);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const t = (v as Node)['#text'];
    if (typeof t === 'string') return decodeEntities(t);
    if (Object.keys(v).every((k) => k.startsWith('@'))) return '';
  }
  return undefined;
}

const attr = (node: unknown, name: string) => text(node, `@${name}`) ?? null;

/** Reads a manifest and checks it against the package's files. Throws PackageProblem. */
export function parseManifest(bytes: Buffer, files: ReadonlySet<string>): PackageManifest {
  const xml = decodeText(bytes);
  // A document type declaration is where entity bombs and external entities (XXE) live; SCORM manifests use XML Schema, never a DTD.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new PackageProblem('manifestDoctype');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new PackageProblem('manifestInvalid', { line: valid.err.line });

  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    removeNSPrefix: true,
    processEntities: false,
    htmlEntities: false,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    maxNestedTags: 60,
    isArray: (name) => ARRAYS.has(name),
  });
  let doc: Node;
  try {
    doc = parser.parse(xml) as Node;
  } catch {
    throw new PackageProblem('manifestInvalid', { line: '?' });
  }
  const manifest = get(doc, 'manifest') as Node | undefined;
  if (!manifest || typeof manifest !== 'object') throw new PackageProblem('manifestInvalid', { line: 1 });

  const schemaVersion = text(get(manifest, 'metadata'), 'schemaversion') ?? '';
  const version = versionOf(schemaVersion ?? '', xml);

  const organizations = get(manifest, 'organizations');
  const orgs = list(organizations, 'organization');
  const defaultId = attr(organizations, 'default');
  const org = defaultId ? orgs.find((o) => attr(o, 'identifier') === defaultId) : orgs[0];
  if (!org) throw new PackageProblem('noOrganization');
  const title = checkedTitle(text(org, 'title'), attr(org, 'identifier') ?? '');

  const resourcesNode = get(manifest, 'resources');
  const resources = new Map<string, Node>();
  for (const r of list(resourcesNode, 'resource')) {
    const id = attr(r, 'identifier');
    if (id) resources.set(id, r);
  }
  const bases = [attr(manifest, 'base') ?? '', attr(resourcesNode, 'base') ?? ''];

  const items: ManifestItem[] = [];
  const identifiers = new Set<string>();
  const visit = (node: Node, depth: number) => {
    if (depth > MAX_DEPTH) throw new PackageProblem('manifestInvalid', { line: '?' });
    const identifier = attr(node, 'identifier') ?? '';
    if (!identifier || identifier.length > IDENTIFIER_MAX) throw new PackageProblem('badItemValue', { item: shown(identifier), field: 'identifier' });
    if (identifiers.has(identifier)) throw new PackageProblem('duplicateItem', { item: shown(identifier) });
    identifiers.add(identifier);
    if (items.length >= MAX_ITEMS) throw new PackageProblem('tooManyItems', { max: MAX_ITEMS });
    const children = list(node, 'item');
    const item = readItem(node, identifier, depth, version, children.length > 0, resources, bases, files);
    items.push(item);
    for (const child of children) visit(child, depth + 1);
  };
  for (const top of list(org, 'item')) visit(top, 0);

  if (!items.some((i) => i.launchUrl)) throw new PackageProblem('noLaunchable');
  for (const item of items) {
    if (!item.prerequisites) continue;
    const parsed = parsePrerequisites(item.prerequisites);
    if (!parsed || identifiersIn(parsed).some((id) => !identifiers.has(id))) throw new PackageProblem('prerequisites', { item: item.title });
  }
  return { version, schemaVersion: (schemaVersion ?? '').slice(0, 60), title, items };
}

function versionOf(schemaVersion: string, xml: string): ScormVersion {
  const v = schemaVersion.trim();
  if (/^1\.2(\.0)?$/.test(v)) return '1.2';
  if (/^(CAM )?1\.3$/.test(v) || /^2004 (2nd|3rd|4th) Edition$/i.test(v)) return '2004';
  if (v) throw new PackageProblem('unknownVersion', { version: shown(v) });
  // No schemaversion: the ADL namespace the manifest declares still tells the version.
  if (/adlcp_rootv1p2/.test(xml)) return '1.2';
  if (/adlcp_v1p3/.test(xml)) return '2004';
  throw new PackageProblem('unknownVersion', { version: '—' });
}

function shown(s: string) {
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '\uFFFD');
  return clean.length > 80 ? `${clean.slice(0, 77)}…` : clean;
}

function checkedTitle(title: string | null | undefined, identifier: string): string {
  if (title === undefined || title === null || !title.trim()) throw new PackageProblem('missingTitle', { item: shown(identifier) });
  if (title.length > TITLE_MAX) throw new PackageProblem('titleTooLong', { item: shown(identifier), max: TITLE_MAX });
  return title.trim();
}

function decimal(value: string | null | undefined, min: number, max: number, item: string, field: string): number | null {
  if (value === null || value === undefined || value === '') return null;
  if (!/^-?[0-9]*\.?[0-9]+$/.test(value.trim()) || Number(value) < min || Number(value) > max) throw new PackageProblem('badItemValue', { item, field });
  return Number(value);
}

function readItem(
  node: Node,
  identifier: string,
  depth: number,
  version: ScormVersion,
  hasChildren: boolean,
  resources: Map<string, Node>,
  bases: string[],
  files: ReadonlySet<string>,
): ManifestItem {
  const title = checkedTitle(text(node, 'title'), identifier);
  const item: ManifestItem = {
    identifier,
    title,
    depth,
    visible: (attr(node, 'isvisible') ?? 'true').trim().toLowerCase() !== 'false',
    resourceType: null,
    launchUrl: null,
    masteryScore: null,
    maxTimeAllowed: null,
    timeLimitAction: null,
    dataFromLms: null,
    completionThreshold: null,
    scaledPassingScore: null,
    prerequisites: null,
  };
  const field = (value: string | null | undefined, name: string, max: number): string | null => {
    if (value === undefined || (value && value.length > max)) throw new PackageProblem('badItemValue', { item: title, field: name });
    return value || null;
  };

  item.timeLimitAction = field(text(node, 'timelimitaction'), 'timeLimitAction', 40);
  if (item.timeLimitAction && !(TIME_LIMIT_ACTIONS as readonly string[]).includes(item.timeLimitAction)) throw new PackageProblem('badItemValue', { item: title, field: 'timeLimitAction' });
  item.dataFromLms = field(text(node, 'datafromlms'), 'dataFromLMS', version === '1.2' ? 4096 : 4000);
  if (version === '1.2') {
    item.masteryScore = decimal(text(node, 'masteryscore'), 0, 100, title, 'masteryscore');
    item.maxTimeAllowed = field(text(node, 'maxtimeallowed'), 'maxtimeallowed', 40);
    item.prerequisites = field(text(node, 'prerequisites'), 'prerequisites', 4000);
  } else {
    const threshold = get(node, 'completionThreshold');
    if (threshold !== undefined) {
      // 3rd edition: the value is the element's text; 4th: attributes, in force only with completedByMeasure="true".
      const byMeasure = attr(threshold, 'completedByMeasure');
      const value = byMeasure === null ? text(node, 'completionThreshold') : byMeasure.trim() === 'true' ? (attr(threshold, 'minProgressMeasure') ?? '1.0') : null;
      item.completionThreshold = decimal(value, 0, 1, title, 'completionThreshold');
    }
    const sequencing = get(node, 'sequencing');
    item.maxTimeAllowed = field(attr(get(sequencing, 'limitConditions'), 'attemptAbsoluteDurationLimit'), 'attemptAbsoluteDurationLimit', 40);
    const primary = get(get(sequencing, 'objectives'), 'primaryObjective');
    if (primary && (attr(primary, 'satisfiedByMeasure') ?? '').trim() === 'true') {
      item.scaledPassingScore = decimal(text(primary, 'minNormalizedMeasure') ?? '1.0', -1, 1, title, 'minNormalizedMeasure');
    }
  }
  if (item.maxTimeAllowed && !isTimespan(version, item.maxTimeAllowed)) throw new PackageProblem('badItemValue', { item: title, field: 'maxTimeAllowed' });

  const ref = attr(node, 'identifierref');
  if (!ref) {
    // An item without a resource only groups other items; a leaf must name what it launches.
    if (!hasChildren) throw new PackageProblem('itemWithoutResource', { item: title });
    return item;
  }
  const resource = resources.get(ref);
  if (!resource) throw new PackageProblem('missingResource', { item: title, ref: shown(ref) });
  const type = (attr(resource, 'scormtype') ?? '').trim().toLowerCase();
  if (type !== 'sco' && type !== 'asset') throw new PackageProblem('scormType', { ref: shown(ref) });
  const href = attr(resource, 'href');
  if (!href) throw new PackageProblem('noLaunchHref', { item: title, ref: shown(ref) });
  const parameters = field(attr(node, 'parameters'), 'parameters', 1000);
  item.resourceType = type;
  item.launchUrl = launchUrl([...bases, attr(resource, 'base') ?? ''], href, parameters, files, title);
  return item;
}

const ABSOLUTE = /^([a-zA-Z][a-zA-Z0-9+.-]*:|\/|\\)/;

/**
 * Resolves a resource's href against the xml:base of the manifest, the resources and the resource
 * (URL rules), refuses anything absolute or leaving the package, checks the file exists, and adds
 * the item's parameters the way the SCORM CAM says: a leading "?" or "&" is dropped, a "#…"
 * fragment is added only when the href has none, the rest joins the query with "?" or "&".
 */
function launchUrl(bases: string[], href: string, parameters: string | null, files: ReadonlySet<string>, item: string): string {
  for (const part of [...bases, href, parameters ?? '']) {
    if (/[\u0000-\u001f\u007f]/.test(part)) throw new PackageProblem('launchAbsolute', { item, href: shown(href) });
  }
  if ([...bases, href].some((b) => ABSOLUTE.test(b.trim()))) throw new PackageProblem('launchAbsolute', { item, href: shown(href) });
  const cut = href.search(/[?#]/);
  const [hrefPath, suffix] = cut >= 0 ? [href.slice(0, cut), href.slice(cut)] : [href, ''];

  let dir: string[] = [];
  let file: string[] = [];
  for (const [i, ref] of [...bases.filter(Boolean), hrefPath].entries()) {
    const last = i === bases.filter(Boolean).length;
    const segments = [...dir];
    const parts = ref.split('/');
    for (const [j, s] of parts.entries()) {
      if (s === '..') {
        if (!segments.length) throw new PackageProblem('launchAbsolute', { item, href: shown(href) });
        segments.pop();
      } else if (s !== '.' && !(s === '' && j < parts.length - 1)) {
        segments.push(s);
      }
    }
    // As in URLs, what follows a base's last "/" names a file: only the folder before it counts.
    if (last) file = segments;
    else dir = segments.slice(0, -1);
  }
  let decoded: string;
  try {
    decoded = file.map((s) => decodeURIComponent(s)).join('/');
  } catch {
    throw new PackageProblem('launchMissing', { item, href: shown(href) });
  }
  if (!file.length || file.at(-1) === '' || !files.has(decoded)) throw new PackageProblem('launchMissing', { item, href: shown(href) });

  let url = decoded.split('/').map(encodeURIComponent).join('/') + suffix;
  let p = parameters ?? '';
  if (p.startsWith('#')) return url.includes('#') ? url : url + p;
  p = p.replace(/^[?&]+/, '');
  if (!p) return url;
  const hash = url.indexOf('#');
  const [before, fragment] = hash >= 0 ? [url.slice(0, hash), url.slice(hash)] : [url, ''];
  url = `${before}${before.includes('?') ? '&' : '?'}${p}${fragment}`;
  return url;
}
