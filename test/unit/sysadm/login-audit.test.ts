// sysadm's rpc/auth over real wss writes an auth.login audit line on success and failure, never the password.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { setLogSink } from "../../../src/log.ts";
import { SysadmClient } from "./client.ts";
import { type SysadmBerth, sysadmBerth } from "./support.ts";

let s: SysadmBerth;
const open: SysadmClient[] = [];
/** A socket opened right before its login: the helper's berth closes one not logged in within 1 s. */
const client = async () => {
  const c = await SysadmClient.open(s.ws, s.ca);
  open.push(c);
  return c;
};
const lines: string[] = [];
let restore: () => void;

beforeAll(async () => {
  s = await sysadmBerth("sadaudit");
  restore = setLogSink((l) => lines.push(l));
}, 30_000);
afterAll(async () => {
  restore?.();
  for (const c of open) c.close();
  await s?.berth.stop();
});

const audits = (from: number) =>
  lines
    .slice(from)
    .map((l) => JSON.parse(l))
    .filter((l) => l.msg === "auth.login");

test("rpc/auth: a wrong password and then the right one each write one auth.login line (front sysadm)", async () => {
  let from = lines.length;
  await (await client()).login("alice", "not-alices-pw");
  expect(audits(from)).toEqual([
    expect.objectContaining({ audit: true, user: "alice", outcome: "failure", front: "sysadm" }),
  ]);
  from = lines.length;
  await (await client()).login("alice", "alice-pw");
  expect(audits(from)).toEqual([
    expect.objectContaining({ audit: true, user: "alice", outcome: "success", front: "sysadm" }),
  ]);
  expect(lines.join("")).not.toContain("alice-pw");
  expect(lines.join("")).not.toContain("not-alices-pw");
}, 30_000);
