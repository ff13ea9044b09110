// Renders the pools and VMs tables from the API's answers; text only (textContent), never HTML from data.
import type { Lease, PoolView, VmView } from "./api.ts";

export interface Actions {
  checkout(pool: string, button: HTMLButtonElement): void;
  giveBack(vm: string, button: HTMLButtonElement): void;
}

function cell(text: string | number, className?: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.textContent = String(text);
  if (className) td.className = className;
  return td;
}

function button(label: string, name: string, onClick: (b: HTMLButtonElement) => void): HTMLTableCellElement {
  const td = document.createElement("td");
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.dataset.name = name;
  b.addEventListener("click", () => onClick(b));
  td.append(b);
  return td;
}

function emptyRow(columns: number, text: string): HTMLTableRowElement {
  const tr = document.createElement("tr");
  const td = cell(text, "empty");
  td.colSpan = columns;
  tr.append(td);
  return tr;
}

export function renderPools(body: HTMLTableSectionElement, pools: PoolView[], actions: Actions): void {
  const rows = pools.map((p) => {
    const tr = document.createElement("tr");
    tr.dataset.pool = p.name;
    tr.append(
      cell(p.name),
      cell(p.size, "num"),
      cell(p.counts.ready, "num ready"),
      cell(p.counts.pending, "num pending"),
      cell(p.counts.checked_out, "num checked-out"),
      cell(p.failures, "num"),
      button("Check out", p.name, (b) => actions.checkout(p.name, b)),
    );
    return tr;
  });
  body.replaceChildren(...(rows.length > 0 ? rows : [emptyRow(7, "no pools")]));
}

/** How long until `iso`, for people: "in 23 h 59 min", or "expired". */
export function untilText(iso: string | null, now = Date.now()): string {
  if (iso === null) return "—";
  const min = Math.round((Date.parse(iso) - now) / 60_000);
  if (min <= 0) return "expired";
  return min >= 60 ? `in ${Math.floor(min / 60)} h ${min % 60} min` : `in ${min} min`;
}

export function renderVms(
  body: HTMLTableSectionElement,
  vms: VmView[],
  leases: Map<string, Lease>,
  ips: Map<string, string | null>,
  actions: Actions,
): void {
  const rows = vms.map((vm) => {
    const lease = leases.get(vm.name);
    const state = lease?.status === "checked_out" ? "checked_out" : vm.state;
    const tr = document.createElement("tr");
    tr.dataset.vm = vm.name;
    tr.dataset.state = state;
    const expiry = cell(untilText(lease?.expires_at ?? null));
    if (lease?.expires_at) expiry.title = lease.expires_at;
    tr.append(
      cell(vm.name),
      cell(lease?.pool ?? "—"),
      cell(lease ? `${lease.status.replace("_", " ")} (${vm.state})` : vm.state, `state-${state}`),
      cell(lease?.owner ?? "—"),
      expiry,
      cell(ips.get(vm.name) ?? vm.primary_ipv4 ?? "—"),
      lease?.status === "checked_out"
        ? button("Return", vm.name, (b) => actions.giveBack(vm.name, b))
        : cell(""),
    );
    return tr;
  });
  body.replaceChildren(...(rows.length > 0 ? rows : [emptyRow(7, "no VMs you can see")]));
}
