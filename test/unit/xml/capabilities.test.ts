// Reading libvirt's capabilities XML, and what domain_type = "auto" picks from it.
import { expect, test } from "bun:test";
import { chooseDomainType, parseCapabilities } from "../../../src/xml/capabilities.ts";

test("capabilities parsing picks the host arch's domain types", () => {
  const caps = parseCapabilities(`<capabilities><host><cpu><arch>x86_64</arch></cpu></host>
    <guest><os_type>hvm</os_type><arch name='i686'><domain type='qemu'/></arch></guest>
    <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/><domain type='kvm'/></arch></guest>
  </capabilities>`);
  expect(caps).toEqual({ arch: "x86_64", domainTypes: ["qemu", "kvm"] });
  expect(chooseDomainType("auto", caps)).toBe("kvm");
  expect(chooseDomainType("qemu", caps)).toBe("qemu");
  expect(chooseDomainType("auto", { arch: "x86_64", domainTypes: ["qemu"] })).toBe("qemu");
});
