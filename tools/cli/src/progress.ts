/** Seconds between progress lines when stderr is not a terminal (a log file, a pipe). */
const LINE_EVERY_MS = 30_000;

/**
 * Progress on stderr: a bar redrawn in place on a terminal; elsewhere (CI logs, pipes) one plain
 * line every 30 s, so a long run is never silent and a short one stays clean. stdout carries only
 * the JSON result.
 */
export class Progress {
  private readonly terminal: boolean;
  private lastDraw: number;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.terminal = stream.isTTY === true && process.env.CI === undefined;
    this.lastDraw = this.terminal ? 0 : Date.now();
  }

  update(done: number, detail = ''): void {
    const now = Date.now();
    const share = Math.min(1, done / Math.max(1, this.total));
    if (!this.terminal) {
      if (now - this.lastDraw < LINE_EVERY_MS) return;
      this.lastDraw = now;
      this.stream.write(`${this.label}: ${(share * 100).toFixed(1)}% ${detail}\n`);
      return;
    }
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const width = 30;
    const filled = Math.round(share * width);
    this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(1)}% ${detail}   `);
  }

  finish(): void {
    if (this.terminal) this.stream.write('\n');
  }
}
