// Debian's headless Chromium driven by puppeteer-core for the dashboard test: a throwaway profile, every request and console error recorded.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

export const CHROMIUM = "/usr/bin/chromium";

/** True when Chromium is installed (install.sh --with-test-deps); in CI its absence is a failure, never a skip. */
export function chromiumReady(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const reason = `${CHROMIUM} is missing (apt-get install chromium, or ./install.sh --with-test-deps)`;
  if (process.env.CI === "true") throw new Error(`dashboard test prerequisites missing in CI: ${reason}`);
  console.warn(`skipping the dashboard test: ${reason}`);
  return false;
}

export interface Watched {
  page: Page;
  /** Every URL the page asked for, in order. */
  requests: string[];
  /** Requests to anywhere but `origin`, refused before they left. */
  refused: string[];
  /** Console errors and uncaught exceptions. */
  errors: string[];
}

export class HeadlessChromium {
  readonly #profile = mkdtempSync(join(tmpdir(), "berth-chromium-"));
  #browser: Browser | null = null;

  async start(): Promise<void> {
    this.#browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: this.#profile,
      // Root cannot use Chromium's sandbox; this is a test browser on loopback only.
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
      defaultViewport: { width: 1280, height: 900 },
    });
  }

  /** A fresh page whose every request is checked: same origin continues, anything else is refused and recorded. */
  async page(origin: string): Promise<Watched> {
    if (!this.#browser) throw new Error("the browser is not started");
    const context = await this.#browser.createBrowserContext();
    const page = await context.newPage();
    const watched: Watched = { page, requests: [], refused: [], errors: [] };
    await page.setRequestInterception(true);
    page.on("request", (r) => {
      const url = r.url();
      watched.requests.push(url);
      if (new URL(url).origin === origin || url.startsWith("data:")) void r.continue();
      else {
        watched.refused.push(url);
        void r.abort("blockedbyclient");
      }
    });
    page.on("console", (m) => {
      if (m.type() === "error") watched.errors.push(`console: ${m.text()} ${m.location().url ?? ""}`);
    });
    page.on("pageerror", (e) =>
      watched.errors.push(`page error: ${e instanceof Error ? e.message : String(e)}`),
    );
    return watched;
  }

  /** The browser's own PNG decoder, on a blank page: how many distinct colours, and the share of the commonest. */
  async colours(png: Uint8Array): Promise<{ distinct: number; commonest: number }> {
    if (!this.#browser) throw new Error("the browser is not started");
    const blank = await this.#browser.newPage();
    try {
      // Runs in the page (DOM types are not this project's): the screenshot decoded and its pixels counted.
      const count = `(async () => {
        const bytes = Uint8Array.from(atob(${JSON.stringify(Buffer.from(png).toString("base64"))}), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const ctx = canvas.getContext("2d");
        ctx.drawImage(bitmap, 0, 0);
        const px = new Uint32Array(ctx.getImageData(0, 0, bitmap.width, bitmap.height).data.buffer);
        const counts = new Map();
        for (const p of px) counts.set(p, (counts.get(p) ?? 0) + 1);
        return { distinct: counts.size, commonest: Math.max(...counts.values()) / px.length };
      })()`;
      return (await blank.evaluate(count)) as { distinct: number; commonest: number };
    } finally {
      await blank.close();
    }
  }

  /** Closes the browser by its handle (killing its process if it will not close) and removes the profile. */
  async stop(): Promise<void> {
    const browser = this.#browser;
    this.#browser = null;
    try {
      if (browser) {
        const closed = browser.close().then(() => true);
        const inTime = await Promise.race([closed, Bun.sleep(10_000).then(() => false)]);
        if (!inTime) browser.process()?.kill("SIGKILL");
      }
    } finally {
      rmSync(this.#profile, { recursive: true, force: true });
    }
  }
}
