// What a PVC request forwarded to another fleet host carries: its values, never the caller's token value.
import { describe, expect, test } from "bun:test";
import { withoutToken } from "../../../src/routes/pvc/fleet-forward.ts";

const enc = (s: string) => new TextEncoder().encode(s);

async function valuesOf(type: string, body: Uint8Array): Promise<Record<string, string>> {
  const form = await new Response(body, { headers: { "content-type": type } }).formData();
  const out: Record<string, string> = {};
  for (const [k, v] of form) out[k] = typeof v === "string" ? v : await v.text();
  return out;
}

describe("PVC's forwarded bodies", () => {
  test("an urlencoded form loses its token value and keeps every other value", async () => {
    const type = "application/x-www-form-urlencoded";
    const request = new Request("http://a/api/v1/vm/x/define", {
      method: "POST",
      headers: { "content-type": type },
    });
    const body = enc(
      new URLSearchParams({ xml: "<domain a='1'/>", token: "secret-tok", node: "b" }).toString(),
    );
    const out = await withoutToken(request, body);
    expect(new TextDecoder().decode(out.body)).not.toContain("secret-tok");
    expect(await valuesOf(out.type ?? type, out.body)).toEqual({ xml: "<domain a='1'/>", node: "b" });
  });

  test("a multipart form (curl -F) loses its token part, re-encoded with its own boundary", async () => {
    const form = new FormData();
    form.append("xml", "<domain/>");
    form.append("token", "secret-tok");
    const sent = new Response(form);
    const type = sent.headers.get("content-type") as string;
    const request = new Request("http://a/api/v1/vm/x/define", {
      method: "POST",
      headers: { "content-type": type },
    });
    const out = await withoutToken(request, new Uint8Array(await sent.arrayBuffer()));
    expect(new TextDecoder().decode(out.body)).not.toContain("secret-tok");
    expect(out.type).toMatch(/^multipart\/form-data; boundary=/);
    expect(await valuesOf(out.type as string, out.body)).toEqual({ xml: "<domain/>" });
  });

  test("a body without a token, or not a form, is forwarded as it came", async () => {
    const type = "application/x-www-form-urlencoded";
    const body = enc("xml=%3Cdomain%2F%3E");
    const form = new Request("http://a/", { method: "POST", headers: { "content-type": type } });
    expect((await withoutToken(form, body)).body).toBe(body);
    const raw = new Request("http://a/", { method: "POST", headers: { "content-type": "application/xml" } });
    const xml = enc("<domain><name>token</name></domain>");
    expect((await withoutToken(raw, xml)).body).toBe(xml);
  });
});
