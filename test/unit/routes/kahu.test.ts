// The Kahu front on the test driver: its forms, ids, scopes, URL hygiene, refusals and errors, and its session login.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { createSize } from "../../../src/core/sizes.ts";
import { createApp } from "../../../src/routes/app.ts";
import type { Json } from "../../support/http.ts";
import { cleanup, poolCore } from "../core/pools-support.ts";

const P = "ukahu";
const PROFILE = `${P}-tiny`;
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl kahu@unit";

type Core = Awaited<ReturnType<typeof poolCore>>;

async function hashed(pw: string) {
  return await Bun.password.hash(pw, { algorithm: "argon2id" });
}

/** A core with a profile and a size of the same name, and a client for its main listener. */
function kahuTarget(extra: () => Promise<string>) {
  const env = {} as {
    core: Core;
    send: (method: string, path: string, init?: RequestInit) => Promise<Reply>;
  };
  beforeAll(async () => {
    env.core = await poolCore(P, await extra());
    createSize(env.core, SYSTEM, { name: PROFILE, vcpus: 1, memory_mib: 64 });
    const app = createApp(env.core);
    env.send = async (method, path, init = {}) => {
      const res = await app.handle(new Request(`http://localhost${path}`, { ...init, method }));
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Json) : null };
    };
  });
  afterAll(async () => {
    await cleanup(env.core);
    await env.core.close();
  });
  return env;
}

interface Reply {
  status: number;
  headers: Headers;
  body: Json;
}

/** A multipart form whose every field is a file part, as Kahu's Python client sends it. */
function fileParts(fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, new Blob([`${v}\n`]), k);
  return form;
}

const urlencoded = (fields: Record<string, string>): RequestInit => ({
  body: new URLSearchParams(fields).toString(),
  headers: { "content-type": "application/x-www-form-urlencoded" },
});

describe("auth off", () => {
  const t = kahuTarget(async () => "");

  async function create(scope = "/v0", fields: Record<string, string> = {}): Promise<string> {
    const r = await t.send("POST", `${scope}/compute/instance/`, {
      body: fileParts({ profile: PROFILE, size: PROFILE, ...fields }),
    });
    expect({ status: r.status, body: r.body }).toMatchObject({ status: 201 });
    return (r.headers.get("location") as string).split("/").at(-2) as string;
  }

  test("instance ids are numbers from 0 that are never reused; the list is keyed by id", async () => {
    const a = await create();
    const b = await create();
    expect(Number(b)).toBe(Number(a) + 1);
    const list = (await t.send("GET", "/v0/compute/instance/")).body;
    expect(Object.keys(list)).toEqual([a, b]);
    expect(list[a]).toMatchObject({ state: "stopped", size: `/v0/compute/size/${PROFILE}/` });
    expect((await t.send("DELETE", `/v0/compute/instance/${b}/`)).status).toBe(200);
    const c = await create();
    expect(Number(c)).toBe(Number(b) + 1);
    expect((await t.send("GET", `/v0/compute/instance/${b}`)).status).toBe(404);
  });

  test("form values come from file parts (newline trimmed), plain parts, urlencoded bodies and the query", async () => {
    const byFile = await t.send("POST", "/v0/compute/instance/", {
      body: fileParts({ profile: PROFILE, size: PROFILE, "ssh-key": KEY }),
    });
    expect(byFile.body["ssh-key"]).toBe(KEY);
    const plain = new FormData();
    plain.append("profile", PROFILE);
    plain.append("size", PROFILE);
    expect((await t.send("POST", "/v0/compute/instance/", { body: plain })).status).toBe(201);
    expect(
      (await t.send("POST", "/v0/compute/instance/", urlencoded({ profile: PROFILE, size: PROFILE }))).status,
    ).toBe(201);
    expect((await t.send("POST", `/v0/compute/instance/?profile=${PROFILE}&size=${PROFILE}`)).status).toBe(
      201,
    );
  });

  test("refusals are 400 in Kahu's shape: unknown fields, missing profile, unknown size, another hypervisor", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ profile: PROFILE, size: PROFILE, colour: "red" }, "unknown field colour"],
      [{ size: PROFILE }, "profile is required"],
      [{ profile: PROFILE, size: "nosuch" }, "size nosuch does not exist"],
      [{ profile: "nosuch", size: PROFILE }, "profile nosuch does not exist"],
      [
        { profile: PROFILE, size: PROFILE, hypervisor: "/v0/hypervisor/instance/7" },
        "is not a hypervisor instance here",
      ],
    ];
    for (const [fields, message] of cases) {
      const r = await t.send("POST", "/v0/compute/instance/", urlencoded(fields));
      expect({ status: r.status, keys: Object.keys(r.body), message: r.body.message }).toEqual({
        status: 400,
        keys: ["message"],
        message: expect.stringContaining(message),
      });
    }
    // Kahu required a size; a profile with its own cpus and memory stands in for one.
    const sizeless = await t.send("POST", "/v0/compute/instance/", urlencoded({ profile: PROFILE }));
    expect({ status: sizeless.status, body: sizeless.body }).toEqual({
      status: 201,
      body: { message: "instance created", profile: `/v0/compute/profile/${PROFILE}/` },
    });
    for (const hypervisor of [
      "/v0/hypervisor/instance/0",
      "v0/hypervisor/instance/0",
      "/kahu/test/v0/hypervisor/instance/0/",
    ]) {
      const r = await t.send(
        "POST",
        "/v0/compute/instance/",
        urlencoded({ profile: PROFILE, size: PROFILE, hypervisor }),
      );
      expect({ hypervisor, status: r.status }).toEqual({ hypervisor, status: 201 });
    }
  });

  test("repeated slashes are merged and trailing slashes are optional", async () => {
    const id = await create("/v0/tenant/7/");
    for (const path of [
      `/v0/tenant/7//compute/instance/`,
      `/v0/tenant/7/compute/instance`,
      `//v0//tenant/7/compute//instance//`,
    ]) {
      const r = await t.send("GET", path);
      expect({ path, status: r.status, ids: Object.keys(r.body ?? {}) }).toEqual({
        path,
        status: 200,
        ids: [id],
      });
    }
    expect((await t.send("GET", `/v0/tenant/7/compute/instance/${id}//storage//`)).status).toBe(200);
  });

  test("tenants are scopes: tenant 0 is the top level; another tenant's instance is unknown elsewhere", async () => {
    const top = await create("/v0");
    const mine = await create("/v0/tenant/acme");
    expect(Object.keys((await t.send("GET", "/v0/tenant/0/compute/instance/")).body)).toContain(top);
    expect(Object.keys((await t.send("GET", "/v0/compute/instance/")).body)).not.toContain(mine);
    expect(Object.keys((await t.send("GET", "/v0/tenant/acme/compute/instance/")).body)).toEqual([mine]);
    expect((await t.send("GET", `/v0/compute/instance/${mine}`)).status).toBe(404);
    expect((await t.send("POST", `/v0/tenant/other/compute/instance/${mine}/start`)).status).toBe(404);
    const native = (await t.send("GET", "/v1/vms?project=acme")).body;
    expect(native.map((v: Json) => v.project)).toEqual(["acme"]);
  });

  test("volumes: added in MiB on the chosen guest interface, shown by name, refused for the instance's own names", async () => {
    const id = await create();
    const added = await t.send("POST", `/v0/compute/instance/${id}/storage/`, {
      body: fileParts({ name: "scratch", size: "1500", "guest-iface": "ide" }),
    });
    expect({ status: added.status, body: added.body, location: added.headers.get("location") }).toEqual({
      status: 201,
      body: { name: "scratch", size: 2048 },
      location: `/v0/compute/instance/${id}/storage/scratch/`,
    });
    expect((await t.send("GET", `/v0/compute/instance/${id}/storage/scratch`)).body).toMatchObject({
      name: "scratch",
      "guest-iface": "ide",
      size: 2048,
      order: 1,
    });
    const vm = (await t.send("GET", "/v1/vms")).body.find((v: Json) =>
      v.disks.some((d: Json) => d.name === "scratch"),
    );
    expect(vm.disks.find((d: Json) => d.name === "scratch").bus).toBe("sata");
    for (const [fields, status] of [
      [{ name: "root", size: "10" }, 400],
      [{ name: "v2", size: "10", "guest-iface": "floppy" }, 400],
      [{ name: "v2", size: "-1" }, 400],
      [{ name: "v2" }, 400],
      [{ name: "scratch", size: "10" }, 409],
    ] as const) {
      const r = await t.send("POST", `/v0/compute/instance/${id}/storage/`, urlencoded(fields));
      expect({ fields, status: r.status, shape: Object.keys(r.body) }).toEqual({
        fields,
        status,
        shape: ["message"],
      });
    }
    expect((await t.send("DELETE", `/v0/compute/instance/${id}/storage/scratch/`)).status).toBe(200);
    expect((await t.send("GET", `/v0/compute/instance/${id}/storage/scratch`)).status).toBe(404);
  });

  test("unknown ids, a non-numeric id and unknown paths are 404 in Kahu's shape", async () => {
    for (const path of [
      "/v0/compute/instance/999999/",
      "/v0/compute/instance/abc",
      "/v0/nosuch",
      "/v0/compute/size/nosuch",
    ]) {
      const r = await t.send("GET", path);
      expect({ path, status: r.status, keys: Object.keys(r.body) }).toEqual({
        path,
        status: 404,
        keys: ["message"],
      });
    }
  });
});

describe("auth on", () => {
  const t = kahuTarget(
    async () =>
      `[auth]\nenabled = true\n[[auth.users]]\nname = "ann"\npassword_hash = "${await hashed("ann-pw")}"\n[[auth.users]]\nname = "bob"\npassword_hash = "${await hashed("bob-pw")}"\n`,
  );

  test("login sets KAHU_SESSION_TOKEN (HttpOnly, SameSite=Strict); the cookie authenticates; logout revokes it", async () => {
    const bad = await t.send("POST", "/v0/auth/login", urlencoded({ role: "ann", password: "nope" }));
    expect({ status: bad.status, keys: Object.keys(bad.body) }).toEqual({ status: 401, keys: ["message"] });
    const login = await t.send("POST", "/v0/auth/login", urlencoded({ role: "ann", password: "ann-pw" }));
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ session: expect.any(String), uri: "/v0/auth/role/ann" });
    const cookie = login.headers.get("set-cookie") as string;
    expect(cookie).toMatch(/^KAHU_SESSION_TOKEN=[A-Za-z0-9_-]{40,};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie.toLowerCase()).toContain("samesite=strict");
    const session = { cookie: cookie.split(";")[0] as string };

    expect(
      (await t.send("POST", "/v0/compute/instance/", urlencoded({ profile: PROFILE, size: PROFILE }))).status,
    ).toBe(401);
    const made = await t.send("POST", "/v0/compute/instance/", {
      ...urlencoded({ profile: PROFILE, size: PROFILE }),
      headers: { ...session, "content-type": "application/x-www-form-urlencoded" },
    });
    expect(made.status).toBe(201);
    const id = (made.headers.get("location") as string).split("/").at(-2);

    // Basic auth works too (the 2016 deployments put it in the URL); bob does not see ann's instance.
    const bob = { authorization: `Basic ${Buffer.from("bob:bob-pw").toString("base64")}` };
    expect((await t.send("GET", `/v0/compute/instance/${id}`, { headers: bob })).status).toBe(404);
    expect((await t.send("POST", `/v0/compute/instance/${id}/start`, { headers: bob })).status).toBe(404);
    expect((await t.send("GET", `/v0/compute/instance/${id}`, { headers: session })).status).toBe(200);

    const out = await t.send("POST", "/v0/auth/logout", { headers: session });
    expect({ status: out.status, body: out.body }).toEqual({ status: 200, body: "logged out" });
    expect(out.headers.get("set-cookie")).toMatch(/^KAHU_SESSION_TOKEN=;.*Max-Age=0/i);
    expect((await t.send("POST", `/v0/compute/instance/${id}/start`, { headers: session })).status).toBe(401);
  });
});
