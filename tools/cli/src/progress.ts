/**
 * A progress bar on stderr when it is a terminal; silent otherwise (CI logs and pipes stay clean,
 * and stdout carries only the JSON result).
 */
export class Progress {
  private readonly enabled: boolean;
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = stream.isTTY === true && process.env.CI === undefined;
  }

  update(done: number, detail = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const width = 30;
    const share = Math.min(1, done / Math.max(1, this.total));
    const filled = Math.round(share * width);
    process.stderr.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(1)}% ${detail}   `);
  }

  finish(): void {
    if (this.enabled) process.stderr.write('\n');
  }
}
