// nftables through `nft -f -`: argv only (never a shell), the ruleset on stdin, every call bounded in time.
import { AppError } from "../../errors.ts";

const KILL_AFTER_MS = 15_000;

export class NftError extends AppError {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(502, "nft_error", message, opts);
  }
}

/** nft refused a ruleset (its own parser or the kernel's check): the caller's input was wrong. */
export class NftRejected extends AppError {
  constructor(message: string) {
    super(400, "invalid_request", message);
  }
}

/** The argv berth runs: `nft -f -`, with `-c` to check only. */
export const nftArgv = (check: boolean) => (check ? ["nft", "-c", "-f", "-"] : ["nft", "-f", "-"]);

async function run(argv: string[], input?: string): Promise<{ code: number; out: string }> {
  let proc: ReturnType<typeof Bun.spawn<"pipe", "pipe", "pipe">>;
  try {
    proc = Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "pipe", timeout: KILL_AFTER_MS });
  } catch (cause) {
    throw new NftError(`cannot run ${argv[0]}: ${(cause as Error).message}`, { cause });
  }
  if (input !== undefined) proc.stdin.write(input);
  await proc.stdin.end();
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  if (proc.signalCode) throw new NftError(`${argv.join(" ")} did not finish (${proc.signalCode})`);
  return { code, out: `${out}${err}`.trim() };
}

/** Checks `ruleset` with nft itself (`nft -c`); a refusal is NftRejected with nft's own words. */
export async function checkRuleset(ruleset: string): Promise<void> {
  const r = await run(nftArgv(true), ruleset);
  if (r.code !== 0) throw new NftRejected(`nftables refused the rules: ${r.out || `exit ${r.code}`}`);
}

/** Applies `ruleset` in one nft transaction (all of it or nothing). */
export async function applyRuleset(ruleset: string): Promise<void> {
  const r = await run(nftArgv(false), ruleset);
  if (r.code !== 0) throw new NftError(`nft -f failed: ${r.out || `exit ${r.code}`}`);
}

/** `nft list table <family> <name>`, or null when there is no such table. */
export async function listTable(family: string, name: string): Promise<string | null> {
  const r = await run(["nft", "list", "table", family, name]);
  if (r.code === 0) return r.out;
  if (/No such file or directory/.test(r.out)) return null;
  throw new NftError(`nft list table ${family} ${name} failed: ${r.out || `exit ${r.code}`}`);
}
