// The nftables ruleset of PVC's ACLs (pure): one chain per network and direction, jumped to from base chains on the network's bridge.

/** One network's ACLs: `in` is traffic towards its guests, `out` traffic from them. */
export interface AclChains {
  /** Unique per network (PVC's VNI): chain names are vni<id>_in / vni<id>_out. */
  id: number;
  bridge: string;
  in: readonly string[];
  out: readonly string[];
}

/** Newlines (and other control characters), ';' and braces end or open nft statements and blocks: a rule with them could leave its chain. */
const forbidden = (rule: string) =>
  [...rule].some((c) => {
    const n = c.charCodeAt(0);
    return (n < 0x20 && c !== "\t") || n === 0x7f || c === ";" || c === "{" || c === "}";
  });
export const ACL_RULE_MAX = 1024;

/** Why `rule` cannot be placed in a chain as one rule, or null when it can (nft still checks it). */
export function ruleProblem(rule: string): string | null {
  if (rule.trim() === "") return "the rule is empty";
  if (rule.length > ACL_RULE_MAX) return `the rule is longer than ${ACL_RULE_MAX} characters`;
  if (forbidden(rule)) return "a rule may not contain newlines or other control characters, ';', '{' or '}'";
  return null;
}

const chain = (id: number, dir: "in" | "out") => `vni${id}_${dir}`;

/**
 * The whole table, replaced in one nft transaction: created (so the delete never fails), deleted,
 * and rebuilt when any rule is left. Every bridge name was checked by berth ([A-Za-z0-9_.-]).
 */
export function buildAclRuleset(table: string, nets: readonly AclChains[]): string {
  const t = `inet ${table}`;
  const lines = [`table ${t}`, `delete table ${t}`];
  const used = nets.filter((n) => n.in.length + n.out.length > 0);
  if (used.length === 0) return `${lines.join("\n")}\n`;
  lines.push(`add table ${t}`);
  for (const hook of ["input", "forward", "output"]) {
    lines.push(`add chain ${t} ${hook} { type filter hook ${hook} priority 0 ; policy accept ; }`);
  }
  for (const n of used) {
    for (const dir of ["in", "out"] as const) {
      const rules = n[dir];
      if (rules.length === 0) continue;
      const c = chain(n.id, dir);
      lines.push(`add chain ${t} ${c}`);
      for (const r of rules) lines.push(`add rule ${t} ${c} ${r}`);
      // in: to the guests (routed through, or from the host); out: from the guests (routed, or to the host).
      const [match, hooks] =
        dir === "in" ? ["oifname", ["forward", "output"]] : ["iifname", ["forward", "input"]];
      for (const h of hooks) lines.push(`add rule ${t} ${h} ${match} "${n.bridge}" jump ${c}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
