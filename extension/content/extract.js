// Injected on demand into the user's tab (chrome.scripting.executeScript,
// after vendor/Readability.js) to read the page. It runs in the extension's
// isolated world, listens to nothing and keeps no state: the page's own
// scripts cannot talk to it. Its value, the last expression, goes back to
// the extension page that injected it:
//   {title, url, language, text, source: 'readability'|'body', selection}
(() => {
  // Block-level tags end a paragraph; their text is separated by blank lines.
  const BLOCK = new Set([
    'ADDRESS', 'ARTICLE', 'ASIDE', 'BLOCKQUOTE', 'DD', 'DIV', 'DL', 'DT', 'FIGCAPTION', 'FIGURE', 'FOOTER',
    'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'HEADER', 'HR', 'LI', 'MAIN', 'NAV', 'OL', 'P', 'PRE', 'SECTION',
    'TABLE', 'TR', 'UL', 'BR',
  ]);
  const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'SVG', 'CANVAS', 'IFRAME']);

  // textOf walks a node tree and returns its text with paragraph breaks,
  // whitespace collapsed inside paragraphs.
  function textOf(root) {
    const parts = [];
    let line = '';
    const flush = () => {
      const t = line.replace(/\s+/g, ' ').trim();
      if (t) parts.push(t);
      line = '';
    };
    const walk = (node) => {
      if (node.nodeType === 3) {
        line += node.nodeValue;
        return;
      }
      if (node.nodeType !== 1 || SKIP.has(node.tagName.toUpperCase())) return;
      const block = BLOCK.has(node.tagName.toUpperCase());
      if (block) flush();
      for (const c of node.childNodes) walk(c);
      if (block) flush();
    };
    walk(root);
    flush();
    return parts.join('\n\n');
  }

  let article = null;
  try {
    if (typeof Readability === 'function') {
      // Readability changes the document it reads: give it a copy.
      article = new Readability(document.cloneNode(true), { charThreshold: 200 }).parse();
    }
  } catch (err) {
    article = null;
  }
  let text = '';
  let source = 'body';
  if (article && article.content) {
    // Parse Readability's HTML in an inert document (no scripts run, no
    // images load) only to recover the paragraph structure.
    const doc = new DOMParser().parseFromString(article.content, 'text/html');
    text = textOf(doc.body);
    source = 'readability';
  }
  if (!text && document.body) {
    text = textOf(document.body);
    source = 'body';
  }
  const selection = String(window.getSelection ? window.getSelection() : '').trim();
  return {
    title: (article && article.title) || document.title || '',
    url: location.href,
    language: document.documentElement.lang || (article && article.lang) || '',
    text,
    source,
    selection,
  };
})();
