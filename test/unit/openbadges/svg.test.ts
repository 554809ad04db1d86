import { describe, expect, it } from 'vitest';
import {
  bakeSvg,
  OpenBadgesInputError,
  sanitizeSvg,
  unbakeSvg,
} from '../../../src/modules/openbadges/index.ts';
import { SIMPLE_SVG } from './helpers.ts';

function inputError(fn: () => unknown): OpenBadgesInputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OpenBadgesInputError);
    return err as OpenBadgesInputError;
  }
  throw new Error('expected an OpenBadgesInputError');
}

describe('unbakeSvg', () => {
  it('reads the verify attribute', () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org"><openbadges:assertion verify="https://x.example/a/1"/></svg>`;
    expect(unbakeSvg(svg)).toEqual({ element: 'assertion', text: 'https://x.example/a/1' });
  });

  it('reads JSON text and CDATA, and the 3.0 credential element', () => {
    const text = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org"><openbadges:assertion>{"a":1}</openbadges:assertion></svg>`;
    expect(unbakeSvg(text)?.text).toBe('{"a":1}');
    const cdata = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential><![CDATA[ {"b":"<2>"} ]]></openbadges:credential></svg>`;
    expect(unbakeSvg(cdata)).toEqual({ element: 'credential', text: '{"b":"<2>"}' });
  });

  it('returns null without a payload', () => {
    expect(unbakeSvg(SIMPLE_SVG)).toBeNull();
  });

  it('accepts a bare DOCTYPE but refuses one with an internal subset (entities)', () => {
    const bare = `<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">${SIMPLE_SVG}`;
    expect(sanitizeSvg(bare)).not.toContain('DOCTYPE');
    const xxe = `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>`;
    expect(inputError(() => unbakeSvg(xxe)).code).toBe('svg_doctype_refused');
    const billion = `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><svg xmlns="http://www.w3.org/2000/svg">&lol2;</svg>`;
    expect(inputError(() => sanitizeSvg(billion)).kind).toBe('malformed');
  });

  it('refuses malformed XML, a non-SVG root, and excessive nesting', () => {
    expect(inputError(() => unbakeSvg('<svg xmlns="http://www.w3.org/2000/svg"><g></svg>')).code).toBe(
      'svg_malformed',
    );
    expect(inputError(() => unbakeSvg('<html/>')).code).toBe('svg_not_svg');
    const deep = `<svg xmlns="http://www.w3.org/2000/svg">${'<g>'.repeat(1000)}${'</g>'.repeat(1000)}</svg>`;
    expect(inputError(() => sanitizeSvg(deep)).kind).toBe('too_large');
  });
});

describe('sanitizeSvg', () => {
  const hostile = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)">
<script>alert(2)</script>
<foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><iframe src="https://evil.example"/></body></foreignObject>
<image href="https://evil.example/track.png" width="1" height="1"/>
<image xlink:href="data:image/png;base64,iVBORw0KGgo=" width="1" height="1"/>
<a xlink:href="javascript:alert(3)"><text>x</text></a>
<use href="#shape"/>
<rect id="shape" style="fill: url(https://evil.example/x.svg#p)" fill="url(#grad)" onclick="alert(4)"/>
<style>@import url(https://evil.example/a.css); rect { background: url('https://evil.example/b.png') } g { fill: url(#ok) }</style>
<set attributeName="href" to="javascript:alert(5)"/>
</svg>`;
  const clean = sanitizeSvg(hostile);

  it('drops scripts, foreignObject and event handlers', () => {
    expect(clean).not.toMatch(/<script|alert\(2\)|foreignObject|iframe|onload|onclick/i);
  });

  it('drops external references but keeps fragments and data images', () => {
    expect(clean).not.toContain('evil.example');
    expect(clean).not.toContain('javascript:');
    expect(clean).toContain('href="#shape"');
    expect(clean).toContain('data:image/png;base64');
    expect(clean).toContain('fill="url(#grad)"');
    expect(clean).toContain('url(#ok)');
    expect(clean).not.toContain('<set');
  });

  it('produces well-formed SVG that sanitizes to itself', () => {
    expect(sanitizeSvg(clean)).toBe(clean);
  });
});

describe('sanitizeSvg: only SVG survives', () => {
  it('refuses a root in the XHTML namespace (meta refresh, form and img would render as a page)', () => {
    const page = `<svg xmlns="http://www.w3.org/1999/xhtml"><meta http-equiv="refresh" content="0;url=https://evil.example/"/><form action="https://evil.example/login"><input name="password"/></form><img src="https://evil.example/logo.png"/></svg>`;
    expect(inputError(() => sanitizeSvg(page)).code).toBe('svg_not_svg');
    expect(inputError(() => sanitizeSvg('<svg><rect width="1" height="1"/></svg>')).code).toBe('svg_not_svg');
  });

  it('drops other namespaces inside an SVG root, default or prefixed, with their content', () => {
    const mixed = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:ink="http://www.inkscape.org/namespaces/inkscape" ink:version="1.0">
<g xmlns="http://www.w3.org/1999/xhtml"><meta http-equiv="refresh" content="0;url=https://evil.example/"/></g>
<h:form action="https://evil.example/"><h:input/></h:form>
<h:img src="https://evil.example/x.png"/>
<switch><foreignObject><p>hi</p></foreignObject><rect width="2" height="2"/></switch>
<circle cx="5" cy="5" r="4" fill="blue" onmouseover="alert(1)" data-x="1"/>
</svg>`;
    const clean = sanitizeSvg(mixed);
    expect(clean).not.toMatch(/meta|refresh|form|input|img|xhtml|inkscape|foreignObject|onmouseover|data-x/i);
    expect(clean).toContain('<circle cx="5" cy="5" r="4" fill="blue"/>');
    expect(clean).toContain('<switch><rect width="2" height="2"/></switch>');
    expect(sanitizeSvg(clean)).toBe(clean);
  });

  it('keeps the drawing vocabulary and the baked payload', () => {
    const art = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:openbadges="http://openbadges.org" viewBox="0 0 10 10"><openbadges:assertion verify="https://x.example/a/1"/><defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient><filter id="f"><feGaussianBlur stdDeviation="1"/></filter></defs><path d="M0 0L10 10" stroke="url(#g)" filter="url(#f)"/><text x="1" y="9" font-family="serif">Hi</text><use xlink:href="#g"/></svg>`;
    expect(sanitizeSvg(art)).toBe(art);
  });
});

describe('bakeSvg', () => {
  it('round-trips JSON (CDATA), a URL and a JWS', () => {
    const json = '{"id":"urn:x","n":"a]]>b"}';
    expect(unbakeSvg(bakeSvg(SIMPLE_SVG, json, '3.0'))).toEqual({ element: 'credential', text: json });
    expect(unbakeSvg(bakeSvg(SIMPLE_SVG, 'https://x.example/a/1', '2.0'))).toEqual({
      element: 'assertion',
      text: 'https://x.example/a/1',
    });
    expect(unbakeSvg(bakeSvg('<svg xmlns="http://www.w3.org/2000/svg"/>', 'aaa.bbb.ccc', '2.0'))?.text).toBe(
      'aaa.bbb.ccc',
    );
  });

  it('replaces an existing payload', () => {
    const twice = bakeSvg(
      bakeSvg(SIMPLE_SVG, 'https://x.example/old', '2.0'),
      'https://x.example/new',
      '2.0',
    );
    expect(unbakeSvg(twice)?.text).toBe('https://x.example/new');
    expect(twice.match(/openbadges:assertion/g)?.length).toBe(2);
  });
});
