// Runs inside a test network namespace: an HTTP server on a public-range address, and ports that are not HTTP.
// Args: <address> <json options>; prints "ready" once every listener is up.
const [address = "", json = "{}"] = process.argv.slice(2);
const opts = JSON.parse(json) as {
  http: number;
  banner: number;
  hangUp: number;
  silent: number;
  /** File served at /disk.qcow2 and, with basic auth user:password, at /private/disk.qcow2. */
  file: string;
  user: string;
  password: string;
  /** Where /to-<name>/<rest> redirects: the loopback bases the test listens on. */
  redirects: Record<string, string>;
};

Bun.serve({
  hostname: address,
  port: opts.http,
  fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/disk.qcow2") return new Response(Bun.file(opts.file));
    if (url.pathname === "/private/disk.qcow2") {
      const want = `Basic ${btoa(`${opts.user}:${opts.password}`)}`;
      if (req.headers.get("authorization") !== want) return new Response("who?", { status: 401 });
      return new Response(Bun.file(opts.file));
    }
    const m = /^\/to-([a-z0-9]+)\/(.*)$/.exec(url.pathname);
    const base = m ? opts.redirects[m[1] ?? ""] : undefined;
    if (m && base !== undefined) return Response.redirect(`${base}${m[2]}`, 302);
    return new Response("no such file", { status: 404, statusText: "Not Found" });
  },
});
Bun.listen({
  hostname: address,
  port: opts.banner,
  socket: {
    open(s) {
      s.write("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
    },
    data() {},
  },
});
Bun.listen({
  hostname: address,
  port: opts.hangUp,
  socket: {
    open(s) {
      s.end();
    },
    data() {},
  },
});
Bun.listen({ hostname: address, port: opts.silent, socket: { data() {} } });
console.log("ready");
