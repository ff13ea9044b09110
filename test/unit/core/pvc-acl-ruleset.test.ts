// PVC's ACL ruleset (pure): chains per network and direction, jumps on the bridge, and rules that could leave their chain.
import { expect, test } from "bun:test";
import { buildAclRuleset, ruleProblem } from "../../../src/core/fronts/pvc-acl-ruleset.ts";

test("the table is replaced whole: created, deleted, rebuilt with one chain per network and direction", () => {
  expect(
    buildAclRuleset("t", [{ id: 7, bridge: "vmbr7", in: ["tcp dport 22 accept", "drop"], out: [] }]),
  ).toBe(
    `table inet t
delete table inet t
add table inet t
add chain inet t input { type filter hook input priority 0 ; policy accept ; }
add chain inet t forward { type filter hook forward priority 0 ; policy accept ; }
add chain inet t output { type filter hook output priority 0 ; policy accept ; }
add chain inet t vni7_in
add rule inet t vni7_in tcp dport 22 accept
add rule inet t vni7_in drop
add rule inet t forward oifname "vmbr7" jump vni7_in
add rule inet t output oifname "vmbr7" jump vni7_in
`,
  );
  expect(buildAclRuleset("t", [{ id: 7, bridge: "b", in: [], out: ["udp sport 53 drop"] }])).toContain(
    'add rule inet t input iifname "b" jump vni7_out',
  );
  expect(buildAclRuleset("t", [])).toBe("table inet t\ndelete table inet t\n");
});

test("a rule that could end its statement or open a block is refused before nft sees it", () => {
  for (const rule of [
    "drop; flush ruleset",
    "drop\nflush ruleset",
    "drop\rx",
    "drop\vx",
    "drop\0",
    "tcp dport { 1, 2 } drop",
    "}",
  ]) {
    expect(ruleProblem(rule)).not.toBeNull();
  }
  expect(ruleProblem("   ")).toBe("the rule is empty");
  expect(ruleProblem("x".repeat(1025))).toContain("longer");
  expect(ruleProblem("ip saddr 10.0.0.5\ttcp dport 80 drop")).toBeNull();
  expect(ruleProblem('meta l4proto tcp ct state new counter comment "web"')).toBeNull();
});
