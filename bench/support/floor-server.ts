// The one-write floor: a minimal Bun server that answers each POST after one SQLite write transaction (berth's pragmas).
// Usage: bun bench/support/floor-server.ts <port> <data dir>   (prints "listening" once it serves)
import { Database } from "bun:sqlite";
import { join } from "node:path";

const [port, dir] = Bun.argv.slice(2);
if (!port || !dir) throw new Error("usage: floor-server.ts <port> <data dir>");
const db = new Database(join(dir, "floor.db"), { create: true, strict: true });
db.run("PRAGMA busy_timeout = 5000");
db.run("PRAGMA journal_mode = WAL");
db.run("PRAGMA synchronous = NORMAL");
db.run("CREATE TABLE IF NOT EXISTS taken (id INTEGER PRIMARY KEY, pool TEXT NOT NULL, at TEXT NOT NULL)");
const take = db.prepare("INSERT INTO taken (pool, at) VALUES (?, ?) RETURNING id");
const write = db.transaction((pool: string) => take.get(pool, new Date().toISOString()) as { id: number });

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(port),
  async fetch(req) {
    if (req.method !== "POST") return new Response("POST only", { status: 405 });
    // Read and parse the body as berth does, then one write transaction: what a checkout cannot go below.
    const body = (await req.json()) as Record<string, number>;
    const pool = Object.keys(body)[0] ?? "none";
    const { id } = write(pool);
    return Response.json({ vms: [{ name: `floor-${id}`, pool }] });
  },
});
console.log(`listening ${server.url}`);
process.on("SIGTERM", () => {
  server.stop(true);
  db.close();
  process.exit(0);
});
