// Progress of long operations on stderr, so stdout stays clean for scripts: an animated spinner
// with the current phase when stderr is a terminal, otherwise one plain line per phase change.

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 90;

const active = new Set<Progress>();

export class Progress {
  private text = '';
  private frame = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = stream.isTTY === true;
  }

  /** Shows (or changes) the current phase. */
  set(text: string): void {
    if (text === this.text) return;
    this.text = text;
    active.add(this);
    if (!this.tty) {
      this.stream.write(`${text}\n`);
      return;
    }
    if (!this.timer) {
      this.stream.write('\x1b[?25l');
      this.timer = setInterval(() => this.render(), FRAME_MS);
    }
    this.render();
  }

  private render(): void {
    this.frame = (this.frame + 1) % FRAMES.length;
    this.stream.write(`\r\x1b[2K${FRAMES[this.frame]} ${this.text}`);
  }

  /** Stops the spinner and clears its line (plain-line output has nothing to clear). */
  stop(): void {
    active.delete(this);
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
      this.stream.write('\r\x1b[2K\x1b[?25h');
    }
    this.text = '';
  }
}

/** Clears any running spinner (on Ctrl-C), leaving the terminal as it was. */
export function stopAllProgress(): void {
  for (const p of [...active]) p.stop();
}
