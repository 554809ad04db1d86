import { SaxesParser, type SaxesTagNS } from 'saxes';
import { OpenBadgesInputError } from './errors.ts';

export interface SvgLimits {
  maxChars: number;
  maxDepth: number;
  maxElements: number;
}

export const DEFAULT_SVG_LIMITS: SvgLimits = {
  maxChars: 10 * 1024 * 1024,
  maxDepth: 256,
  maxElements: 100_000,
};

const OB2_NS = 'http://openbadges.org';
const OB3_NS = 'https://purl.imsglobal.org/ob/v3p0';

const DROPPED_ELEMENTS = new Set([
  'script',
  'foreignobject',
  'iframe',
  'object',
  'embed',
  'handler',
  'listener',
  'audio',
  'video',
]);
const SAFE_DATA_IMAGE = /^data:image\/(png|jpe?g|gif|webp);/i;
const EXTERNAL_URL = /url\(\s*(?!['"]?\s*#)[^)]*\)/gi;

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
}

function isBadgeElement(tag: SaxesTagNS): 'assertion' | 'credential' | null {
  if (tag.local !== 'assertion' && tag.local !== 'credential') return null;
  if (tag.prefix === 'openbadges' || tag.uri === OB2_NS || tag.uri === OB3_NS) return tag.local;
  return null;
}

function cleanCss(css: string): string {
  return css.replace(/@import[^;]*;?/gi, '').replace(EXTERNAL_URL, 'none');
}

function keepAttribute(name: string, local: string, value: string): boolean {
  const lname = local.toLowerCase();
  if (lname.startsWith('on')) return false;
  if (name.toLowerCase() === 'xml:base') return false;
  if (lname === 'href') {
    const v = value.trim();
    return v.startsWith('#') || SAFE_DATA_IMAGE.test(v);
  }
  if (/javascript:|vbscript:|data:text\/html/i.test(value)) return false;
  EXTERNAL_URL.lastIndex = 0;
  return !EXTERNAL_URL.test(value);
}

interface WalkOptions {
  sanitize: boolean;
  dropBadgeElements: boolean;
  insertAfterRoot?: string;
  limits: SvgLimits;
}

interface WalkResult {
  output: string;
  badge: { element: 'assertion' | 'credential'; text: string } | null;
  rootLocal: string | null;
}

function fail(code: string, message: string, kind: 'malformed' | 'too_large' = 'malformed'): never {
  throw new OpenBadgesInputError(kind, code, message);
}

/**
 * One streaming pass over the document, re-serialized from parse events so that nothing the parser did
 * not understand reaches the output. No DTD is processed: a DOCTYPE with an internal subset (where
 * entities live) is refused, a bare one is dropped.
 */
function walk(svg: string, o: WalkOptions): WalkResult {
  if (svg.length > o.limits.maxChars) fail('svg_too_large', 'SVG larger than the limit', 'too_large');
  const parser = new SaxesParser({ xmlns: true, position: false });
  const out: string[] = [];
  let depth = 0;
  let elements = 0;
  let skipDepth = 0;
  let inStyle = false;
  let badge: WalkResult['badge'] = null;
  let collecting: { element: 'assertion' | 'credential'; text: string; verify: string | null } | null = null;
  let rootLocal: string | null = null;
  const selfClosing: boolean[] = [];

  parser.on('error', (err) => fail('svg_malformed', `SVG does not parse: ${err.message}`));
  parser.on('doctype', (doctype) => {
    if (/[[<]|ENTITY/i.test(doctype)) fail('svg_doctype_refused', 'DOCTYPE with declarations is refused');
  });
  parser.on('xmldecl', () => {
    out.push('<?xml version="1.0" encoding="UTF-8"?>');
  });
  parser.on('opentag', (tag) => {
    depth++;
    elements++;
    if (depth > o.limits.maxDepth) fail('svg_too_deep', 'SVG nests too deeply', 'too_large');
    if (elements > o.limits.maxElements)
      fail('svg_too_many_elements', 'SVG has too many elements', 'too_large');
    selfClosing.push(tag.isSelfClosing);
    if (depth === 1) {
      rootLocal = tag.local;
      if (tag.local !== 'svg') fail('svg_not_svg', 'root element is not <svg>');
    }
    if (skipDepth) {
      skipDepth++;
      return;
    }
    const kind = isBadgeElement(tag);
    if (kind) {
      const verify = Object.values(tag.attributes).find((a) => a.local === 'verify')?.value ?? null;
      if (!badge && !collecting) collecting = { element: kind, text: '', verify };
      if (o.dropBadgeElements) {
        skipDepth = 1;
        return;
      }
    }
    const local = tag.local.toLowerCase();
    // An animation retargeting href could swap a safe link for javascript: after sanitizing.
    const animatesHref =
      (local === 'set' || local.startsWith('animate')) &&
      Object.values(tag.attributes).some((a) => a.local === 'attributeName' && /href$/i.test(a.value.trim()));
    if (o.sanitize && (DROPPED_ELEMENTS.has(local) || animatesHref)) {
      skipDepth = 1;
      return;
    }
    const attrs: string[] = [];
    for (const a of Object.values(tag.attributes)) {
      if (o.sanitize && !keepAttribute(a.name, a.local, a.value)) continue;
      const value = o.sanitize && a.local.toLowerCase() === 'style' ? cleanCss(a.value) : a.value;
      attrs.push(` ${a.name}="${escapeAttr(value)}"`);
    }
    inStyle = local === 'style';
    const insert = depth === 1 && o.insertAfterRoot !== undefined ? o.insertAfterRoot : '';
    if (tag.isSelfClosing && !insert) out.push(`<${tag.name}${attrs.join('')}/>`);
    else out.push(`<${tag.name}${attrs.join('')}>${insert}`);
    if (tag.isSelfClosing && insert) selfClosing[selfClosing.length - 1] = false;
  });
  parser.on('closetag', (tag) => {
    depth--;
    const wasSelfClosing = selfClosing.pop() ?? false;
    if (collecting && isBadgeElement(tag) && skipDepth <= 1) {
      const text = collecting.verify?.trim() || collecting.text.trim();
      badge = { element: collecting.element, text };
      collecting = null;
    }
    if (skipDepth) {
      skipDepth--;
      return;
    }
    inStyle = false;
    if (!wasSelfClosing) out.push(`</${tag.name}>`);
  });
  const onText = (text: string) => {
    if (collecting) collecting.text += text;
    if (skipDepth || depth === 0) return;
    out.push(escapeText(o.sanitize && inStyle ? cleanCss(text) : text));
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.write(svg).close();
  if (!rootLocal) fail('svg_empty', 'no root element');
  return { output: out.join(''), badge, rootLocal };
}

/** Removes active content (scripts, event handlers, external references) so the image is inert. */
export function sanitizeSvg(svg: string, limits: SvgLimits = DEFAULT_SVG_LIMITS): string {
  return walk(svg, { sanitize: true, dropBadgeElements: false, limits }).output;
}

/** The `openbadges:assertion` / `openbadges:credential` payload: its `verify` attribute, or its text. */
export function unbakeSvg(
  svg: string,
  limits: SvgLimits = DEFAULT_SVG_LIMITS,
): { element: 'assertion' | 'credential'; text: string } | null {
  return walk(svg, { sanitize: false, dropBadgeElements: false, limits }).badge;
}

const JWS_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;

/** Bakes a payload into an SVG, replacing an existing Open Badges element rather than adding a second. */
export function bakeSvg(svg: string, payload: string, version: '2.0' | '3.0'): string {
  const element = version === '3.0' ? 'credential' : 'assertion';
  const ns = version === '3.0' ? OB3_NS : OB2_NS;
  const trimmed = payload.trim();
  const isReference = JWS_RE.test(trimmed) || /^https?:\/\//i.test(trimmed);
  const body = isReference
    ? `<openbadges:${element} xmlns:openbadges="${ns}" verify="${escapeAttr(trimmed)}"></openbadges:${element}>`
    : `<openbadges:${element} xmlns:openbadges="${ns}"><![CDATA[${trimmed.replace(/]]>/g, ']]]]><![CDATA[>')}]]></openbadges:${element}>`;
  return walk(svg, {
    sanitize: false,
    dropBadgeElements: true,
    insertAfterRoot: body,
    limits: DEFAULT_SVG_LIMITS,
  }).output;
}
