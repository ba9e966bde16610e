// StreamView shows streamed model output: it keeps the text, renders it
// (sanitized markdown or plain text) at most every 50 ms while tokens
// arrive, and marks the region busy meanwhile so screen readers announce
// the finished answer once instead of every token.

import { render } from './markdown.js';

export class StreamView {
  constructor(container, format = 'markdown') {
    this.container = container;
    this.format = format;
    this.text = '';
    this.timer = 0;
  }

  start(format = this.format) {
    this.format = format;
    this.text = '';
    this.container.replaceChildren();
    this.container.setAttribute('aria-busy', 'true');
  }

  append(delta) {
    this.text += delta;
    // A timer, not requestAnimationFrame: background tabs get no frames.
    if (!this.timer) this.timer = setTimeout(() => this.flush(), 50);
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = 0;
    render(this.container, this.text, this.format);
    this.container.dataset.text = this.text;
  }

  finish() {
    this.flush();
    this.container.setAttribute('aria-busy', 'false');
  }
}
