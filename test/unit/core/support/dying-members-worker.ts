// A members' Worker that fails outright: it records its first create's operation as running and answers it
// (as the real Worker does), then throws out of its handler on the second create.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import type { FromMembers, ToMembers } from "../../../../src/core/pools/member-protocol.ts";
import { vmTarget } from "../../../../src/core/vms/records.ts";
import { DB_FILE } from "../../../../src/db/open.ts";
import { insertOperation } from "../../../../src/db/operations.ts";

declare const self: Worker;

let dataDir = "";
let creates = 0;
const post = (m: FromMembers) => self.postMessage([m]);

self.onmessage = (ev: MessageEvent<ToMembers>) => {
  const msg = ev.data;
  if (msg.kind === "start") {
    dataDir = msg.config.data_dir;
    post({ kind: "ready" });
  } else if (msg.kind === "create") {
    if (++creates > 1) throw new Error("the test Worker broke");
    const { operation: id, name } = msg.member;
    const db = new Database(join(dataDir, DB_FILE));
    insertOperation(db, {
      id,
      kind: "vm.create",
      target: vmTarget(name),
      created_at: new Date().toISOString(),
      owner: null,
    });
    db.close();
    post({
      kind: "event",
      type: "operation.started",
      target: `operation/${id}`,
      data: { kind: "vm.create" },
    });
    post({ kind: "created", operation: id });
  }
};
