// withBootPaths: only the kernel and initrd change; the rest of the definition reads the same.
import { expect, test } from "bun:test";
import { withBootPaths } from "../../../src/xml/boot-paths.ts";
import { fromXml } from "../../../src/xml/codec.ts";

const XML = `<domain type="qemu">
  <name>g1</name>
  <metadata><berth:vm xmlns:berth="https://berth.dev/xmlns/vm/1"><berth:id>abc</berth:id></berth:vm></metadata>
  <os><type arch="x86_64" machine="pc">hvm</type><kernel>/pool/img-1-kernel</kernel><initrd>/pool/img-1-initrd</initrd><cmdline>console=ttyS0</cmdline></os>
  <devices><disk type="file" device="disk"><source file="/pool/vm-abc-0.qcow2"/><target dev="sda" bus="scsi"/></disk></devices>
</domain>`;

test("kernel and initrd take the new paths, nothing else changes", () => {
  const out = withBootPaths(XML, { kernel: "/pool/img-2-kernel", initrd: "/pool/img-2-initrd" });
  const want = fromXml(XML);
  const os = (want.domain as { os: Record<string, unknown> }).os;
  os.kernel = "/pool/img-2-kernel";
  os.initrd = "/pool/img-2-initrd";
  expect(fromXml(out)).toEqual(want);
  expect(out).toContain("<kernel>/pool/img-2-kernel</kernel>");
  expect(out).not.toContain("img-1");
});

test("no initrd on the destination drops it; a definition without a kernel is refused", () => {
  expect(withBootPaths(XML, { kernel: "/k" })).not.toContain("<initrd>");
  expect(() => withBootPaths("<domain><os><type>hvm</type></os></domain>", { kernel: "/k" })).toThrow(
    /no <os><kernel>/,
  );
});
