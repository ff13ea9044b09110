// PVC's sizes: what its manual accepts (bytes, B/K/M/G/T/P, 1024-based) and how PVC showed them.
import { expect, test } from "bun:test";
import { parsePvcSize, pvcHumanBytes } from "../../../src/core/fronts/pvc-sizes.ts";

test("parse: bare bytes, each unit 1024-based, a lowercase unit as its capital", () => {
  expect(parsePvcSize("1073741824")).toBe(1024 ** 3);
  expect(parsePvcSize("512B")).toBe(512);
  expect(parsePvcSize("4K")).toBe(4096);
  expect(parsePvcSize("4096M")).toBe(4 * 1024 ** 3);
  expect(parsePvcSize("2G")).toBe(2 * 1024 ** 3);
  expect(parsePvcSize("2g")).toBe(2 * 1024 ** 3);
  expect(parsePvcSize("1T")).toBe(1024 ** 4);
  expect(parsePvcSize("1P")).toBe(1024 ** 5);
});

test("parse refuses zero, fractions, signs, other units, empty and overflowing sizes", () => {
  for (const s of [
    "0",
    "0G",
    "1.5G",
    "-1",
    "+1",
    "1GB",
    "1 G",
    "G",
    "",
    "1X",
    "12345678901234567",
    "9999999999999999P",
  ]) {
    expect(() => parsePvcSize(s)).toThrow(/^Size /);
  }
});

test("human: the smallest unit whose rounded-up count has at most 4 digits, as PVC's format_bytes_tohuman", () => {
  expect(pvcHumanBytes(0)).toBe("0B");
  expect(pvcHumanBytes(9999)).toBe("9999B");
  expect(pvcHumanBytes(10000)).toBe("10K");
  expect(pvcHumanBytes(4 * 1024 ** 3)).toBe("4096M");
  expect(pvcHumanBytes(10 * 1024 ** 3)).toBe("10G");
  expect(pvcHumanBytes(1024 ** 3 + 1)).toBe("1025M");
  expect(pvcHumanBytes(5 * 1024 ** 5)).toBe("5120T");
});
