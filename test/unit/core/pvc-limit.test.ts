import { describe, expect, test } from "bun:test";
import { PvcRegexError, pvcLimitMatcher } from "../../../src/core/fronts/pvc-limit.ts";

const names = ["web", "web2", "db-web", "mail"];
const pick = (limit: string | undefined) => names.filter(pvcLimitMatcher(limit));

describe("pvcLimitMatcher (PVC's limit rule)", () => {
  test("no limit matches everything", () => {
    expect(pick(undefined)).toEqual(names);
    expect(pick("")).toEqual(names);
  });

  test("fuzzy: .* on both sides unless ^ or $ is given", () => {
    expect(pick("web")).toEqual(["web", "web2", "db-web"]);
    expect(pick("^web")).toEqual(["web", "web2"]);
    expect(pick("web$")).toEqual(["web", "db-web"]);
    expect(pick("^web$")).toEqual(["web"]);
    expect(pick("^(web|mail)$")).toEqual(["web", "mail"]);
  });

  test("Python syntax RE2 shares: named groups, inline flags, classes, counts", () => {
    expect(pick("^(?P<n>we)b\\d$")).toEqual(["web2"]);
    expect(pick("(?i)^WEB$")).toEqual(["web"]);
    expect(pick("^[a-z]{4}$")).toEqual(["mail"]);
  });

  test("a bad regex or unsupported syntax is PVC's Regex Error", () => {
    for (const bad of ["(web", "web[", "(a)\\1", "(?<=a)b", "a(?=b)"]) {
      expect(() => pvcLimitMatcher(bad)).toThrow(PvcRegexError);
    }
    expect(() => pvcLimitMatcher("(web")).toThrow(/^Regex Error: .*\(web/);
    expect(() => pvcLimitMatcher("a".repeat(2000))).toThrow(PvcRegexError);
  });

  test("a catastrophic pattern runs in linear time", () => {
    const victim = `${"a".repeat(5000)}!`;
    const t0 = performance.now();
    for (const p of ["^(a+)+$", "^(a|aa)+$", "^(a*)*b$", "(.*a){20}$"]) {
      expect(pvcLimitMatcher(p)(victim)).toBe(false);
    }
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
