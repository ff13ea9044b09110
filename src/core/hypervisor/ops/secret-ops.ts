// Secret operations run inside a hypervisor Worker: the value is read from its file there, so it never crosses a message.
import { readFileSync } from "node:fs";
import type { Connection } from "../../../ffi/index.ts";

export const secretOps = {
  /** Defines the secret (by the UUID in `xml`) and sets its value to the base64 key `keyFile` holds. */
  "secret.define"(c: Connection, a: { xml: string; keyFile: string }): void {
    const key = Buffer.from(readFileSync(a.keyFile, "utf8").trim(), "base64");
    using s = c.defineSecret(a.xml);
    s.setValue(key);
  },
};
