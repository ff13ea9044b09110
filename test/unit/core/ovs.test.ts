// ovs-vsctl commands as data (argv, never a shell string), and how a command that cannot run fails.
import { expect, test } from "bun:test";
import { OvsError, ovsArgv, runOvs } from "../../../src/core/ovs.ts";

test("the bridge commands are bounded argv vectors", () => {
  expect(ovsArgv.add("br-lab", "netdev")).toEqual([
    "ovs-vsctl",
    "--timeout=10",
    "--may-exist",
    "add-br",
    "br-lab",
    "--",
    "set",
    "bridge",
    "br-lab",
    "datapath_type=netdev",
  ]);
  expect(ovsArgv.exists("br0")).toEqual(["ovs-vsctl", "--timeout=10", "br-exists", "br0"]);
  expect(ovsArgv.ports("br0")).toEqual(["ovs-vsctl", "--timeout=10", "list-ports", "br0"]);
  expect(ovsArgv.remove("br0")).toEqual(["ovs-vsctl", "--timeout=10", "--if-exists", "del-br", "br0"]);
});

test("a name with shell syntax stays one argument", async () => {
  const r = await runOvs(["printf", "%s", "br0; touch /tmp/pwned"]);
  expect(r).toEqual({ code: 0, out: "br0; touch /tmp/pwned" });
});

test("exit codes and output come back; a missing program is a 502 ovs_error", async () => {
  const failed = await runOvs(["ls", "/nonexistent-berth-path"]);
  expect(failed.code).toBe(2);
  expect(failed.out).toContain("/nonexistent-berth-path");
  const e = await runOvs(["/nonexistent/ovs-vsctl", "show"]).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(OvsError);
  expect(e).toMatchObject({ httpStatus: 502, errorCode: "ovs_error" });
  expect((e as Error).message).toContain("cannot run /nonexistent/ovs-vsctl");
});
