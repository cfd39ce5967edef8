// A deliberately tiny Markdown renderer for conversation messages: fenced code blocks, inline code,
// bold, italics, bullet and numbered lists, block quotes, headings (as bold lines) and paragraphs.
// It builds DOM nodes and only ever inserts text as text nodes, so message content can never become
// markup; anything it does not understand is shown literally.

const FENCE = /^\s{0,3}(```+|~~~+)\s*([\w.+-]*)\s*$/;
const QUOTE = /^\s{0,3}>\s?/;
const ITEM = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;
const HEADING = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/;

function el(tag, className) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
}

// earliest of: **bold**, __bold__, *italic*, _italic_ (underscores only at word edges)
const EMPHASIS = /\*\*(?=\S)([\s\S]*?\S)\*\*|__(?=\S)([\s\S]*?\S)__|\*(?=[^\s*])([\s\S]*?[^\s*])\*|(?<![\p{L}\p{N}_])_(?=[^\s_])([\s\S]*?[^\s_])_(?![\p{L}\p{N}_])/u;

function emphasis(text, out) {
  let rest = text;
  while (rest) {
    const m = EMPHASIS.exec(rest);
    if (!m) break;
    if (m.index > 0) out.push(document.createTextNode(rest.slice(0, m.index)));
    const bold = m[1] ?? m[2];
    const node = el(bold !== undefined ? 'strong' : 'em');
    node.append(...emphasis(bold ?? m[3] ?? m[4], []));
    out.push(node);
    rest = rest.slice(m.index + m[0].length);
  }
  if (rest) out.push(document.createTextNode(rest));
  return out;
}

const CODE_SPAN = /(`+)([\s\S]*?[^`])\1(?!`)/;

/** Inline content of one line: code spans first (their content is literal), emphasis elsewhere. */
export function renderInline(text) {
  const out = [];
  let rest = text;
  while (rest) {
    const m = CODE_SPAN.exec(rest);
    if (!m) break;
    emphasis(rest.slice(0, m.index), out);
    const code = el('code');
    code.textContent = m[2].length > 2 && m[2].startsWith(' ') && m[2].endsWith(' ') ? m[2].slice(1, -1) : m[2];
    out.push(code);
    rest = rest.slice(m.index + m[0].length);
  }
  if (rest) emphasis(rest, out);
  return out;
}

/**
 * A task's one-line state (the first line of the agent's last message, or of the prompt) read as a
 * sentence: a heading, quote or list marker is dropped, inline Markdown is rendered rather than shown
 * as asterisks, and a closing colon (it announces text the line does not show) becomes an ellipsis.
 */
export function renderStateLine(text) {
  let line = text.trim().replace(HEADING, '$1').replace(QUOTE, '');
  line = ITEM.exec(line)?.[2] ?? line;
  return renderInline(line.replace(/\s*:$/, '…'));
}

/** Lines joined by line breaks, each rendered inline. */
function inlineLines(parent, lines) {
  lines.forEach((line, i) => {
    if (i > 0) parent.append(el('br'));
    parent.append(...renderInline(line));
  });
  return parent;
}

const startsBlock = (line) => FENCE.test(line) || QUOTE.test(line) || ITEM.test(line) || HEADING.test(line);

function renderBlocks(lines, parent) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const body = [];
      i++;
      // an unclosed fence (a message still streaming) runs to the end
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++;
      const pre = el('pre');
      const code = el('code');
      if (fence[2]) pre.dataset.lang = fence[2];
      code.textContent = body.join('\n');
      pre.append(code);
      parent.append(pre);
      continue;
    }
    if (QUOTE.test(line)) {
      const inner = [];
      while (i < lines.length && QUOTE.test(lines[i])) inner.push(lines[i++].replace(QUOTE, ''));
      parent.append(renderBlocks(inner, el('blockquote')));
      continue;
    }
    const item = ITEM.exec(line);
    if (item) {
      const ordered = /\d/.test(item[1]);
      const list = el(ordered ? 'ol' : 'ul');
      if (ordered && Number.parseInt(item[1], 10) !== 1) list.start = Number.parseInt(item[1], 10);
      while (i < lines.length) {
        const m = ITEM.exec(lines[i]);
        if (!m || /\d/.test(m[1]) !== ordered) break;
        const text = [m[2]];
        i++;
        // indented continuation lines belong to the item
        while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !ITEM.test(lines[i])) text.push(lines[i++].trim());
        list.append(inlineLines(el('li'), text));
      }
      parent.append(list);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const p = el('p', 'md-heading');
      const strong = el('strong');
      strong.append(...renderInline(heading[1]));
      p.append(strong);
      parent.append(p);
      i++;
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() !== '' && (para.length === 0 || !startsBlock(lines[i]))) para.push(lines[i++]);
    parent.append(inlineLines(el('p'), para));
  }
  return parent;
}

/** The message as a DocumentFragment. */
export function renderMarkdown(text) {
  return renderBlocks(String(text).replace(/\r\n?/g, '\n').split('\n'), document.createDocumentFragment());
}
