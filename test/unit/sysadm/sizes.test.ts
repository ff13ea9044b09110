// iohyve's sizes: "10G", "512M" and their kin read into bytes and written back in the largest exact unit.
import { expect, test } from "bun:test";
import {
  iohyveSize,
  iohyveSizeGb,
  iohyveSizeMib,
  parseIohyveSize,
} from "../../../src/core/fronts/sysadm-sizes.ts";

test("sizes read in binary units, case-insensitively; anything else is a 400 naming the value", () => {
  expect(parseIohyveSize("10G", "size")).toBe(10 * 1024 ** 3);
  expect(parseIohyveSize("512m", "size")).toBe(512 * 1024 ** 2);
  expect(parseIohyveSize("1T", "size")).toBe(1024 ** 4);
  expect(parseIohyveSize("4096", "size")).toBe(4096);
  for (const bad of ["", "10GB", "1.5G", "-1G", "0G", "G", "10 G"]) {
    expect(() => parseIohyveSize(bad, "size")).toThrow(`size ${JSON.stringify(bad)}`);
  }
  expect(iohyveSizeGb("2048M", "size")).toBe(2);
  expect(() => iohyveSizeGb("1536M", "size")).toThrow("not a whole number of gigabytes");
  expect(iohyveSizeMib("1G", "ram")).toBe(1024);
  expect(() => iohyveSizeMib("100K", "ram")).toThrow("not a whole number of megabytes");
});

test("sizes are written in the largest unit that divides them", () => {
  expect(iohyveSize(10 * 1024 ** 3)).toBe("10G");
  expect(iohyveSize(512 * 1024 ** 2)).toBe("512M");
  expect(iohyveSize(1536 * 1024 ** 2)).toBe("1536M");
  expect(iohyveSize(2 * 1024 ** 4)).toBe("2T");
  expect(iohyveSize(1000)).toBe("1000");
});
