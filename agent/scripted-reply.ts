// The built-in agent's "intelligence": a pure function of the user's text, so every run, restart
// and test sees byte-identical replies.

export const DEFAULT_GREETING = [
  "Hi! I'm the taskd built-in agent, a stand-in for a real coding agent.",
  '',
  "Send me a message and I'll echo it back with a short summary.",
].join('\n');

const INTERRUPT_NOTE = '_Interrupted. Tell me what to do instead._';

export function interruptedReply(partial: string | undefined): string {
  return partial ? `${partial}\n\n${INTERRUPT_NOTE}` : INTERRUPT_NOTE;
}

type TextStats = { words: number; characters: number; lines: number; topWord?: [string, number] };

function measure(text: string): TextStats {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  const counts = new Map<string, number>();
  for (const raw of words) {
    const word = raw.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
    if (word.length > 2) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  let topWord: [string, number] | undefined;
  // Map iteration is insertion order, so ties resolve to the earliest word: deterministic.
  for (const entry of counts) if (!topWord || entry[1] > topWord[1]) topWord = entry;
  return {
    words: words.length,
    characters: [...text].length,
    lines: text.split('\n').length,
    topWord,
  };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The three paragraphs of a reply; the agent streams them as growing prefixes. */
export function composeReply(input: string): string[] {
  const stats = measure(input);
  const quoted = input
    .split('\n')
    .map((line) => (line ? `> ${line}` : '>'))
    .join('\n');
  const summary = [
    `**Summary:** ${plural(stats.words, 'word')}, ${plural(stats.characters, 'character')}` +
      (stats.lines > 1 ? `, ${plural(stats.lines, 'line')}.` : '.'),
  ];
  if (stats.topWord && stats.topWord[1] > 1) {
    summary.push(`- Most repeated word: \`${stats.topWord[0]}\` (${stats.topWord[1]} times)`);
  }
  // the first line doubles as the task's state line (dashboards, `coder task list`), shown as plain
  // text: one sentence without Markdown that says what happened
  return [
    `Read your message of ${plural(stats.words, 'word')} and summarised it below.\n\n${quoted}`,
    summary.join('\n'),
    "I'm a scripted demo agent, so I haven't changed anything. What would you like next?",
  ];
}

/** Growing prefixes of the reply, ending with the full text. */
export function streamingPrefixes(paragraphs: string[]): string[] {
  return paragraphs.map((_, i) => paragraphs.slice(0, i + 1).join('\n\n'));
}
