// `berth hash-password`: reads a password (no echo at a terminal, else stdin) and prints its argon2id hash for [auth] users.
import { BadRequest } from "../errors.ts";
import { readSecret } from "./prompt.ts";

/** The hash of a password as read from stdin: one trailing newline is the terminal's, not the password's. */
export async function hashPassword(input: string): Promise<string> {
  const password = input.replace(/\r?\n$/, "");
  if (password.length === 0) throw new BadRequest("hash-password: the password on stdin is empty");
  return await Bun.password.hash(password, { algorithm: "argon2id" });
}

/** Never takes the password as an argument: arguments are visible to every user in the process list. */
export async function runHashPassword(stdin: Blob = Bun.stdin): Promise<number> {
  if (process.stdin.isTTY) {
    const first = await readSecret("Password: ");
    const again = await readSecret("Repeat password: ");
    if (first !== again) throw new BadRequest("hash-password: the passwords differ");
    console.log(await hashPassword(first));
    return 0;
  }
  console.log(await hashPassword(await stdin.text()));
  return 0;
}
