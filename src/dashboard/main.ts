// The dashboard page: a token login when [auth] is on, then pools, VMs and history, kept current by the event stream.
import { ApiError, api, type Lease, type PoolView, type Summary, session, type VmView } from "./api.ts";
import { drawCharts, summaryRange } from "./charts.ts";
import { follow } from "./stream.ts";
import { type Actions, renderPools, renderVms } from "./view.ts";

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const authOn = document.querySelector<HTMLMetaElement>('meta[name="berth-auth"]')?.content === "on";
/** Events come in bursts (a checkout, its operation, the refill): one reload per burst. */
const RELOAD_DELAY_MS = 150;
const CHARTS_EVERY_MS = 60_000;

function showError(e: unknown): void {
  const box = byId("error");
  box.textContent = e instanceof Error ? e.message : String(e);
  box.hidden = false;
}

function notice(text: string): void {
  const box = byId("notice");
  box.textContent = text;
  box.hidden = false;
  byId("error").hidden = true;
}

interface Data {
  pools: PoolView[];
  vms: VmView[];
  leases: Map<string, Lease>;
}

let data: Data | null = null;
const addresses = new Map<string, string | null>();

const actions: Actions = {
  async checkout(pool, b) {
    b.disabled = true;
    try {
      const out = await api<{ vms: { name: string }[] }>("POST", "/v1/checkout", { [pool]: 1 });
      notice(`Checked out ${out.vms.map((v) => v.name).join(", ")} from ${pool}.`);
      scheduleReload();
    } catch (e) {
      showError(e);
    } finally {
      b.disabled = false;
    }
  },
  async giveBack(vm, b) {
    b.disabled = true;
    try {
      await api("DELETE", `/v1/vms/${encodeURIComponent(vm)}`);
      notice(`Returning ${vm}.`);
    } catch (e) {
      showError(e);
      b.disabled = false;
    }
  },
};

function render(): void {
  if (!data) return;
  renderPools(byId<HTMLTableElement>("pools").tBodies[0] as HTMLTableSectionElement, data.pools, actions);
  const vmBody = byId<HTMLTableElement>("vms").tBodies[0] as HTMLTableSectionElement;
  renderVms(vmBody, data.vms, data.leases, addresses, actions);
}

/** A checked-out VM's address: the list does not carry it, its own GET does (looked up once per VM). */
async function lookUpAddresses(d: Data): Promise<void> {
  const wanted = d.vms.filter(
    (vm) =>
      d.leases.get(vm.name)?.status === "checked_out" && vm.state === "running" && !addresses.has(vm.name),
  );
  for (const vm of wanted) {
    addresses.set(vm.name, null);
    const one = await api<VmView>("GET", `/v1/vms/${encodeURIComponent(vm.name)}`);
    addresses.set(vm.name, one.primary_ipv4);
  }
  if (wanted.length > 0) render();
}

async function load(): Promise<void> {
  const [pools, vms, leases] = await Promise.all([
    api<PoolView[]>("GET", "/v1/pools"),
    api<VmView[]>("GET", "/v1/vms"),
    api<Lease[]>("GET", "/v1/checkouts"),
  ]);
  data = { pools, vms, leases: new Map(leases.map((l) => [l.vm, l])) };
  render();
  await lookUpAddresses(data);
}

let reloading: Promise<void> | null = null;
let again = false;
let timer: ReturnType<typeof setTimeout> | null = null;

/** One reload at a time; events during one ask for one more after it. */
function scheduleReload(): void {
  if (timer !== null) return;
  timer = setTimeout(() => {
    timer = null;
    if (reloading) {
      again = true;
      return;
    }
    reloading = load()
      .catch(showError)
      .finally(() => {
        reloading = null;
        if (again) {
          again = false;
          scheduleReload();
        }
      });
  }, RELOAD_DELAY_MS);
}

async function loadCharts(): Promise<void> {
  const { from, to } = summaryRange();
  const summary = await api<Summary>("GET", `/v1/summary?from=${from}&to=${to}`);
  drawCharts(byId("charts"), summary);
}

let stream: AbortController | null = null;
let chartTimer: ReturnType<typeof setInterval> | null = null;

function setLive(live: boolean): void {
  const badge = byId("live");
  badge.dataset.state = live ? "on" : "off";
  badge.textContent = live ? "live" : "reconnecting…";
}

function showLogin(message?: string): void {
  stream?.abort();
  stream = null;
  if (chartTimer !== null) clearInterval(chartTimer);
  // The next user sees only what the API gives them: nothing of the last one's stays.
  data = null;
  addresses.clear();
  for (const id of ["pools", "vms"]) byId<HTMLTableElement>(id).tBodies[0]?.replaceChildren();
  byId("main").hidden = true;
  byId("logout").hidden = true;
  byId("login").hidden = false;
  if (message) showError(message);
  byId<HTMLInputElement>("token").focus();
}

async function start(): Promise<void> {
  byId("login").hidden = true;
  byId("main").hidden = false;
  byId("logout").hidden = !authOn;
  stream = new AbortController();
  void follow(
    {
      onEvent: scheduleReload,
      onState: (live) => {
        setLive(live);
        // Whatever happened while disconnected: read it all again.
        if (live) scheduleReload();
      },
      onUnauthorized: (message) => {
        session.clear();
        showLogin(`The token was refused: ${message}`);
      },
    },
    stream.signal,
  );
  await Promise.all([load(), loadCharts()]);
  chartTimer = setInterval(() => void loadCharts().catch(showError), CHARTS_EVERY_MS);
}

async function logIn(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const token = byId<HTMLInputElement>("token").value.trim();
  try {
    // A route that refuses a bad token outright (an open GET would read it as anonymous).
    await api("GET", "/v1/tokens", undefined, token);
  } catch (e) {
    showError(e instanceof ApiError && e.status === 401 ? `The token was refused: ${e.message}` : e);
    return;
  }
  session.save(token);
  byId<HTMLInputElement>("token").value = "";
  byId("error").hidden = true;
  await start();
}

byId<HTMLFormElement>("login-form").addEventListener("submit", (e) => void logIn(e).catch(showError));
byId("logout").addEventListener("click", () => {
  session.clear();
  showLogin();
});

if (authOn && !session.token()) showLogin();
else void start().catch(showError);
