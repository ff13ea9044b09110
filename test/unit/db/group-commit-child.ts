// A process that queues group-commit units on a database file and dies by SIGKILL at a chosen point (crash cases).
// Usage: bun group-commit-child.ts <db file> <before-commit|after-answer>
import { Database } from "bun:sqlite";
import { writeSync } from "node:fs";
import { GroupCommit } from "../../../src/db/group-commit.ts";

const [file, when] = process.argv.slice(2) as [string, string];
const db = new Database(file, { strict: true });
db.run("PRAGMA journal_mode = WAL");
db.run("PRAGMA synchronous = NORMAL");
const g = new GroupCommit(db);
const answer = (name: string) => {
  // Written straight to the descriptor: nothing buffered is lost when the kill comes.
  writeSync(1, `answered ${name}\n`);
  if (when === "after-answer") process.kill(process.pid, "SIGKILL");
};
g.run(() => db.run("INSERT INTO t (name) VALUES ('a')")).then(() => answer("a"));
g.run(() => {
  db.run("INSERT INTO t (name) VALUES ('b')");
  // A crash in the middle of the batch, after a's savepoint was released, before the COMMIT.
  if (when === "before-commit") process.kill(process.pid, "SIGKILL");
}).then(() => answer("b"));
await Bun.sleep(5000);
