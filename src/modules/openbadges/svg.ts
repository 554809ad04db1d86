import { type SaxesAttributeNS, SaxesParser, type SaxesTagNS } from 'saxes';
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

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
/** Namespaces a sanitized image may declare: SVG itself, xlink for href, and the badge's own. */
const DECLARABLE_NS = new Set([SVG_NS, XLINK_NS, OB2_NS, OB3_NS]);

const words = (s: string) => new Set(s.trim().split(/\s+/));

/**
 * The SVG elements a badge picture is drawn with. Everything else is dropped with its content:
 * other namespaces (an XHTML root or subtree would carry meta refresh, forms and images),
 * scripts, foreignObject, media and elements of no drawing use.
 */
const SVG_ELEMENTS = words(`
  svg g defs desc title metadata symbol use switch a view image style
  path rect circle ellipse line polyline polygon text tspan textPath
  linearGradient radialGradient stop pattern clipPath mask marker filter
  feBlend feColorMatrix feComponentTransfer feComposite feConvolveMatrix feDiffuseLighting
  feDisplacementMap feDistantLight feDropShadow feFlood feFuncA feFuncB feFuncG feFuncR
  feGaussianBlur feImage feMerge feMergeNode feMorphology feOffset fePointLight
  feSpecularLighting feSpotLight feTile feTurbulence
  animate animateMotion animateTransform mpath
`);

/** Attributes without a namespace that SVG defines for drawing; event handlers are not among them. */
const SVG_ATTRIBUTES = words(`
  id class style lang tabindex x y x1 y1 x2 y2 cx cy r rx ry width height d points pathLength
  viewBox preserveAspectRatio transform version baseProfile href fr fx fy
  fill fill-opacity fill-rule stroke stroke-width stroke-opacity stroke-linecap stroke-linejoin
  stroke-miterlimit stroke-dasharray stroke-dashoffset opacity color color-interpolation
  color-interpolation-filters color-rendering display visibility overflow clip clip-path clip-rule
  mask filter marker-start marker-mid marker-end paint-order vector-effect shape-rendering
  image-rendering text-rendering isolation mix-blend-mode
  font-family font-size font-size-adjust font-stretch font-style font-variant font-weight
  text-anchor text-decoration dominant-baseline alignment-baseline baseline-shift letter-spacing
  word-spacing writing-mode direction unicode-bidi dx dy rotate textLength lengthAdjust
  startOffset method spacing side
  offset stop-color stop-opacity gradientUnits gradientTransform spreadMethod
  patternUnits patternContentUnits patternTransform clipPathUnits maskUnits maskContentUnits
  markerUnits markerWidth markerHeight refX refY orient
  filterUnits primitiveUnits in in2 result mode type values operator k1 k2 k3 k4 stdDeviation
  edgeMode kernelMatrix order divisor bias targetX targetY preserveAlpha surfaceScale
  diffuseConstant specularConstant specularExponent kernelUnitLength scale xChannelSelector
  yChannelSelector flood-color flood-opacity lighting-color radius baseFrequency numOctaves seed
  stitchTiles azimuth elevation pointsAtX pointsAtY pointsAtZ limitingConeAngle z
  tableValues slope intercept amplitude exponent
  attributeName attributeType begin dur end min max restart repeatCount repeatDur fill
  calcMode keyTimes keySplines keyPoints from to by additive accumulate path
  requiredExtensions systemLanguage media
`);

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

function safeValue(local: string, value: string): boolean {
  if (local.toLowerCase() === 'href') {
    const v = value.trim();
    return v.startsWith('#') || SAFE_DATA_IMAGE.test(v);
  }
  if (/javascript:|vbscript:|data:text\/html/i.test(value)) return false;
  EXTERNAL_URL.lastIndex = 0;
  return !EXTERNAL_URL.test(value);
}

/** Whether a sanitized element keeps this attribute: allow-listed names, safe values. */
function keepAttribute(a: SaxesAttributeNS, onBadgeElement: boolean): boolean {
  if (a.prefix === 'xmlns' || a.name === 'xmlns') return DECLARABLE_NS.has(a.value.trim());
  if (a.local.toLowerCase().startsWith('on')) return false;
  if (onBadgeElement) return a.uri === '' && safeValue(a.local, a.value);
  if (a.uri === XLINK_NS) return (a.local === 'href' || a.local === 'title') && safeValue(a.local, a.value);
  if (a.uri === XML_NS) return a.local === 'space' || a.local === 'lang';
  if (a.uri !== '' && a.uri !== XMLNS_NS) return false;
  return SVG_ATTRIBUTES.has(a.local) && safeValue(a.local, a.value);
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
    if (o.sanitize && !kind) {
      if (depth === 1 && tag.uri !== SVG_NS) {
        fail('svg_not_svg', 'root element is not <svg> in the SVG namespace');
      }
      if (tag.uri !== SVG_NS || !SVG_ELEMENTS.has(tag.local) || animatesHref) {
        skipDepth = 1;
        return;
      }
    }
    const attrs: string[] = [];
    for (const a of Object.values(tag.attributes)) {
      if (o.sanitize && !keepAttribute(a, kind !== null)) continue;
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

/**
 * Keeps only SVG: elements and attributes of the SVG namespace on an allow-list (and the Open
 * Badges payload element), no scripts, event handlers, foreignObject or other namespaces, no
 * external references. A root that is not SVG's own <svg> is refused.
 */
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
