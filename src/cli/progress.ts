// Progress of long work on stderr: a bar redrawn in place at a terminal, plain lines otherwise.

const WIDTH = 24;

export interface ProgressOpts {
  /** Redraw in place (stdout is a terminal); else print a line when the message or the tenth changes. */
  tty: boolean;
  write?: (s: string) => void;
}

export class Progress {
  readonly #tty: boolean;
  readonly #write: (s: string) => void;
  readonly #started = performance.now();
  #lastLine = "";
  #lastDraw = 0;
  #drawn = false;

  constructor(
    readonly label: string,
    opts: ProgressOpts,
  ) {
    this.#tty = opts.tty;
    this.#write = opts.write ?? ((s) => process.stderr.write(s));
  }

  /** `fraction` in 0..1 (null: unknown), `detail` what is happening now. */
  update(fraction: number | null, detail = ""): void {
    const pct = fraction === null ? "" : `${Math.round(fraction * 100)}%`;
    if (this.#tty) {
      const now = performance.now();
      if (now - this.#lastDraw < 80 && fraction !== 1) return;
      this.#lastDraw = now;
      const filled = fraction === null ? 0 : Math.round(fraction * WIDTH);
      const bar = `[${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}]`;
      this.#write(`\r\x1b[K${this.label} ${bar} ${pct.padStart(4)} ${detail}`.trimEnd());
      this.#drawn = true;
      return;
    }
    // Plain lines: one per tenth or per new message, so a log stays short.
    const tenth = fraction === null ? "" : String(Math.floor(fraction * 10));
    const key = `${tenth}|${detail.replace(/[\d.]+/g, "#")}`;
    if (key === this.#lastLine) return;
    this.#lastLine = key;
    this.#write(`${this.label}: ${[pct, detail].filter(Boolean).join(" ")}\n`);
  }

  /** Ends the bar with a final line. */
  done(message: string): void {
    const secs = ((performance.now() - this.#started) / 1000).toFixed(1);
    this.#write(`${this.#tty && this.#drawn ? "\r\x1b[K" : ""}${this.label}: ${message} (${secs} s)\n`);
  }

  /** Clears the bar without a line of its own (an error follows). */
  clear(): void {
    if (this.#tty && this.#drawn) this.#write("\r\x1b[K");
  }
}

/** Bytes per second over a sliding window of samples, for "12.0 MiB/s". */
export class Rate {
  #samples: { t: number; n: number }[] = [];

  add(n: number): number {
    const t = performance.now();
    this.#samples.push({ t, n });
    while (this.#samples.length > 2 && t - (this.#samples[0]?.t ?? t) > 3000) this.#samples.shift();
    const first = this.#samples[0];
    if (!first || t - first.t < 1) return 0;
    return ((n - first.n) * 1000) / (t - first.t);
  }
}
