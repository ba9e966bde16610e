// Functions injected into the user's tab with
// chrome.scripting.executeScript({func, args}). Chrome serializes each
// function's source, so each must be self-contained (no imports, no outer
// variables). They run once in the extension's isolated world and leave no
// listener behind.

// readSelection returns the selected text and whether it sits in an
// editable field: {text, editable}.
export function readSelection() {
  const active = document.activeElement;
  if (active && (active.tagName === 'TEXTAREA' || (active.tagName === 'INPUT' && /^(text|search|url|email|tel)?$/i.test(active.type)))) {
    const { selectionStart: s, selectionEnd: e, value } = active;
    if (s !== null && e !== null && e > s) return { text: value.slice(s, e), editable: !active.readOnly && !active.disabled };
  }
  const sel = window.getSelection();
  const text = sel ? String(sel) : '';
  let node = sel && sel.rangeCount ? sel.getRangeAt(0).commonAncestorContainer : null;
  if (node && node.nodeType !== 1) node = node.parentElement;
  return { text, editable: !!(node && node.isContentEditable) };
}

// replaceSelection replaces the selected text original with replacement,
// in an input, a textarea or a contenteditable element, and tells the page
// (input event) as typing would. It returns {ok, reason}.
export function replaceSelection(original, replacement) {
  const norm = (s) => String(s).replace(/\s+/g, ' ').trim();
  const fire = (target) => target.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertReplacementText', data: replacement }));

  // Text fields: the selection survives focus moving to the side panel.
  const fields = [document.activeElement, ...document.querySelectorAll('textarea, input')];
  for (const f of fields) {
    if (!f || !(f.tagName === 'TEXTAREA' || f.tagName === 'INPUT') || f.readOnly || f.disabled) continue;
    let s = f.selectionStart;
    let e = f.selectionEnd;
    if (s === null || e === null) continue;
    if (e <= s || norm(f.value.slice(s, e)) !== norm(original)) {
      // The selection moved: fall back to the original text, when unique.
      const at = f.value.indexOf(original);
      if (at < 0 || f.value.indexOf(original, at + 1) >= 0) continue;
      s = at;
      e = at + original.length;
    }
    f.focus();
    f.setSelectionRange(s, e);
    // execCommand keeps the page's undo history; setRangeText is the fallback.
    if (!document.execCommand('insertText', false, replacement) || f.value.slice(s, s + replacement.length) !== replacement) {
      f.setRangeText(replacement, s, e, 'end');
      fire(f);
    }
    return { ok: true };
  }

  // contenteditable: the document's selection.
  const sel = window.getSelection();
  if (sel && sel.rangeCount) {
    const range = sel.getRangeAt(0);
    let node = range.commonAncestorContainer;
    if (node.nodeType !== 1) node = node.parentElement;
    const host = node && node.closest('[contenteditable]:not([contenteditable="false"])');
    if (host && host.isContentEditable && norm(String(sel)) === norm(original)) {
      host.focus();
      sel.removeAllRanges();
      sel.addRange(range);
      if (!document.execCommand('insertText', false, replacement)) {
        range.deleteContents();
        range.insertNode(document.createTextNode(replacement));
        fire(host);
      }
      return { ok: true };
    }
  }
  return { ok: false, reason: 'The selected text is no longer selected in an editable field.' };
}
