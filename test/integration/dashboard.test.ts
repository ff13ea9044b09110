// The web dashboard in Debian's headless Chromium against the compiled binary: it renders, follows checkouts live, returns, logs in with a token, stays on loopback.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chromiumReady, HeadlessChromium, type Watched } from "./support/browser.ts";
import { buildBinary, DashboardBerth } from "./support/dashboard-berth.ts";

const ready = chromiumReady();
const POOL = "dash";
const chromium = new HeadlessChromium();
const open = new DashboardBerth(POOL, 2);
let pw = "";
const secured = () =>
  new DashboardBerth(
    "dashauth",
    2,
    `[auth]\nenabled = true\nmax_running_vms_per_user = 1\n[[auth.users]]\nname = "alice"\npassword_hash = "${pw}"`,
  );
let authed: DashboardBerth;

/** A row of the VMs table, by what it shows. */
const vmRows = (w: Watched) =>
  w.page.$$eval("#vms tbody tr[data-vm]", (rows) =>
    rows.map((r) => {
      const el = r as unknown as { dataset: Record<string, string>; children: { textContent: string }[] };
      return {
        name: el.dataset.vm as string,
        state: el.dataset.state as string,
        cells: [...el.children].map((c) => c.textContent),
      };
    }),
  );

/** Waits (bounded) until `pred` holds on the VMs table, without reloading the page. */
async function waitForVms(w: Watched, pred: (rows: Awaited<ReturnType<typeof vmRows>>) => boolean) {
  let rows = await vmRows(w);
  for (let i = 0; i < 200 && !pred(rows); i++) {
    await Bun.sleep(50);
    rows = await vmRows(w);
  }
  expect(pred(rows)).toBe(true);
  return rows;
}

/** Every request stayed on berth's origin (the favicon is a data: URL) and none was refused. */
function onlyLoopback(w: Watched, origin: string) {
  expect(w.refused).toEqual([]);
  for (const url of w.requests) expect(url.startsWith(`${origin}/`) || url.startsWith("data:")).toBe(true);
  expect(w.requests.some((u) => u.endsWith("/v1/events"))).toBe(true);
}

/**
 * Clicks a button of a table the event stream re-renders: found and clicked in one task of the page, so a
 * re-render between finding it and clicking it cannot leave puppeteer holding a detached node.
 */
async function clickLive(w: Watched, selector: string): Promise<void> {
  await w.page.waitForSelector(selector, { timeout: 10_000 });
  await w.page.$eval(selector, (b) => (b as unknown as { click(): void }).click());
}

describe.skipIf(!ready)("dashboard in headless Chromium", () => {
  let w: Watched;

  beforeAll(async () => {
    buildBinary();
    pw = await Bun.password.hash("pw", { algorithm: "argon2id", memoryCost: 1024, timeCost: 1 });
    authed = secured();
    await Promise.all([open.start(), authed.start(), chromium.start()]);
    w = await chromium.page(open.origin);
  }, 60_000);

  afterAll(async () => {
    await chromium.stop();
    await Promise.all([open.stop(), authed?.stop()]);
  });

  test("the page renders its pool and VMs, its charts draw, and the screenshot is not blank", async () => {
    await w.page.goto(`${open.origin}/`, { waitUntil: "load" });
    await w.page.waitForSelector(`#pools tr[data-pool="${POOL}"]`, { timeout: 10_000 });
    await waitForVms(w, (rows) => rows.length === 2 && rows.every((r) => r.cells[1] === POOL));
    await w.page.waitForSelector("#charts canvas", { timeout: 10_000 });
    await w.page.waitForSelector('#live[data-state="on"]', { timeout: 10_000 });
    const pool = await w.page.$$eval(`#pools tr[data-pool="${POOL}"] td`, (tds) =>
      tds.map((t) => t.textContent),
    );
    expect(pool.slice(0, 5)).toEqual([POOL, "2", "2", "0", "0"]);
    // Boxes: the tables and both charts are laid out, side by side within the window.
    const box = async (sel: string) => (await (await w.page.$(sel))?.boundingBox()) ?? null;
    for (const sel of [
      "#pools",
      "#vms",
      '[data-chart="VMs per day"] canvas',
      '[data-chart="Average duration per day"] canvas',
    ]) {
      const b = await box(sel);
      expect(b?.width ?? 0).toBeGreaterThan(200);
      expect(b?.height ?? 0).toBeGreaterThan(50);
    }
    const png = await w.page.screenshot({ type: "png", fullPage: true });
    const { distinct, commonest } = await chromium.colours(png);
    expect(distinct).toBeGreaterThan(20);
    expect(commonest).toBeLessThan(0.95);
    expect(w.errors).toEqual([]);
  }, 30_000);

  test("Check out shows the VM checked out; one checked out elsewhere appears live; Return removes it; no reload", async () => {
    await w.page.evaluate("window.__same_page = 1");
    await clickLive(w, `#pools button[data-name="${POOL}"]`);
    const [mine] = (await waitForVms(w, (rows) => rows.some((r) => r.state === "checked_out"))).filter(
      (r) => r.state === "checked_out",
    );
    if (!mine) throw new Error("no checked-out row");
    expect(mine.cells[1]).toBe(POOL);
    expect(mine.cells[4]).toMatch(/^in 2[34] h \d+ min$/);
    expect(await w.page.$eval("#notice", (n) => n.textContent)).toContain(mine.name);
    // Another client's checkout reaches the page through the event stream alone.
    const other = await fetch(`${open.origin}/v1/checkout`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ [POOL]: 1 }),
    });
    expect(other.status).toBe(200);
    const theirs = ((await other.json()) as { vms: { name: string }[] }).vms[0]?.name as string;
    await waitForVms(w, (rows) => rows.some((r) => r.name === theirs && r.state === "checked_out"));
    await w.page.waitForSelector(`#pools tr[data-pool="${POOL}"] td.checked-out`, { timeout: 10_000 });
    for (let i = 0; i < 200; i++) {
      const n = await w.page.$eval(`#pools tr[data-pool="${POOL}"] td.checked-out`, (td) => td.textContent);
      if (n === "2") break;
      await Bun.sleep(50);
    }
    expect(await w.page.$eval(`#pools tr[data-pool="${POOL}"] td.checked-out`, (td) => td.textContent)).toBe(
      "2",
    );
    await clickLive(w, `#vms button[data-name="${mine.name}"]`);
    await waitForVms(w, (rows) => !rows.some((r) => r.name === mine.name));
    expect(await w.page.evaluate("window.__same_page")).toBe(1);
    expect(w.errors).toEqual([]);
    onlyLoopback(w, open.origin);
  }, 30_000);

  test("with [auth] on: a wrong token is refused with the API's message, the right one shows what its user may see", async () => {
    const issued = await fetch(`${authed.origin}/v1/tokens`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa("alice:pw")}` },
    });
    expect(issued.status).toBe(201);
    const token = ((await issued.json()) as { token: string }).token;
    const a = await chromium.page(authed.origin);
    await a.page.goto(`${authed.origin}/`, { waitUntil: "load" });
    await a.page.waitForSelector("#login:not([hidden])", { timeout: 10_000 });
    expect(await a.page.$eval("#main", (m) => m.hasAttribute("hidden"))).toBe(true);
    await a.page.type("#token", "not-a-token");
    await a.page.click('#login-form button[type="submit"]');
    await a.page.waitForSelector("#error:not([hidden])", { timeout: 10_000 });
    expect(await a.page.$eval("#error", (e) => e.textContent)).toBe("The token was refused: invalid token");
    expect(await a.page.$eval("#main", (m) => m.hasAttribute("hidden"))).toBe(true);
    await a.page.$eval("#token", (i) => {
      (i as unknown as { value: string }).value = "";
    });
    await a.page.type("#token", token);
    await a.page.click('#login-form button[type="submit"]');
    await a.page.waitForSelector('#pools tr[data-pool="dashauth"]', { timeout: 10_000 });
    await a.page.waitForSelector('#live[data-state="on"]', { timeout: 10_000 });
    // The pool's ready VMs are not alice's: core hides them from her.
    expect(await a.page.$eval("#vms tbody", (b) => b.textContent)).toBe("no VMs you can see");
    await clickLive(a, '#pools button[data-name="dashauth"]');
    const [hers] = await waitForVms(a, (rows) => rows.length === 1 && rows[0]?.state === "checked_out");
    expect(hers?.cells[3]).toBe("alice");
    // Over her quota the page shows the API's own message.
    await clickLive(a, '#pools button[data-name="dashauth"]');
    await a.page.waitForSelector("#error:not([hidden])", { timeout: 10_000 });
    const again = await fetch(`${authed.origin}/v1/checkout`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-auth-token": token },
      body: JSON.stringify({ dashauth: 1 }),
    });
    expect(again.status).toBe(403);
    const refusal = ((await again.json()) as { error: { message: string } }).error.message;
    expect(await a.page.$eval("#error", (e) => e.textContent)).toBe(refusal);
    // The token stays in this tab's sessionStorage and a reload keeps the session; it is in no URL.
    expect(await a.page.evaluate("sessionStorage.getItem('berth.token')")).toBe(token);
    await a.page.reload({ waitUntil: "load" });
    await waitForVms(a, (rows) => rows.some((r) => r.name === hers?.name));
    expect(a.requests.filter((u) => u.includes(token))).toEqual([]);
    // Logging out forgets the token and shows nothing of the session.
    await a.page.click("#logout");
    await a.page.waitForSelector("#login:not([hidden])", { timeout: 10_000 });
    expect(await a.page.evaluate("sessionStorage.getItem('berth.token')")).toBeNull();
    expect(await vmRows(a)).toEqual([]);
    // The only console errors are Chromium's notes of the refused token's 401 and the quota's 403.
    expect(a.errors.filter((e) => !e.includes("status of 401") && !e.includes("status of 403"))).toEqual([]);
    expect(a.errors.length).toBe(2);
    onlyLoopback(a, authed.origin);
  }, 30_000);
});
