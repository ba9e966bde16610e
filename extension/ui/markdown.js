// A small markdown renderer for model output. Model output is untrusted:
// it is never parsed as HTML. Every node is built with createElement and
// every piece of text is set with textContent, so "<img onerror=...>" in the
// output shows up as those characters. Links keep only http(s) and mailto
// targets; anything else (javascript:, data:, relative URLs) renders as
// plain text.
//
// Supported: ATX headings, paragraphs, unordered and ordered lists (one
// level, with continuation lines), fenced and indented code blocks,
// blockquotes, horizontal rules; inline code, **bold**, __bold__, *italic*,
// _italic_, [text](url) and bare http(s) URLs.

const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:']);

// safeHref returns the absolute URL when href is an allowed link target,
// else null.
export function safeHref(href) {
  const trimmed = String(href).trim();
  // Only absolute URLs: a relative one would resolve against the extension.
  if (!/^(https?:\/\/|mailto:)/i.test(trimmed)) return null;
  let url;
  try {
    url = new URL(trimmed);
  } catch {
    return null;
  }
  return SAFE_SCHEMES.has(url.protocol) ? url.href : null;
}

// Block parsing ------------------------------------------------------------

const RE_FENCE = /^\s{0,3}(```+|~~~+)\s*([\w+-]*)\s*$/;
const RE_HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RE_HR = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const RE_UL = /^\s{0,3}[-*+]\s+(.*)$/;
const RE_OL = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
const RE_QUOTE = /^\s{0,3}>\s?(.*)$/;
const RE_INDENTED_CODE = /^( {4}|\t)(.*)$/;

// parseBlocks turns text into a list of blocks:
// {kind:'heading', level, text} | {kind:'para', text} | {kind:'code', lang, text}
// | {kind:'list', ordered, start, items:[text]} | {kind:'quote', blocks} | {kind:'hr'}
export function parseBlocks(text) {
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  const blocks = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') {
      i++;
      continue;
    }
    let m;
    if ((m = RE_FENCE.exec(line))) {
      const fence = m[1];
      const body = [];
      i++;
      // An unclosed fence (still streaming) runs to the end.
      while (i < lines.length && !(lines[i].trim().startsWith(fence[0].repeat(3)) && lines[i].trim().replace(/[`~]/g, '') === '')) {
        body.push(lines[i]);
        i++;
      }
      i++; // the closing fence
      blocks.push({ kind: 'code', lang: m[2], text: body.join('\n') });
      continue;
    }
    if ((m = RE_HEADING.exec(line))) {
      blocks.push({ kind: 'heading', level: m[1].length, text: m[2] });
      i++;
      continue;
    }
    if (RE_HR.test(line)) {
      blocks.push({ kind: 'hr' });
      i++;
      continue;
    }
    if (RE_QUOTE.test(line)) {
      const body = [];
      while (i < lines.length && (m = RE_QUOTE.exec(lines[i]))) {
        body.push(m[1]);
        i++;
      }
      blocks.push({ kind: 'quote', blocks: parseBlocks(body.join('\n')) });
      continue;
    }
    const ul = RE_UL.exec(line);
    const ol = RE_OL.exec(line);
    if (ul || ol) {
      const ordered = !ul;
      const item = ordered ? RE_OL : RE_UL;
      const list = { kind: 'list', ordered, start: ordered ? Number(ol[1]) : 1, items: [] };
      while (i < lines.length) {
        const l = lines[i];
        if ((m = item.exec(l)) && !RE_HR.test(l)) {
          list.items.push(ordered ? m[2] : m[1]);
          i++;
        } else if (l.trim() !== '' && /^\s+\S/.test(l) && list.items.length) {
          // An indented continuation line belongs to the last item.
          list.items[list.items.length - 1] += ' ' + l.trim();
          i++;
        } else if (l.trim() === '' && i + 1 < lines.length && item.test(lines[i + 1])) {
          i++; // a loose list: blank lines between items
        } else {
          break;
        }
      }
      blocks.push(list);
      continue;
    }
    if (RE_INDENTED_CODE.test(line) && (blocks.length === 0 || blocks[blocks.length - 1].kind !== 'para')) {
      const body = [];
      while (i < lines.length && (m = RE_INDENTED_CODE.exec(lines[i]) || (lines[i].trim() === '' && [null, null, '']))) {
        body.push(m[2]);
        i++;
      }
      while (body.length && body[body.length - 1] === '') body.pop();
      blocks.push({ kind: 'code', lang: '', text: body.join('\n') });
      continue;
    }
    const para = [];
    while (
      i < lines.length &&
      lines[i].trim() !== '' &&
      !RE_FENCE.test(lines[i]) &&
      !RE_HEADING.test(lines[i]) &&
      !RE_HR.test(lines[i]) &&
      !RE_QUOTE.test(lines[i]) &&
      !RE_UL.test(lines[i]) &&
      !RE_OL.test(lines[i])
    ) {
      para.push(lines[i].trim());
      i++;
    }
    blocks.push({ kind: 'para', text: para.join('\n') });
  }
  return blocks;
}

// Inline parsing -----------------------------------------------------------

// parseInline turns a line of text into a list of inline nodes:
// {kind:'text', text} | {kind:'code', text} | {kind:'strong'|'em', children}
// | {kind:'link', href, children} | {kind:'br'}
export function parseInline(text) {
  const out = [];
  let buf = '';
  const flush = () => {
    if (buf) out.push({ kind: 'text', text: buf });
    buf = '';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && /[\\`*_[\]()#+\-.!>~]/.test(text[i + 1])) {
      buf += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '\n') {
      flush();
      out.push({ kind: 'br' });
      i++;
      continue;
    }
    if (c === '`') {
      const run = /^`+/.exec(text.slice(i))[0];
      const end = text.indexOf(run, i + run.length);
      if (end > 0) {
        flush();
        out.push({ kind: 'code', text: text.slice(i + run.length, end).trim() || text.slice(i + run.length, end) });
        i = end + run.length;
        continue;
      }
    }
    if (c === '*' || c === '_') {
      const double = text[i + 1] === c;
      const marker = double ? c + c : c;
      const start = i + marker.length;
      // Emphasis needs text right after the opener (not a space) and, for
      // underscores, no word character before it (snake_case stays text).
      const opens = start < text.length && !/\s/.test(text[start]) && !(c === '_' && i > 0 && /\w/.test(text[i - 1]));
      if (opens) {
        const end = findCloser(text, marker, start);
        if (end > start) {
          flush();
          out.push({ kind: double ? 'strong' : 'em', children: parseInline(text.slice(start, end)) });
          i = end + marker.length;
          continue;
        }
      }
    }
    if (c === '[') {
      const link = parseLink(text, i);
      if (link) {
        flush();
        const href = safeHref(link.href);
        if (href) {
          out.push({ kind: 'link', href, children: parseInline(link.label) });
        } else {
          // An unsafe target: show the label only, as text.
          out.push(...parseInline(link.label));
        }
        i = link.end;
        continue;
      }
    }
    if ((c === 'h' || c === 'H') && /^https?:\/\//i.test(text.slice(i, i + 8)) && (i === 0 || /[\s(]/.test(text[i - 1]))) {
      const m = /^https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/i.exec(text.slice(i));
      const href = m && safeHref(m[0]);
      if (href) {
        flush();
        out.push({ kind: 'link', href, children: [{ kind: 'text', text: m[0] }] });
        i += m[0].length;
        continue;
      }
    }
    buf += c;
    i++;
  }
  flush();
  return out;
}

function findCloser(text, marker, from) {
  for (let j = from; j < text.length; j++) {
    if (text[j] === '\\') {
      j++;
      continue;
    }
    if (text[j] === '`') {
      const close = text.indexOf('`', j + 1);
      if (close > 0) j = close;
      continue;
    }
    if (text.startsWith(marker, j) && !/\s/.test(text[j - 1])) {
      // "**" must not close a single "*" opener and vice versa.
      if (marker.length === 1 && text[j + 1] === marker) {
        j++;
        continue;
      }
      if (marker[0] === '_' && j + marker.length < text.length && /\w/.test(text[j + marker.length])) continue;
      return j;
    }
  }
  return -1;
}

// parseLink reads [label](href) at text[i] === '['.
function parseLink(text, i) {
  let depth = 0;
  let j = i;
  for (; j < text.length; j++) {
    if (text[j] === '\\') {
      j++;
      continue;
    }
    if (text[j] === '[') depth++;
    if (text[j] === ']' && --depth === 0) break;
  }
  if (j >= text.length || text[j + 1] !== '(') return null;
  const close = text.indexOf(')', j + 2);
  if (close < 0) return null;
  const href = text.slice(j + 2, close).trim().split(/\s+/)[0] || '';
  return { label: text.slice(i + 1, j), href, end: close + 1 };
}

// Rendering ----------------------------------------------------------------

function inlineNodes(doc, nodes) {
  const frag = doc.createDocumentFragment();
  for (const n of nodes) {
    switch (n.kind) {
      case 'text':
        frag.append(doc.createTextNode(n.text));
        break;
      case 'br':
        frag.append(doc.createElement('br'));
        break;
      case 'code': {
        const el = doc.createElement('code');
        el.textContent = n.text;
        frag.append(el);
        break;
      }
      case 'strong':
      case 'em': {
        const el = doc.createElement(n.kind);
        el.append(inlineNodes(doc, n.children));
        frag.append(el);
        break;
      }
      case 'link': {
        const a = doc.createElement('a');
        a.href = n.href;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        a.append(inlineNodes(doc, n.children));
        frag.append(a);
        break;
      }
    }
  }
  return frag;
}

// headingLevels maps the output's heading levels onto consecutive HTML
// levels from base: model headings sit inside the page's own outline, so
// the output's top heading never competes with the page title and no level
// is skipped (screen reader users navigate by them).
function headingLevels(blocks, base) {
  const used = new Set();
  const walk = (bs) => bs.forEach((b) => (b.kind === 'heading' ? used.add(b.level) : b.kind === 'quote' && walk(b.blocks)));
  walk(blocks);
  const map = new Map();
  [...used].sort((a, b) => a - b).forEach((lv, i) => map.set(lv, Math.min(6, base + i)));
  return map;
}

function blockNodes(doc, blocks, levels) {
  const frag = doc.createDocumentFragment();
  for (const b of blocks) {
    let el;
    switch (b.kind) {
      case 'heading':
        el = doc.createElement('h' + levels.get(b.level));
        el.append(inlineNodes(doc, parseInline(b.text)));
        break;
      case 'para':
        el = doc.createElement('p');
        el.append(inlineNodes(doc, parseInline(b.text)));
        break;
      case 'code': {
        el = doc.createElement('pre');
        const code = doc.createElement('code');
        code.textContent = b.text;
        el.append(code);
        break;
      }
      case 'list':
        el = doc.createElement(b.ordered ? 'ol' : 'ul');
        if (b.ordered && b.start !== 1) el.start = b.start;
        for (const item of b.items) {
          const li = doc.createElement('li');
          li.append(inlineNodes(doc, parseInline(item)));
          el.append(li);
        }
        break;
      case 'quote':
        el = doc.createElement('blockquote');
        el.append(blockNodes(doc, b.blocks, levels));
        break;
      case 'hr':
        el = doc.createElement('hr');
        break;
    }
    frag.append(el);
  }
  return frag;
}

// renderMarkdown replaces the children of container with text rendered as
// markdown. The output's headings start at the container's
// data-heading-base level (default 3).
export function renderMarkdown(container, text) {
  const blocks = parseBlocks(text);
  const base = Number(container.dataset.headingBase) || 3;
  container.replaceChildren(blockNodes(container.ownerDocument, blocks, headingLevels(blocks, base)));
}

// renderPlain replaces the children of container with text as paragraphs
// (blank lines separate them; single newlines become line breaks).
export function renderPlain(container, text) {
  const doc = container.ownerDocument;
  const frag = doc.createDocumentFragment();
  for (const para of String(text).replace(/\r\n?/g, '\n').split(/\n{2,}/)) {
    if (!para.trim()) continue;
    const p = doc.createElement('p');
    para.split('\n').forEach((line, k) => {
      if (k) p.append(doc.createElement('br'));
      p.append(doc.createTextNode(line));
    });
    frag.append(p);
  }
  container.replaceChildren(frag);
}

// render picks the renderer for a summary format ("markdown" or
// "plain-text").
export function render(container, text, format = 'markdown') {
  if (format === 'plain-text') renderPlain(container, text);
  else renderMarkdown(container, text);
}
