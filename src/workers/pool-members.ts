// The pool members' Worker: creates pool VMs on its own connection and hypervisor client, off the HTTP thread.

import { type MemberCore, openMemberCore } from "../core/pools/member-core.ts";
import { type CreateMember, createMemberHere } from "../core/pools/member-create.ts";
import type {
  FromMembers,
  FromMembersBatch,
  ToMembers,
  WireAppError,
} from "../core/pools/member-protocol.ts";
import { AppError, NotFound } from "../errors.ts";
import { setThreadNice } from "../ffi/index.ts";
import { setLogLevel, setLogSink } from "../log.ts";

declare const self: Worker;

// What a turn of this loop produced (a refill's creates step together) crosses to the HTTP thread as one message.
let outbox: FromMembersBatch = [];
function flush(): void {
  const batch = outbox;
  outbox = [];
  self.postMessage(batch);
}
function post(m: FromMembers): void {
  outbox.push(m);
  if (outbox.length === 1) setImmediate(flush);
}

/**
 * The creates are berth's own background work: on a busy host this thread (and the hypervisor Workers it
 * starts, which inherit its nice value) gives the CPU to the HTTP thread first.
 */
const BACKGROUND_NICE = 10;
setThreadNice(BACKGROUND_NICE);

// Lines go to the HTTP thread, which writes them where its own go (stderr or [log] file, across reloads).
setLogSink((line) => post({ kind: "log", line }));

function toWire(e: unknown): WireAppError {
  if (e instanceof AppError) return { status: e.httpStatus, code: e.errorCode, message: e.message };
  return { status: 500, code: "internal", message: e instanceof Error ? e.message : String(e) };
}

let host: MemberCore | null = null;
let create: CreateMember | null = null;

self.onmessage = async (ev: MessageEvent<ToMembers>) => {
  const msg = ev.data;
  switch (msg.kind) {
    case "start":
      try {
        host = await openMemberCore(msg.config, msg.hypervisor, (type, target, data) =>
          post({ kind: "event", type, target, data }),
        );
        create = createMemberHere(host.core);
        post({ kind: "ready" });
      } catch (e) {
        post({ kind: "start-failed", error: toWire(e) });
      }
      return;
    case "create": {
      setLogLevel(msg.logLevel);
      const id = msg.member.operation;
      if (!create) {
        post({
          kind: "refused",
          operation: id,
          error: toWire(new Error("the members' Worker is not started")),
        });
        return;
      }
      create(msg.member).then(
        () => post({ kind: "created", operation: id }),
        (e) => post({ kind: "refused", operation: id, error: toWire(e) }),
      );
      return;
    }
    case "cancel":
      try {
        host?.core.ops.cancel(msg.operation);
      } catch (e) {
        if (!(e instanceof NotFound)) throw e; // one that ended meanwhile has nothing to cancel
      }
      return;
    case "stop":
      create = null;
      await host?.close();
      host = null;
      post({ kind: "stopped" });
      return;
  }
};
