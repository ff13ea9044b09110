// Install-tree detection against a loopback server: .treeinfo, the Debian/Ubuntu layouts, netboot dirs, and refusals.

import { afterAll, describe, expect, test } from "bun:test";
import { checkInstall, installFromAgent } from "../../../src/core/vms/install.ts";
import { checkLocation, findInstallTree } from "../../../src/core/vms/install-tree.ts";
import { AppError } from "../../../src/errors.ts";
import { deadEnds } from "../../support/dead-ends.ts";
import { debianTree, fakeKernel, serveTree } from "./install-fixtures.ts";

const kernel = fakeKernel();
/** The tree servers listen on loopback. */
const PRIVATE = { allow_private_networks: true };
const initrd = new Uint8Array(1024);
const TREEINFO = `[header]
type = productmd.treeinfo
version = 1.2

[general]
family = Fedora
arch = x86_64

[tree]
arch = x86_64

[images-x86_64]
boot.iso = images/boot.iso
initrd = images/pxeboot/initrd.img
kernel = images/pxeboot/vmlinuz
`;

const server = serveTree({
  "/fedora/os/.treeinfo": TREEINFO,
  "/old/treeinfo":
    "[general]\narch = x86_64\n[images-x86_64]\nkernel = isolinux/vmlinuz\ninitrd = isolinux/initrd.img\n",
  "/arm/.treeinfo": "[general]\narch = aarch64\n[images-aarch64]\nkernel = k\ninitrd = i\n",
  "/noimages/.treeinfo": "[general]\narch = x86_64\n[images-xen]\nkernel = k\ninitrd = i\n",
  "/escape/.treeinfo": "[images-x86_64]\nkernel = ../../elsewhere/vmlinuz\ninitrd = initrd.img\n",
  "/offsite/.treeinfo": "[images-x86_64]\nkernel = http://192.0.2.1/vmlinuz\ninitrd = initrd.img\n",
  ...debianTree("/debian/dists/bookworm/", kernel, initrd),
  "/ubuntu/dists/focal/main/installer-amd64/current/legacy-images/MANIFEST":
    "netboot/ubuntu-installer/amd64/linux -- Ubuntu netboot\n",
  "/ubuntu/dists/focal/main/installer-amd64/current/legacy-images/netboot/ubuntu-installer/amd64/linux":
    kernel,
  "/ubuntu/dists/focal/main/installer-amd64/current/legacy-images/netboot/ubuntu-installer/amd64/initrd.gz":
    initrd,
  "/broken/main/installer-amd64/current/images/MANIFEST": "netboot/debian-installer/amd64/linux\n",
  "/nb/linux": kernel,
  "/nb/initrd.gz": initrd,
});
// Answers 200 with a page for every path, as some web front-ends do for anything unknown.
const spa = serveTree({}, { fallback: () => new Response("<html><body>hello</body></html>") });
afterAll(() => {
  server.stop();
  spa.stop();
});

const u = server.url;
const refusal = async (location: string) => {
  const e = await findInstallTree(location, PRIVATE).then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
};

describe("layouts berth detects", () => {
  test(".treeinfo: [images-x86_64] kernel and initrd, relative to the tree", async () => {
    expect(await findInstallTree(u("/fedora/os/"), PRIVATE)).toEqual({
      location: u("/fedora/os/"),
      layout: "treeinfo",
      kernel: u("/fedora/os/images/pxeboot/vmlinuz"),
      initrd: u("/fedora/os/images/pxeboot/initrd.img"),
    });
  });

  test("treeinfo without the dot (CDNs that hide dotfiles), location without its trailing slash", async () => {
    const t = await findInstallTree(u("/old"), PRIVATE);
    expect(t).toMatchObject({ layout: "treeinfo", location: u("/old/"), kernel: u("/old/isolinux/vmlinuz") });
  });

  test("Debian: the installer-amd64 directory virt-install takes, with or without the slash", async () => {
    const want = {
      layout: "debian-installer",
      kernel: u(
        "/debian/dists/bookworm/main/installer-amd64/current/images/netboot/debian-installer/amd64/linux",
      ),
      initrd: u(
        "/debian/dists/bookworm/main/installer-amd64/current/images/netboot/debian-installer/amd64/initrd.gz",
      ),
    };
    expect(await findInstallTree(u("/debian/dists/bookworm/main/installer-amd64/"), PRIVATE)).toMatchObject(
      want,
    );
    expect(await findInstallTree(u("/debian/dists/bookworm/main/installer-amd64"), PRIVATE)).toMatchObject(
      want,
    );
  });

  test("Debian: the suite root (…/dists/<suite>/) finds main/installer-amd64 under it", async () => {
    const t = await findInstallTree(u("/debian/dists/bookworm/"), PRIVATE);
    expect(t.layout).toBe("debian-installer");
    expect(t.location).toBe(u("/debian/dists/bookworm/"));
    expect(t.kernel).toEndWith("/main/installer-amd64/current/images/netboot/debian-installer/amd64/linux");
  });

  test("Ubuntu: legacy-images with ubuntu-installer (the MANIFEST names the distro)", async () => {
    const t = await findInstallTree(u("/ubuntu/dists/focal/main/installer-amd64"), PRIVATE);
    expect(t.kernel).toBe(
      u(
        "/ubuntu/dists/focal/main/installer-amd64/current/legacy-images/netboot/ubuntu-installer/amd64/linux",
      ),
    );
  });

  test("a netboot directory itself: linux and initrd.gz", async () => {
    expect(await findInstallTree(u("/nb/"), PRIVATE)).toEqual({
      location: u("/nb/"),
      layout: "netboot",
      kernel: u("/nb/linux"),
      initrd: u("/nb/initrd.gz"),
    });
  });
});

describe("what is not an install tree is a 400 not_an_install_tree", () => {
  const cases: [string, string][] = [
    ["/nothing/here/", "no .treeinfo"],
    ["/arm/", "is for aarch64"],
    ["/noimages/", "names no [images-x86_64] kernel and initrd"],
    ["/escape/", "points outside the tree"],
    ["/offsite/", "points outside the tree"],
    ["/broken/", "has no linux and initrd.gz"],
    ["/debian/dists/bookworm/main/installer-arm64/", "it is the arm64 installer"],
  ];
  for (const [path, why] of cases) {
    test(`${path}: ${why}`, async () => {
      const e = await refusal(u(path));
      expect(e.httpStatus).toBe(400);
      expect(e.errorCode).toBe("not_an_install_tree");
      expect(e.message).toContain(why);
    });
  }

  test("a server that answers every path with a page is read, and refused", async () => {
    const e = await refusal(spa.url("/"));
    expect(e.errorCode).toBe("not_an_install_tree");
    expect(e.message).toContain("names no [images-x86_64]");
  });

  test("nothing listening, a port that hangs up, one that speaks another protocol: the same 400 fetch failed", async () => {
    const ports = deadEnds();
    try {
      const reasons = new Set<string>();
      for (const p of [ports.closed, ports.hangUp, ports.ssh]) {
        const e = await refusal(`http://127.0.0.1:${p}/tree/`);
        expect(e.errorCode).toBe("not_an_install_tree");
        // The port is part of the URL berth names; what it says about it is always the same.
        reasons.add(e.message.replaceAll(String(p), "PORT"));
      }
      expect([...reasons]).toEqual([
        "http://127.0.0.1:PORT/tree/ could not be read: GET http://127.0.0.1:PORT/tree/.treeinfo: fetch failed",
      ]);
    } finally {
      ports.stop();
    }
  });
});

describe("addresses berth may not reach (allow_private_networks = false, the default)", () => {
  const PUBLIC = { allow_private_networks: false };
  for (const host of [
    "127.0.0.1",
    "[::1]",
    "2130706433",
    "0x7f000001",
    "localhost",
    "169.254.169.254",
    "10.0.0.1",
  ]) {
    test(`http://${host}/… is 400 address_not_allowed and nothing is asked`, async () => {
      const before = server.hits.length;
      const port = new URL(u("/")).port;
      const e = await findInstallTree(`http://${host}:${port}/fedora/os/`, PUBLIC).then(
        () => null,
        (x: unknown) => x as AppError,
      );
      expect(e).toMatchObject({ httpStatus: 400, errorCode: "address_not_allowed" });
      expect(e?.message).toEndWith(": refused: address not allowed");
      expect(server.hits.length).toBe(before);
    });
  }
});

describe("credentials in the location", () => {
  test("are used to read the tree but never appear in what berth says", async () => {
    const location = u("/nothing/").replace("http://", "http://mirror-user:s3cret@");
    const e = await refusal(location);
    expect(e.errorCode).toBe("not_an_install_tree");
    expect(e.message).not.toContain("s3cret");
    expect(e.message).not.toContain("mirror-user");
    expect(e.message).toStartWith(u("/nothing/").replace("http://", "http://***@"));
    expect(() => checkInstall({ location: "gopher://u:s3cret@h/" })).toThrow(/gopher:\/\/\*\*\*@h\//);
  });
});

describe("the request", () => {
  test("location must be an http or https URL; cmdline one line", () => {
    for (const [boot, msg] of [
      [{}, "needs location"],
      [{ location: "not a url" }, "is not a URL"],
      [{ location: "ftp://mirror/debian/" }, "only http and https"],
      [{ location: "file:///srv/tree/" }, "only http and https"],
      [{ location: "http://m/d/", cmdline: "a\nb" }, "control characters"],
    ] as const) {
      expect(() => checkInstall(boot)).toThrow(msg);
    }
    expect(() =>
      checkInstall({ location: "https://m/d/", cmdline: "console=ttyS0 auto=true" }),
    ).not.toThrow();
  });

  test("checkLocation drops query and fragment and adds the directory slash", () => {
    expect(checkLocation("http://m/debian/dists/x/main/installer-amd64?a=1#f").href).toBe(
      "http://m/debian/dists/x/main/installer-amd64/",
    );
  });

  test("the staging agent's install/location/cmdline map onto a create request's install", () => {
    expect(installFromAgent({})).toBeUndefined();
    expect(installFromAgent({ install: false, location: "http://m/" })).toBeUndefined();
    expect(installFromAgent({ install: true, location: "http://m/", cmdline: "x=1" })).toEqual({
      location: "http://m/",
      cmdline: "x=1",
    });
    expect(installFromAgent({ install: true, location: "http://m/" })).toEqual({ location: "http://m/" });
    expect(() => installFromAgent({ install: true })).toThrow("needs location");
  });
});
